/**
 * A wire-compatible Velociraptor API server for tests and manual trials: real gRPC over real mutual TLS, answering
 * VQL from an in-memory model with Velociraptor's documented streaming behaviour (batches by max_row / max_wait,
 * the final batch always sent, logs as separate messages, VQL errors as log lines, permission errors as status).
 */
import * as grpc from "@grpc/grpc-js";
import { once } from "node:events";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { apiServiceDefinition, type WireVFSFileBuffer, type WireVQLCollectorArgs, type WireVQLResponse } from "../proto/wire.js";
import { parseVql } from "../velociraptor/vql/parser.js";
import { packageRoot } from "../core/paths.js";
import type { IssuedCert } from "../components/pki/x509.js";
import type { ApiClientConfig } from "../velociraptor/config.js";
import { Evaluator, Scope } from "./evaluator.js";
import type { FixtureInput } from "./fixture-schema.js";
import { Model, type Row } from "./model.js";
import { createTestPki, type ClientName, type TestPki } from "./pki.js";

export { createTestPki, badServerCertificates, type TestPki, type ClientName } from "./pki.js";
export { Model } from "./model.js";
export type { FixtureInput } from "./fixture-schema.js";

export const DEFAULT_FIXTURE = join(packageRoot(), "test", "fixtures", "default.json");

export interface TestServerOptions {
  /** A fixture file path or object; the default fixture otherwise. */
  fixture?: string | FixtureInput;
  /** 0 (default) = an ephemeral port. */
  port?: number;
  host?: string;
  pki?: TestPki;
  /** Serve with this certificate instead of the valid VelociraptorServer one (TLS failure tests). */
  serverCert?: IssuedCert;
  /** Bind only after this many milliseconds (retry tests); the port is reserved up front. */
  lateStartMs?: number;
  /** How long new collections stay RUNNING. */
  flowCompletionMs?: number;
}

/** The api_client.yaml fields, typed as the client reads them. */
export type ApiClientYaml = ApiClientConfig;

export interface TestServer {
  port: number;
  address: string;
  pki: TestPki;
  model: Model;
  stats: ServerStats;
  /** Resolves once the server listens (immediately unless lateStartMs). */
  ready: Promise<void>;
  apiClientConfig(user?: ClientName): ApiClientYaml;
  writeApiClientYaml(dir: string, user?: ClientName): string;
  /** Graceful stop. */
  stop(): Promise<void>;
  /** Abrupt stop: every open stream is cut (for "server died mid-stream" tests). */
  kill(): void;
}

const USER_OF: Record<ClientName, string> = {
  admin: "admin",
  reader: "reader",
  investigator: "investigator",
  noPermissions: "noperm",
  unknownUser: "mallory",
  foreignCa: "admin",
  expired: "admin",
};

async function freePort(host: string): Promise<number> {
  const s = createServer();
  s.listen(0, host);
  await once(s, "listening");
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, "close");
  return port;
}

function nowUs(): string {
  return String(Date.now() * 1000);
}

function peerUser(call: { getAuthContext(): { sslPeerCertificate?: { subject?: { CN?: string } } } }): string {
  return call.getAuthContext().sslPeerCertificate?.subject?.CN ?? "";
}

function status(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

export interface ServerStats {
  /** Queries currently running. */
  active: number;
  /** Queries that ended because the client cancelled or went away. */
  cancelled: number;
  completed: number;
  /** The last VQLCollectorArgs received, as decoded (tests inspect env and options). */
  lastRequest?: WireVQLCollectorArgs;
}

async function runQuery(model: Model, stats: ServerStats, call: grpc.ServerWritableStream<WireVQLCollectorArgs, WireVQLResponse>): Promise<void> {
  const args = call.request;
  stats.lastRequest = args;
  const user = peerUser(call as never);
  const orgId = args.org_id || "root";
  if (!args.Query?.length) return void call.emit("error", status(grpc.status.INVALID_ARGUMENT, "Query should be specified."));
  const perms = model.permissions(user, orgId);
  if (!perms) return void call.emit("error", status(grpc.status.PERMISSION_DENIED, `Permission denied: User ${user} is not a known user on this server.`));
  const org = model.org(orgId);
  if (!org) return void call.emit("error", status(grpc.status.NOT_FOUND, `Org ${orgId} not found`));
  if (!perms.has("ANY_QUERY")) return void call.emit("error", status(grpc.status.PERMISSION_DENIED, `Permission denied: User ${user} requires permission ANY_QUERY to run queries`));

  const maxRow = Number(args.max_row);
  const maxWaitMs = (Number(args.max_wait) || 10) * 1000;
  const timeoutS = Number(args.timeout) || 0;
  const abort = new AbortController();
  const onCancel = () => abort.abort();
  call.on("cancelled", onCancel);
  call.on("close", onCancel);
  let timedOut = false;
  const timer = timeoutS > 0 ? setTimeout(() => ((timedOut = true), abort.abort()), timeoutS * 1000) : undefined;
  const started = Date.now();
  stats.active++;

  const aborted = new Promise<void>((r) => abort.signal.addEventListener("abort", () => r(), { once: true }));
  const write = async (msg: Partial<WireVQLResponse>) => {
    if (abort.signal.aborted && !timedOut) return;
    // Back-pressure: a million-row answer must not pile up in memory when the client reads slowly.
    if (!call.write(msg as WireVQLResponse)) await Promise.race([once(call, "drain"), aborted]);
  };
  const log = (message: string) => void write({ log: `${message}\n`, timestamp: nowUs() });

  const scope = new Scope();
  for (const e of args.env ?? []) scope.set(e.key, e.value);
  const evaluator = new Evaluator({ model, user, org, permissions: perms, log, signal: abort.signal });

  try {
    for (const request of args.Query) {
      log("Starting query execution.");
      const parsed = parseVql(request.VQL ?? "");
      if (parsed.errors.length) {
        log(`VQL Error: ${parsed.errors[0]!.message}`);
        continue;
      }
      for (let index = 0; index < parsed.statements.length; index++) {
        const st = parsed.statements[index]!;
        let part = 0;
        let batch: Row[] = [];
        let lastSend = Date.now();
        // The batch is taken before the write waits for drain, and the max_wait timer never starts a second flush
        // while one is waiting: otherwise a slow reader receives the same batch twice.
        let flushing: Promise<void> | undefined;
        const send = async () => {
          const rows = batch;
          const thisPart = part++;
          batch = [];
          lastSend = Date.now();
          const Response = JSON.stringify(rows);
          await write({
            Response,
            Columns: rows.length ? Object.keys(rows[0]!) : [],
            Query: { VQL: request.VQL, Name: request.Name },
            query_id: index,
            part: thisPart,
            timestamp: nowUs(),
          });
          log(`Time ${((Date.now() - started) / 1000).toFixed(3)}: ${request.Name}: Sending response part ${thisPart} ${Response.length} B (${rows.length} rows).`);
        };
        const flush = async (final = false) => {
          while (flushing) await flushing;
          // The timer may have just sent these rows; only a statement's last batch goes out empty.
          if (!final && !batch.length) return;
          flushing = send().finally(() => (flushing = undefined));
          await flushing;
        };
        const waiter = setInterval(() => {
          if (!flushing && batch.length && Date.now() - lastSend >= maxWaitMs) void flush();
        }, Math.min(maxWaitMs, 250));
        try {
          for await (const row of evaluator.statement(st, scope)) {
            if (abort.signal.aborted) break;
            if (batch.length >= maxRow) await flush();
            batch.push(row);
          }
        } finally {
          clearInterval(waiter);
        }
        if (abort.signal.aborted) break;
        // LET produces no messages; every SELECT ends with a (possibly empty) batch.
        if (st.kind === "select") await flush(true);
      }
      if (abort.signal.aborted) break;
    }
    if (timedOut) log(`query: <red>Timeout Error:</> Query timed out after ${timeoutS} seconds`);
    log(`DEBUG:Query Stats: {"RowsScanned":0,"PluginsCalled":0,"FunctionsCalled":0,"ProtocolSearch":0,"ScopeCopy":0}`);
  } catch (err) {
    log(`ERROR:${(err as Error).message}`);
  } finally {
    if (timer) clearTimeout(timer);
    stats.active--;
    if (abort.signal.aborted && !timedOut) stats.cancelled++;
    else stats.completed++;
    call.off("cancelled", onCancel);
    if (!call.cancelled && !call.destroyed) call.end();
  }
}

/** Starts a server. Await `ready` if you passed lateStartMs. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const pki = opts.pki ?? (await createTestPki());
  const model = typeof opts.fixture === "object" ? new Model(opts.fixture) : Model.fromFile(opts.fixture ?? DEFAULT_FIXTURE);
  if (opts.flowCompletionMs !== undefined) model.flowCompletionMs = opts.flowCompletionMs;
  const host = opts.host ?? "127.0.0.1";
  const serverCert = opts.serverCert ?? pki.server;
  const stats: ServerStats = { active: 0, cancelled: 0, completed: 0 };
  const server = new grpc.Server({ "grpc.max_send_message_length": -1, "grpc.max_receive_message_length": 64 * 1024 * 1024 });

  server.addService(apiServiceDefinition(), {
    Query: (call: grpc.ServerWritableStream<WireVQLCollectorArgs, WireVQLResponse>) => void runQuery(model, stats, call),
    VFSGetBuffer: (call: grpc.ServerUnaryCall<WireVFSFileBuffer, WireVFSFileBuffer>, cb: grpc.sendUnaryData<Partial<WireVFSFileBuffer>>) => {
      const user = peerUser(call as never);
      const perms = model.permissions(user, call.request.org_id);
      if (!perms?.has("READ_RESULTS")) return cb(status(grpc.status.PERMISSION_DENIED, `Permission denied: User ${user} requires permission READ_RESULTS`));
      const data = model.readFileStore(call.request.org_id, call.request.components, Number(call.request.offset), call.request.length);
      if (!data) return cb(status(grpc.status.NOT_FOUND, `file ${call.request.components.join("/")} not found`));
      cb(null, { ...call.request, data });
    },
    PushEvents: (_call: unknown, cb: grpc.sendUnaryData<object>) => cb(null, {}),
    Check: (_call: unknown, cb: grpc.sendUnaryData<{ status: string }>) => cb(null, { status: "SERVING" }),
  });

  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(pki.ca.certificate),
    [{ cert_chain: Buffer.from(serverCert.certificate), private_key: Buffer.from(serverCert.privateKey) }],
    true,
  );
  const port = opts.port || (await freePort(host));
  const bind = () =>
    new Promise<void>((resolve, reject) =>
      server.bindAsync(`${host}:${port}`, creds, (err) => (err ? reject(err) : resolve())),
    );
  const ready = opts.lateStartMs ? new Promise<void>((r) => setTimeout(r, opts.lateStartMs)).then(bind) : bind();
  if (!opts.lateStartMs) await ready;
  const address = `${host}:${port}`;

  const apiClientConfig = (who: ClientName = "admin"): ApiClientYaml => {
    const cert = pki.clients[who];
    return {
      ca_certificate: pki.ca.certificate,
      client_cert: cert.certificate,
      client_private_key: cert.privateKey,
      api_connection_string: address,
      name: USER_OF[who],
    };
  };

  return {
    port,
    address,
    pki,
    model,
    stats,
    ready,
    apiClientConfig,
    writeApiClientYaml(dir, who = "admin") {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `api_client.${who}.yaml`);
      writeFileSync(path, toYaml(apiClientConfig(who)), { mode: 0o600 });
      chmodSync(path, 0o600);
      return path;
    },
    stop: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    kill: () => server.forceShutdown(),
  };
}
