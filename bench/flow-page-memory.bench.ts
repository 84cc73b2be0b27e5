/**
 * Memory of one get_flow_results page from a 1,000,000-row flow versus a 100-row flow: pages are fetched
 * server-side (source(start_row, count)), so the MCP server's memory must not grow with the flow's size.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN } from "../test/helpers/mcp.js";
import { startTestServer } from "../test-server/index.js";

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+)/.exec(status)![1]) * 1024;
}

async function measure(flowRows: number): Promise<{ peak: number; ms: number }> {
  const vr = await startTestServer({
    fixture: {
      ...JSON.parse(readFileSync(join(import.meta.dirname, "..", "test", "fixtures", "default.json"), "utf8")),
    },
  });
  const flow = vr.model.org("root")!.flows.get("C.2b3c4d5e6f7a8b01/F.BIGSTREAM01")!;
  flow.results = { "Linux.Sys.Pslist": { generate: { rows: flowRows, seed: 7, kind: "process" } } };
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-page-"));
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, "mcp", "--config", vr.writeApiClientYaml(dir), "--audit-log", join(dir, "a.jsonl")], env: { PATH: process.env.PATH ?? "", HOME: dir, MEGARAPTOR_LOG_LEVEL: "error" } });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  const t = performance.now();
  for (let i = 0; i < 20; i++)
    await client.callTool({ name: "get_flow_results", arguments: { client_id: "C.2b3c4d5e6f7a8b01", flow_id: "F.BIGSTREAM01", limit: 1000, offset: Math.floor((flowRows - 1000) * (i / 20)) } });
  const ms = (performance.now() - t) / 20;
  const peak = rssOf(transport.pid!);
  await client.close();
  await vr.stop();
  return { peak, ms };
}

export default async function bench(): Promise<void> {
  if (!existsSync(MAIN)) {
    console.log(`skipped: ${MAIN} missing — run npm run build first`);
    return;
  }
  const small = await measure(2_000);
  const big = await measure(1_000_000);
  console.log(`2k-row flow:  MCP server peak RSS ${(small.peak / 1e6).toFixed(0)} MB, ${small.ms.toFixed(0)} ms per 1000-row page`);
  console.log(`1M-row flow:  MCP server peak RSS ${(big.peak / 1e6).toFixed(0)} MB, ${big.ms.toFixed(0)} ms per 1000-row page`);
  console.log(`growth        ${((big.peak - small.peak) / 1e6).toFixed(1)} MB for 500× more rows (target: flat)`);
}
