/**
 * Tool-call overhead: run_vql through the MCP stdio server versus the bare client, same query, 500 calls each.
 * Target: under 3 ms added at p50.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { VelociraptorClient } from "../velociraptor/client.js";
import { MAIN } from "../test/helpers/mcp.js";
import { startTestServer } from "../test-server/index.js";

const CALLS = 500;
const QUERY = "SELECT client_id, os_info.hostname AS hostname FROM clients() LIMIT 5";

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export default async function bench(): Promise<void> {
  if (!existsSync(MAIN)) {
    console.log(`skipped: ${MAIN} missing — run npm run build first`);
    return;
  }
  const vr = await startTestServer();
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-mcp-"));
  const config = vr.writeApiClientYaml(dir);
  const bare = VelociraptorClient.fromConfig(vr.apiClientConfig());
  const mcp = new Client({ name: "bench", version: "1" });
  await mcp.connect(
    new StdioClientTransport({ command: process.execPath, args: [MAIN, "mcp", "--config", config, "--audit-log", join(dir, "audit.jsonl")], env: { PATH: process.env.PATH ?? "", HOME: dir, MEGARAPTOR_LOG_LEVEL: "error" } }),
  );
  try {
    for (let i = 0; i < 20; i++) {
      await bare.queryAll(QUERY);
      await mcp.callTool({ name: "run_vql", arguments: { query: QUERY } });
    }
    const tBare: number[] = [];
    const tMcp: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      let t = performance.now();
      await bare.queryAll(QUERY);
      tBare.push(performance.now() - t);
      t = performance.now();
      const r = await mcp.callTool({ name: "run_vql", arguments: { query: QUERY } });
      tMcp.push(performance.now() - t);
      if (r.isError) throw new Error(JSON.stringify(r.content));
    }
    const f = (x: number) => `${x.toFixed(2)} ms`;
    console.log(`bare client  p50 ${f(pct(tBare, 50))}  p95 ${f(pct(tBare, 95))}`);
    console.log(`MCP run_vql  p50 ${f(pct(tMcp, 50))}  p95 ${f(pct(tMcp, 95))}`);
    console.log(`added        p50 ${f(pct(tMcp, 50) - pct(tBare, 50))}  p95 ${f(pct(tMcp, 95) - pct(tBare, 95))}  (target < 3 ms at p50)`);
  } finally {
    await mcp.close();
    bare.close();
    await vr.stop();
  }
}
