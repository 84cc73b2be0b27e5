/**
 * The bare client of bench/mcp-overhead.bench.ts in its own process: reads one JSON request per stdin line
 * ({ id, vql, env, maxRows, batchRows }), runs it with VelociraptorClient.queryAll and writes { id, rows } as one JSON line on
 * stdout. That is the MCP server's process layout (caller → stdio → second process → gRPC → test server → back)
 * without MCP, the SDK or the executor, so the bench can say how much of run_vql's added time is the layout itself.
 *
 * usage: node --import tsx bench/bare-child.ts API_CLIENT_YAML
 */
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { parseApiClientYaml } from "../velociraptor/config.js";
import { VelociraptorClient } from "../velociraptor/client.js";

const [config] = process.argv.slice(2);
if (!config) {
  console.error("usage: bare-child.ts API_CLIENT_YAML");
  process.exit(2);
}
const client = VelociraptorClient.fromConfig(parseApiClientYaml(readFileSync(config, "utf8"), config));
for await (const line of createInterface({ input: process.stdin })) {
  const q = JSON.parse(line) as { id: number; vql: string; env: Record<string, string>; maxRows: number; batchRows: number };
  const r = await client.queryAll({ vql: q.vql, env: q.env }, { maxRows: q.maxRows, batchRows: q.batchRows });
  process.stdout.write(`${JSON.stringify({ id: q.id, rows: r.rows })}\n`);
}
client.close();
