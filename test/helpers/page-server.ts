/**
 * A test server whose rows are realistic and plentiful enough for full 50-row pages of every row tool (page-results
 * tests, bench/page-bytes and bench/mcp-overhead): the incident fixture (Windows and Linux rows in the column forms of
 * Velociraptor v0.77.2's artifacts) with the Linux.Sys.Pslist flows of its Linux hunt H.PSLIN00001 replaced by the test
 * server's generated process rows (test-server/model.ts generatedRows: Pid, Ppid, Name, CommandLine, Exe,
 * Hash{MD5,SHA1,SHA256}, Username, CreateTime, RSS, Deleted — Linux.Sys.Pslist's columns), about 430 bytes a row.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../core/paths.js";
import type { FixtureInput } from "../../test-server/fixture-schema.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";

export const WEB = "C.2b3c4d5e6f7a8b01";
export const DB = "C.2b3c4d5e6f7a8b02";
export const PAGE = 50;
const ROWS_PER_FLOW = 2_000;

export async function startPageServer(): Promise<TestServer> {
  const f = JSON.parse(readFileSync(join(packageRoot(), "test", "fixtures", "incident.json"), "utf8")) as FixtureInput;
  for (const flow of f.orgs[0]!.flows!)
    if (flow.session_id === "F.WEBPSLIST1" || flow.session_id === "F.DBPSLIST01") flow.results = { "Linux.Sys.Pslist": { generate: { rows: ROWS_PER_FLOW, seed: flow.session_id.length + (flow.client_id === WEB ? 1 : 2), kind: "process" } } };
  return startTestServer({ fixture: f as never });
}

/** One 50-row page of each row tool, reading the same generated Linux.Sys.Pslist rows. */
export const PAGE_CALLS: { tool: string; args: Record<string, unknown> }[] = [
  { tool: "get_flow_results", args: { client_id: WEB, flow_id: "F.WEBPSLIST1", limit: PAGE } },
  { tool: "run_vql", args: { query: "SELECT * FROM source(client_id=C, flow_id=F, artifact='Linux.Sys.Pslist')", env: { C: WEB, F: "F.WEBPSLIST1" }, limit: PAGE } },
  { tool: "generate_timeline", args: { client_id: WEB, format: "rows", limit: PAGE } },
  { tool: "get_hunt_results", args: { hunt_id: "H.PSLIN00001", limit: PAGE } },
];
