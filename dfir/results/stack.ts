/**
 * Stacking ("least frequency of occurrence"): group rows by chosen columns, count them, count distinct clients, and
 * keep first/last times — in bounded memory: at most `maxGroups` groups are tracked; beyond that, new groups are
 * counted as overflow and the result says so.
 */
import type { Row } from "../../velociraptor/client.js";
import { toMicros } from "../analysis/timeline/timestamps.js";
import { valueAt } from "./paths.js";

export interface StackGroup {
  key: Record<string, unknown>;
  count: number;
  clients: number;
  first?: string;
  last?: string;
}

export interface StackResult {
  groups: StackGroup[];
  rowsScanned: number;
  groupsTotal: number;
  overflowRows: number;
  overflowGroups: boolean;
}

// Hunt rows carry the client in ClientId (vql/server/hunts/hunts.go:295-298); a flow's rows are one client's.
export const CLIENT_FIELDS: readonly string[] = ["ClientId"];

/** UTC ISO text, so times written with different offsets (Linux pslist's local CreateTime) compare correctly. */
function toIso(v: unknown): string | undefined {
  const us = toMicros(v);
  return us === undefined ? undefined : new Date(Math.floor(us / 1000)).toISOString();
}

export async function stackRows(
  rows: AsyncIterable<Row> | Iterable<Row>,
  o: { groupBy: string[]; timeField?: string; maxGroups?: number; order?: "rarest" | "commonest" },
): Promise<StackResult> {
  const maxGroups = o.maxGroups ?? 100_000;
  const groups = new Map<string, { key: Record<string, unknown>; count: number; clients: Set<string>; first?: string; last?: string }>();
  let scanned = 0;
  let overflowRows = 0;
  for await (const row of rows as AsyncIterable<Row>) {
    scanned++;
    // A group-by or time column may be a nested path (Authenticode.Trusted), as in correlate.
    const keyValues = o.groupBy.map((c) => valueAt(row, c) ?? null);
    const k = JSON.stringify(keyValues);
    let g = groups.get(k);
    if (!g) {
      if (groups.size >= maxGroups) {
        overflowRows++;
        continue;
      }
      g = { key: Object.fromEntries(o.groupBy.map((c, i) => [c, keyValues[i]])), count: 0, clients: new Set() };
      groups.set(k, g);
    }
    g.count++;
    const client = CLIENT_FIELDS.map((f) => row[f]).find((v) => typeof v === "string") as string | undefined;
    if (client && g.clients.size < 10_000) g.clients.add(client);
    if (o.timeField) {
      const t = toIso(valueAt(row, o.timeField));
      if (t) {
        if (!g.first || t < g.first) g.first = t;
        if (!g.last || t > g.last) g.last = t;
      }
    }
  }
  const list = [...groups.values()].map((g) => ({ key: g.key, count: g.count, clients: g.clients.size, first: g.first, last: g.last }));
  list.sort((a, b) => (o.order === "commonest" ? b.count - a.count : a.count - b.count) || JSON.stringify(a.key).localeCompare(JSON.stringify(b.key)));
  return { groups: list, rowsScanned: scanned, groupsTotal: groups.size, overflowRows, overflowGroups: overflowRows > 0 };
}
