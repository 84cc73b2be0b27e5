/**
 * Stacking ("least frequency of occurrence"): group rows by chosen columns, count them, count distinct clients, and
 * keep first/last times — in bounded memory: at most `maxGroups` groups are tracked; beyond that, new groups are
 * counted as overflow and the result says so.
 */
import type { Row } from "../../velociraptor/client.js";

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

const CLIENT_FIELDS = ["ClientId", "client_id"];

function toIso(v: unknown): string | undefined {
  if (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) return v;
  if (typeof v === "number" && v > 0) {
    const ms = v > 1e14 ? v / 1000 : v > 1e11 ? v : v * 1000;
    return new Date(ms).toISOString();
  }
  return undefined;
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
    const keyValues = o.groupBy.map((c) => row[c] ?? null);
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
      const t = toIso(row[o.timeField]);
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
