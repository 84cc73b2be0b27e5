/**
 * Pages of rows over MCP (issue 17): the text a model reads carries the whole page — coverage, columns, every row's
 * values, next_cursor — written once; where no output schema is listed the result is that text alone, and where output
 * schemas are listed the structured content is there and conforms to them (the MCP spec's MUST) while the text is the
 * compact rendering, not a second copy of every row. The built server over stdio, 50-row pages of realistic
 * Linux.Sys.Pslist rows (test/helpers/page-server.ts).
 */
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../../test-server/index.js";
import { call, startMcp, type StartedMcp } from "../helpers/mcp.js";
import { PAGE, PAGE_CALLS, startPageServer } from "../helpers/page-server.js";

/** The tools whose page text renders every value of their structured result. */
const ROW_TOOLS = PAGE_CALLS.filter((c) => c.tool !== "generate_timeline");

let vr: TestServer;
let plain: StartedMcp; // output schemas off: the default tools/list
let typed: StartedMcp; // --output-schemas
let schemas: Map<string, Tool>;

beforeAll(async () => {
  vr = await startPageServer();
  const config = vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-pages-")), "investigator");
  [plain, typed] = await Promise.all([
    startMcp({ args: ["--config", config], env: { MEGARAPTOR_OUTPUT_SCHEMAS: "0" } }),
    startMcp({ args: ["--config", config] }),
  ]);
  // Listing the tools makes the SDK client check each structured result against its schema too.
  schemas = new Map((await typed.client.listTools()).tools.map((t) => [t.name, t]));
});
afterAll(async () => {
  await plain?.close();
  await typed?.close();
  await vr?.stop();
});

/** The rows a model reads back from a page text: each JSON array against the columns line; objects as they are. */
function rowsOfText(text: string): Record<string, unknown>[] {
  const lines = text.split("\n");
  const at = lines.findIndex((l) => l.startsWith("columns: "));
  if (at < 0) return [];
  const columns = JSON.parse(lines[at]!.slice("columns: ".length)) as string[];
  return lines
    .slice(at + 1)
    .filter((l) => l.startsWith("[") || l.startsWith("{"))
    .map((l) => {
      const v = JSON.parse(l) as unknown;
      return Array.isArray(v) ? Object.fromEntries(columns.map((c, i) => [c, v[i]])) : (v as Record<string, unknown>);
    });
}

const nextCursorOf = (text: string) => /^next_cursor: (\S+)$/m.exec(text)?.[1];

describe("a page's text alone (output schemas off, the default)", () => {
  it.each(ROW_TOOLS)("$tool: text only, and it holds the same rows, coverage and paging as the structured page", async ({ tool, args }) => {
    const [t, s] = await Promise.all([call(plain.client, tool, args), call(typed.client, tool, args)]);
    expect(t.ok, t.text).toBe(true);
    expect(t.structured, "no second copy of the rows where no output schema is listed").toBeUndefined();
    expect(rowsOfText(t.text)).toEqual(s.structured!.rows);
    expect(rowsOfText(t.text)).toHaveLength(PAGE);
    expect(t.text.split("\n")[0]).toContain(`${PAGE} row(s) [${s.structured!.coverage.status}] ${s.structured!.coverage.note}`);
    expect(nextCursorOf(t.text), "the next_cursor value itself").toBeTruthy();
  });

  it.each(ROW_TOOLS)("$tool: the next_cursor read from the text pages on", async ({ tool, args }) => {
    const first = await call(plain.client, tool, args);
    const second = await call(plain.client, tool, { ...args, cursor: nextCursorOf(first.text) });
    expect(second.ok, second.text).toBe(true);
    expect(second.text.split("\n")[0]).toContain(`Rows ${PAGE + 1}–${2 * PAGE}.`);
    const [a, b] = [rowsOfText(first.text), rowsOfText(second.text)];
    expect(b).toHaveLength(PAGE);
    expect(new Set([...a, ...b].map((r) => JSON.stringify(r))).size, "the second page continues, it does not repeat").toBe(2 * PAGE);
  });

  it("the text names the columns once, not on every row", async () => {
    const r = await call(plain.client, "get_flow_results", ROW_TOOLS[0]!.args);
    expect(r.text.match(/"CommandLine"/g)).toHaveLength(1);
  });

  it("generate_timeline keeps its structured events (their flow ids and fields are not on the text lines) beside one line per event", async () => {
    const tl = PAGE_CALLS.find((c) => c.tool === "generate_timeline")!;
    const r = await call(plain.client, tl.tool, tl.args);
    expect(r.structured!.events).toHaveLength(PAGE);
    expect(r.text.split("\n").filter((l) => /^\d{4}-\d\d-\d\dT/.test(l))).toHaveLength(PAGE);
    expect(r.text).toContain(`next_cursor: ${r.structured!.page.next_cursor}`);
  });
});

describe("with output schemas listed (--output-schemas)", () => {
  it.each(PAGE_CALLS)("$tool: structured content is there and conforms to the listed outputSchema", async ({ tool, args }) => {
    const r = await call(typed.client, tool, args);
    expect(r.ok, r.text).toBe(true);
    const schema = schemas.get(tool)?.outputSchema;
    expect(schema, `${tool} lists an outputSchema`).toBeDefined();
    const check = new AjvJsonSchemaValidator().getValidator(schema as never)(r.structured);
    expect(check.errorMessage).toBeUndefined();
    expect(check.valid).toBe(true);
  });

  it.each(PAGE_CALLS)("$tool: the text is not a second full copy of the page (under 90% of the structured bytes)", async ({ tool, args }) => {
    const r = await call(typed.client, tool, args);
    const text = Buffer.byteLength(r.text);
    const structured = Buffer.byteLength(JSON.stringify(r.structured));
    expect(text / structured).toBeLessThan(0.9);
  });

  it.each(ROW_TOOLS)("$tool: the text still carries every row of the page", async ({ tool, args }) => {
    const r = await call(typed.client, tool, args);
    expect(rowsOfText(r.text)).toEqual(r.structured!.rows);
    expect(r.text).toContain(`next_cursor: ${r.structured!.page.next_cursor}`);
  });
});
