/** The compact page text (mcp/tools/page-text.ts): every value once, columns named once, nothing lost. */
import { describe, expect, it } from "vitest";
import { compactRows, renderRowsText } from "../../mcp/tools/page-text.js";
import { lineWriter } from "../../mcp/tools/page-text.js";
import { shapeRows } from "../../mcp/tools/shape.js";

/** What a model reading the text reconstructs: arrays against the columns line, objects as they are. */
function readBack(lines: string[]): Record<string, unknown>[] {
  const columns = JSON.parse(lines[0]!.replace(/^columns: /, "")) as string[];
  return lines.slice(1).map((l) => {
    const v = JSON.parse(l) as unknown;
    return Array.isArray(v) ? Object.fromEntries(columns.map((c, i) => [c, v[i]])) : (v as Record<string, unknown>);
  });
}

describe("compact rows", () => {
  it("names the columns once and gives each row its values in that order", () => {
    const rows = [
      { Pid: "1000", Name: "sshd", Hash: { MD5: "a".repeat(32) } },
      { Pid: "1001", Name: "bash", Hash: null },
    ];
    const lines = compactRows(rows);
    expect(lines).toEqual(['columns: ["Pid","Name","Hash"]', `["1000","sshd",{"MD5":"${"a".repeat(32)}"}]`, '["1001","bash",null]']);
    expect(readBack(lines)).toEqual(rows);
  });

  it("keeps a row of another shape as an object, so null and an absent column stay distinct", () => {
    const rows = [{ a: 1, b: null }, { a: 2 }, { b: 3, a: 4 }, { a: 5, b: 6, c: 7 }];
    const lines = compactRows(rows);
    expect(lines[2]).toBe('{"a":2}');
    expect(lines[3]).toBe("[4,3]"); // same keys in another order: still the columns' order
    expect(readBack(lines)).toEqual([{ a: 1, b: null }, { a: 2 }, { a: 4, b: 3 }, { a: 5, b: 6, c: 7 }]);
  });

  it("is smaller than a JSON object per row for rows with more than a couple of columns", () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ Pid: String(i), Ppid: "1", Name: "nginx", Username: "root", CreateTime: "2026-11-18T07:00:01Z", RSS: 1024 * i }));
    const compact = compactRows(rows).join("\n").length;
    const objects = rows.map((r) => JSON.stringify(r)).join("\n").length;
    expect(compact).toBeLessThan(objects * 0.6);
  });
});

describe("page text", () => {
  it("carries the coverage, where the page sits, the rows and the next_cursor value", () => {
    const rows = Array.from({ length: 11 }, (_, i) => ({ n: i }));
    const shaped = shapeRows({ rows, offset: 20, limit: 10, queryKey: "q", total: 100 });
    const text = renderRowsText("Results", shaped, ["state-changing calls: label"]).split("\n");
    expect(text[0]).toBe("Results: 10 row(s) [truncated] More rows exist beyond this page (100 in total); pass next_cursor for the next page. Rows 21–30.");
    expect(text[1]).toBe('columns: ["n"]');
    expect(text.slice(2, 12)).toEqual(Array.from({ length: 10 }, (_, i) => `[${i}]`));
    expect(text[12]).toBe("state-changing calls: label");
    expect(text[13]).toBe(`next_cursor: ${shaped.page.next_cursor}`);
  });

  it("says the total when the coverage note does not, and no columns line for an empty page", () => {
    const shaped = shapeRows({ rows: [], offset: 0, limit: 10, queryKey: "q", total: 0 });
    expect(renderRowsText("Results", shaped)).toBe("Results: 0 row(s) [exhaustive] All rows are shown. 0 in total.");
  });
});

/**
 * shapeRows writes each row's compact line once, sizes the page for its byte cap from it and hands the lines to
 * renderRowsText: the text must be byte for byte what rendering the rows afresh gives, and the sizes what
 * JSON.stringify(row).length gives (the cap's measure before the lines were reused).
 */
describe("lines written once", () => {
  const odd = [
    { Pid: "1", Name: "sshd", Hash: { MD5: "a\"b" }, CreateTime: 1_763_900_000, Note: "ünïcode ✓" },
    { Pid: "2", Name: undefined, Hash: null, CreateTime: 1_763_900_001, Note: "" }, // undefined: null in an array, absent in an object
    { Pid: "3", Name: "x", Hash: new Date(0), CreateTime: 1, Note: "toJSON" }, // a value with toJSON
    { Name: "y", Pid: "4", Hash: [1, { a: 2 }], CreateTime: 2, Note: "keys in another order" },
    { Pid: "5", Name: "z" }, // another shape: an object line
    { Pid: "6", Name: "w", Hash: 0, CreateTime: 3, Note: "n", Extra: true },
  ];

  it("renders the same text as rendering the page's rows afresh", () => {
    const shaped = shapeRows({ rows: odd, offset: 0, limit: 10, queryKey: "q" });
    const text = renderRowsText("Results", shaped);
    const fresh = renderRowsText("Results", { ...shaped, rows: [...shaped.rows] }); // a new array: nothing remembered for it
    expect(text).toBe(fresh);
    expect(text.split("\n").slice(1, 1 + odd.length + 1)).toEqual(compactRows([...shaped.rows]));
  });

  it("measures every row as JSON.stringify(row).length", () => {
    const rows = shapeRows({ rows: odd, offset: 0, limit: 10, queryKey: "q" }).rows;
    const w = lineWriter(rows[0]!);
    for (const r of rows) expect(w.write(r).objectLength, JSON.stringify(r)).toBe(JSON.stringify(r).length);
  });

  it("cuts a page at the byte cap where measuring each row's JSON object cuts it", () => {
    const rows = Array.from({ length: 40 }, (_, i) => ({ ...odd[i % odd.length], i, pad: "x".repeat(i * 7) }));
    const page = shapeRows({ rows, offset: 0, limit: 30, queryKey: "q", byteCap: 1e9 }).rows; // as shaped (ISO times added)
    expect(page).toHaveLength(30);
    for (const cap of [1, 200, 1000, 3000, 7000, 1e6]) {
      const shaped = shapeRows({ rows, offset: 0, limit: 30, queryKey: "q", byteCap: cap });
      let bytes = 2;
      let keep = 0;
      for (const r of page) {
        const size = JSON.stringify(r).length + 1;
        if (bytes + size > cap && keep > 0) break;
        bytes += size;
        keep++;
      }
      expect(shaped.rows.length, `cap ${cap}`).toBe(keep);
      expect(renderRowsText("R", shaped)).toBe(renderRowsText("R", { ...shaped, rows: [...shaped.rows] }));
    }
  });
});
