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
 */
import type { Row } from "../../velociraptor/client.js";
import type { Shaped } from "./shape.js";

/** Column names once, then one JSON array per row; rows of another shape as JSON objects. */
export function compactRows(rows: readonly Row[]): string[] {
  if (!rows.length) return [];
  const columns = Object.keys(rows[0]!);
  const same = (r: Row) => {
    const keys = Object.keys(r);
    return keys.length === columns.length && columns.every((c) => Object.hasOwn(r, c));
  };
  return [`columns: ${JSON.stringify(columns)}`, ...rows.map((r) => JSON.stringify(same(r) ? columns.map((c) => r[c]) : r))];
}

/** Where the page sits, when the coverage note does not already say it. */
function position(shaped: Shaped): string {
  const { offset, returned, total } = shaped.page;
  const parts = offset > 0 && returned > 0 ? [`Rows ${offset + 1}–${offset + returned}.`] : [];
  if (total !== undefined && !shaped.coverage.note.includes(`${total} in total`)) parts.push(`${total} in total.`);
  return parts.length ? ` ${parts.join(" ")}` : "";
}

/** The head line (title, count, coverage), the compact rows, `extra` lines, then the next_cursor line. */
export function renderRowsText(title: string, shaped: Shaped, extra: readonly string[] = []): string {
  const head = `${title}: ${shaped.rows.length} row(s) [${shaped.coverage.status}] ${shaped.coverage.note}${position(shaped)}`;
  const next = shaped.page.has_more && shaped.page.next_cursor ? [`next_cursor: ${shaped.page.next_cursor}`] : [];
  return [head, ...compactRows(shaped.rows), ...extra, ...next].join("\n");
}
