/**
 * The text of one page of rows, for the model. A page's rows are its bulk, so they are written once and compactly:
 * the column names on one line, then each row as a JSON array of its values in that order — not an object repeating
 * every key on every row (for Velociraptor's wide rows the keys are a third or more of the bytes). A row whose keys
 * differ from the columns (VQL may return rows of different shapes) stays a JSON object, so nothing is lost: null and
 * an absent column remain distinct. The head line carries the coverage label and where the page sits; the last line
 * the next_cursor value itself, since a model that reads only the text must be able to ask for the next page.
 *
 * Everything a page's structured result holds is in this text, which is what lets the MCP adapter leave the
 * structured copy out where no output schema is listed (mcp/server/tools.ts, docs/mcp-results.md).
 *
 * Each row is serialised once per call: shapeRows (./shape.ts) sizes a page for its byte cap from the same compact
 * lines this file renders (lineWriter), and renderRowsText reuses them rather than serialising the rows again.
 */
import type { Row } from "../../velociraptor/client.js";

/**
 * What a page's text shows of shapeRows' result (./shape.ts's Shaped fits it). Declared here rather than imported:
 * shape.ts imports this file's line writer, and the layer rules allow no cycle, not even a type-only one.
 */
export interface PageView {
  rows: readonly Row[];
  page: { offset: number; returned: number; total?: number; has_more: boolean; next_cursor?: string };
  coverage: { status: string; note: string };
}

/** One row's compact line, and the length JSON.stringify(row) would have (what the result byte cap counts). */
export interface RowLine {
  line: string;
  objectLength: number;
}

/** A row holds exactly these keys (in any order): it can be written as an array of values against the columns. */
function sameKeys(r: Row, columns: readonly string[]): boolean {
  const keys = Object.keys(r);
  return keys.length === columns.length && columns.every((c) => Object.hasOwn(r, c));
}

/**
 * Whether a value serialises the same way as an array element as it does as an object member. undefined, functions
 * and symbols become null in an array but drop the key in an object; a toJSON method is handed the key, which
 * differs (column name against index). Rows parsed from the server's JSON never hold such values.
 */
function plainValue(v: unknown): boolean {
  if (v === undefined || typeof v === "function" || typeof v === "symbol") return false;
  return typeof v !== "object" || v === null || typeof (v as { toJSON?: unknown }).toJSON !== "function";
}

/**
 * Writes a page's rows as compact lines against the columns of its first row (compactRows' rendering), each with the
 * length of the row as a JSON object. The array form is the object form without its `"key":` prefixes, so that
 * length is the line's plus the keys' — exact whenever every value is plain (plainValue); otherwise the object is
 * serialised to measure it. Row by row, so a page cut by the byte cap is not serialised past the cut.
 */
export function lineWriter(first: Row): { columns: string[]; write(r: Row): RowLine } {
  const columns = Object.keys(first);
  let keyBytes = 0; // "key": for every column
  for (const c of columns) keyBytes += JSON.stringify(c).length + 1;
  return {
    columns,
    write(r) {
      if (!sameKeys(r, columns)) {
        const line = JSON.stringify(r);
        return { line, objectLength: line.length };
      }
      const values: unknown[] = new Array(columns.length);
      let plain = true;
      for (let i = 0; i < columns.length; i++) {
        const v = r[columns[i]!];
        values[i] = v;
        if (plain && !plainValue(v)) plain = false;
      }
      const line = JSON.stringify(values);
      return { line, objectLength: plain ? line.length + keyBytes : JSON.stringify(r).length };
    },
  };
}

/** The lines shapeRows rendered for a page, by the rows array it returned (which nothing changes after shaping). */
const rendered = new WeakMap<readonly Row[], string[]>();

/** Records the compact lines shapeRows wrote for `rows` (one per row, in order), for renderRowsText. */
export function rememberLines(rows: readonly Row[], columns: readonly string[], lines: readonly string[]): void {
  if (rows.length && lines.length === rows.length) rendered.set(rows, [`columns: ${JSON.stringify(columns)}`, ...lines]);
}

/** Column names once, then one JSON array per row; rows of another shape as JSON objects. */
export function compactRows(rows: readonly Row[]): string[] {
  if (!rows.length) return [];
  const cached = rendered.get(rows);
  if (cached) return cached;
  const w = lineWriter(rows[0]!);
  return [`columns: ${JSON.stringify(w.columns)}`, ...rows.map((r) => w.write(r).line)];
}

/** Where the page sits, when the coverage note does not already say it. */
function position(shaped: PageView): string {
  const { offset, returned, total } = shaped.page;
  const parts = offset > 0 && returned > 0 ? [`Rows ${offset + 1}–${offset + returned}.`] : [];
  if (total !== undefined && !shaped.coverage.note.includes(`${total} in total`)) parts.push(`${total} in total.`);
  return parts.length ? ` ${parts.join(" ")}` : "";
}

/** The head line (title, count, coverage), the compact rows, `extra` lines, then the next_cursor line. */
export function renderRowsText(title: string, shaped: PageView, extra: readonly string[] = []): string {
  const head = `${title}: ${shaped.rows.length} row(s) [${shaped.coverage.status}] ${shaped.coverage.note}${position(shaped)}`;
  const next = shaped.page.has_more && shaped.page.next_cursor ? [`next_cursor: ${shaped.page.next_cursor}`] : [];
  return [head, ...compactRows(shaped.rows), ...extra, ...next].join("\n");
}
