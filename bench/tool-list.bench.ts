/**
 * The size of `tools/list` per mode and toolset: what an MCP client receives and hands its model before the first
 * question (compact JSON bytes; tokens estimated at 4 bytes each). Measured through the real server (in-process, the
 * SDK's in-memory transport). Target: the default investigation list (mode investigate, default toolsets) ≤ 40 KB.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildMcpServer, Runtime } from "../mcp/server/index.js";
import type { Mode } from "../mcp/safety/mode.js";
import { parseToolsets, TOOLSET_NAMES } from "../mcp/tools/toolsets.js";

const TARGET = 40 * 1024;

async function measure(mode: Mode, toolsets: string, outputSchemas = false): Promise<{ tools: number; bytes: number }> {
  const home = mkdtempSync(join(tmpdir(), "mr-bench-list-"));
  const server = buildMcpServer(new Runtime({ mode, auditPath: join(home, "audit.jsonl"), toolsets: parseToolsets(toolsets), outputSchemas }));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "bench-tool-list", version: "1" });
  await client.connect(b);
  const list = await client.listTools();
  await client.close();
  return { tools: list.tools.length, bytes: JSON.stringify(list).length };
}

export default async function bench(): Promise<void> {
  const rows: string[][] = [];
  const row = async (mode: Mode, toolsets: string, outputSchemas = false) => {
    const m = await measure(mode, toolsets, outputSchemas);
    rows.push([mode, toolsets + (outputSchemas ? " +output schemas" : ""), String(m.tools), (m.bytes / 1024).toFixed(1), String(Math.round(m.bytes / 4))]);
    return m;
  };
  let target = { tools: 0, bytes: 0 };
  for (const mode of ["read-only", "investigate", "respond"] as const) {
    const m = await row(mode, "default");
    if (mode === "investigate") target = m;
    await row(mode, "all");
  }
  await row("respond", "all", true);
  for (const set of TOOLSET_NAMES.filter((n) => n !== "core")) await row("respond", set);
  console.log("mode\ttoolsets\ttools\tKB\t~tokens");
  for (const r of rows) console.log(r.join("\t"));
  console.log(`default investigation list: ${(target.bytes / 1024).toFixed(1)} KB for ${target.tools} tools (target ≤ ${TARGET / 1024} KB): ${target.bytes <= TARGET ? "met" : "NOT met"}`);
}
