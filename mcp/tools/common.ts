/** Helpers shared by the Velociraptor tools: run a query in the caller's org, suggest names, describe errors. */
import type { Row } from "../../velociraptor/client.js";
import { rowsOf } from "../../velociraptor/session.js";
import type { ToolContext } from "./define.js";
import { renderRowsText } from "./page-text.js";
import { shapeRows, startOffset, type Shaped } from "./shape.js";

export { rowsOf };
export { listParam } from "../../velociraptor/query.js";
export { didYouMean, levenshtein } from "../../core/suggest.js";


export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * One page of a list query: resolves offset/cursor, fetches offset + limit + 1 rows (LIMIT is a number computed here,
 * never user text) and shapes the page with its coverage label.
 */
export async function listPage(
  ctx: ToolContext,
  args: { limit: number; offset?: number; cursor?: string; columns?: string[] },
  o: { key: unknown[]; vql: string; params?: Record<string, unknown>; title: string; filtered?: string; map?: (rows: Row[]) => Row[] },
): Promise<{ structured: Shaped; text: string; textCarriesAll: true }> {
  const key = JSON.stringify(o.key);
  const offset = startOffset(args, key);
  const rows = await rowsOf(ctx, `${o.vql} LIMIT ${offset + args.limit + 1}`, o.params ?? {});
  const page = rows.slice(offset);
  const shaped = shapeRows({ rows: o.map ? o.map(page) : page, offset, limit: args.limit, queryKey: key, columns: args.columns, filtered: o.filtered });
  return { structured: shaped, text: renderRowsText(o.title, shaped), textCarriesAll: true };
}
