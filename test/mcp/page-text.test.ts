/** The compact page text (mcp/tools/page-text.ts): every value once, columns named once, nothing lost. */
import { describe, expect, it } from "vitest";
import { compactRows, renderRowsText } from "../../mcp/tools/page-text.js";
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
