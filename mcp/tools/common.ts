/** Helpers shared by the Velociraptor tools: run a query in the caller's org, suggest names, describe errors. */
import type { Row } from "../../velociraptor/client.js";
import { rowsOf } from "../../velociraptor/session.js";
import type { ToolContext } from "./define.js";
import { renderRowsText, shapeRows, startOffset, type Shaped } from "./shape.js";

export { rowsOf };

/** Wraps a list so it can travel as one env string: VQL reads it with parse_json(data=X).items. */
export function listParam(items: readonly string[]): { items: readonly string[] } {
  return { items };
}

export function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** Up to three close names, best first. */
export function didYouMean(name: string, candidates: Iterable<string>): string[] {
  const scored = [...candidates].map((c) => ({ c, d: levenshtein(name, c) })).filter((x) => x.d <= Math.max(3, Math.floor(name.length / 4)));
  return scored.sort((x, y) => x.d - y.d).slice(0, 3).map((x) => x.c);
}

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
): Promise<{ structured: Shaped; text: string }> {
  const key = JSON.stringify(o.key);
  const offset = startOffset(args, key);
  const rows = await rowsOf(ctx, `${o.vql} LIMIT ${offset + args.limit + 1}`, o.params ?? {});
  const page = rows.slice(offset);
  const shaped = shapeRows({ rows: o.map ? o.map(page) : page, offset, limit: args.limit, queryKey: key, columns: args.columns, filtered: o.filtered });
  return { structured: shaped, text: renderRowsText(o.title, shaped) };
}
