/**
 * Bytes of one 50-row page per row tool, as a client receives it over MCP stdio: the text content, the structured
 * content, and the whole JSON-RPC result — once with output schemas off (the default tools/list) and once with them
 * on (--output-schemas). Target (issue 17): text and structured content are not both the full row set; the text a
 * model reads carries the page once, columns named once.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { existsSync, mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN } from "../test/helpers/mcp.js";
import { callPage, PAGE, PAGE_CALLS, pageBytes, startPageServer, type PageBytes } from "./pages.js";

async function measure(config: string, home: string, outputSchemas: boolean): Promise<Map<string, PageBytes>> {
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [MAIN, "mcp", "--config", config, "--audit-log", join(home, "audit.jsonl")],
      env: { PATH: process.env.PATH ?? "", HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_LOG_LEVEL: "error", MEGARAPTOR_TOOLSETS: "all", MEGARAPTOR_OUTPUT_SCHEMAS: outputSchemas ? "1" : "0" },
    }),
  );
  try {
    const out = new Map<string, PageBytes>();
    for (const c of PAGE_CALLS) {
      const b = pageBytes(await callPage(client, c.tool, c.args));
      // A page of the size asked for, or the figure would not be per 50-row page.
      if (b.rows !== PAGE) throw new Error(`${c.tool} returned ${b.rows} rows, not ${PAGE}: the figures would not be per ${PAGE}-row page`);
      out.set(c.tool, b);
    }
    return out;
  } finally {
    await client.close();
  }
}

export default async function bench(): Promise<void> {
  if (!existsSync(MAIN)) {
    console.log(`skipped: ${MAIN} missing — run npm run build first`);
    return;
  }
  const vr = await startPageServer();
  const home = mkdtempSync(join(tmpdir(), "mr-bench-bytes-"));
  try {
    const config = vr.writeApiClientYaml(home, "investigator");
    const kb = (n: number) => `${(n / 1024).toFixed(1).padStart(6)} KB`;
    for (const schemas of [false, true]) {
      const m = await measure(config, home, schemas);
      console.log(`\noutput schemas ${schemas ? "on (--output-schemas)" : "off (default)"}: bytes of one ${PAGE}-row page`);
      console.log(`${"tool".padEnd(18)} ${"text".padStart(9)} ${"structured".padStart(10)} ${"result".padStart(9)}  text/structured`);
      for (const [tool, b] of m) console.log(`${tool.padEnd(18)} ${kb(b.text)} ${kb(b.structured)} ${kb(b.result)}  ${b.structured ? (b.text / b.structured).toFixed(2) : "-"}`);
    }
    console.log(`\ntarget: text and structured content not both the full row set (text/structured well under 1, or no structured copy when no output schema is listed)`);
    console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  } finally {
    await vr.stop();
  }
}
