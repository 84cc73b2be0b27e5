/**
 * What a service needs to talk to Velociraptor on someone's behalf: the client, the org and a cancel signal. The MCP
 * tool context is one; services in dfir/ and deploy/ take this narrower shape so they never depend on the MCP layer.
 */
import type { Row, VelociraptorClient } from "./client.js";
import { vqlQuery } from "./query.js";

export interface VelociraptorSession {
  /** The Velociraptor client; throws NotConfiguredError (with how to configure) when none is configured. */
  client(): VelociraptorClient;
  /** The org to query; undefined means the server's default (root) org. */
  orgId?: string;
  signal: AbortSignal;
}

/** Runs `vql` with `params` passed through env (never spliced into the text) and returns up to `maxRows` rows. */
export async function rowsOf(session: VelociraptorSession, vql: string, params: Record<string, unknown> = {}, maxRows = 10_000): Promise<Row[]> {
  const r = await session.client().queryAll(vqlQuery(vql, params), { orgId: session.orgId, maxRows, signal: session.signal });
  return r.rows;
}
