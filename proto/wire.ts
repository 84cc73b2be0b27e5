/**
 * The one module that touches the wire: it loads proto/velociraptor.proto and exposes the service definition
 * and message shapes as the loader produces them. Everything else converts to the project's own types.
 */
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { join } from "node:path";
import { packageRoot } from "../core/paths.js";

// longs as strings keep uint64 exact; defaults make absent proto3 fields read as "" / 0 rather than undefined.
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export interface WireVQLRequest { VQL: string; Name: string }
export interface WireVQLEnv { key: string; value: string; comment?: string }
export interface WireVQLCollectorArgs {
  Query: WireVQLRequest[];
  env: WireVQLEnv[];
  max_row: number | string;
  max_wait: number | string;
  timeout: number | string;
  org_id: string;
  cpu_limit?: number;
  principal?: string;
}
export interface WireVQLResponse {
  Response: string;
  Columns: string[];
  Query?: WireVQLRequest | null;
  timestamp: string | number;
  query_id: string | number;
  part: string | number;
  total_rows?: string | number;
  log: string;
  org_id?: string;
}
export interface WireVFSFileBuffer {
  client_id: string;
  offset: string | number;
  length: number;
  data: Buffer;
  components: string[];
  org_id: string;
}
export interface WireHealthCheckResponse { status: "UNKNOWN" | "SERVING" | "NOT_SERVING" }

let cached: grpc.ServiceDefinition | undefined;

/** The `proto.API` service definition, for both the client constructor and the test server. */
export function apiServiceDefinition(): grpc.ServiceDefinition {
  if (!cached) {
    const def = protoLoader.loadSync(join(packageRoot(), "proto", "velociraptor.proto"), LOADER_OPTIONS);
    const pkg = grpc.loadPackageDefinition(def) as unknown as { proto: { API: grpc.ServiceClientConstructor } };
    cached = pkg.proto.API.service;
  }
  return cached;
}

export type ApiClientConstructor = grpc.ServiceClientConstructor;

/** A generic client class for `proto.API`. */
export function apiClientConstructor(): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(apiServiceDefinition(), "API");
}
