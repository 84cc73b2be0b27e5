/**
 * Shared by page-bytes and mcp-overhead: what one tools/call result weighs (text, structured content, the whole
 * result), over the page calls and test server of test/helpers/page-server.ts.
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";

export { PAGE, PAGE_CALLS, startPageServer } from "../test/helpers/page-server.js";

export interface PageBytes {
  /** UTF-8 bytes of every content[].text. */
  text: number;
  /** UTF-8 bytes of structuredContent as JSON (0 when absent). */
  structured: number;
  /** UTF-8 bytes of the whole JSON-RPC result object. */
  result: number;
  rows: number;
}

const utf8 = (s: string) => Buffer.byteLength(s, "utf8");

export function pageBytes(r: CallToolResult): PageBytes {
  const text = r.content.reduce((n, c) => n + (c.type === "text" ? utf8(c.text) : 0), 0);
  const sc = r.structuredContent as { rows?: unknown[]; events?: unknown[] } | undefined;
  const rows = sc?.rows?.length ?? sc?.events?.length ?? rowsInText(r);
  return { text, structured: sc ? utf8(JSON.stringify(sc)) : 0, result: utf8(JSON.stringify(r)), rows };
}

/** Rows of a page when there is no structured content: the compact table's row lines, or the timeline's event lines. */
function rowsInText(r: CallToolResult): number {
  const text = r.content.map((c) => (c.type === "text" ? c.text : "")).join("\n");
  return text.split("\n").filter((l) => l.startsWith("[") || /^\d{4}-\d\d-\d\dT/.test(l)).length;
}

export async function callPage(client: Client, tool: string, args: Record<string, unknown>): Promise<CallToolResult> {
  const r = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
  if (r.isError) throw new Error(`${tool}: ${r.content.map((c) => (c.type === "text" ? c.text : "")).join(" ")}`);
  return r;
}
