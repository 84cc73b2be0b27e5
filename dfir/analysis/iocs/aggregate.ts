/**
 * Deduplicates indicators across rows, flows and hunts: a count, first and last seen, and the clients and artifacts
 * each came from. Memory grows with distinct indicators, not rows; a cap stops a pathological input (every row a
 * fresh hash) from exhausting memory, and says so.
 */
import { rowStrings } from "../fields.js";
import { detectTimestamp } from "../timeline/timestamps.js";
import type { AllowMatcher } from "./allowlist.js";
import { extractIndicators, isPublicIp, type ExtractOptions } from "./extract.js";
import type { IocType } from "./patterns.js";

export interface Provenance {
  client_id?: string;
  artifact?: string;
  flow_id?: string;
  /** µs since epoch, when the row has a time. */
  timeUs?: number;
}

export interface AggregatedIndicator {
  type: IocType;
  value: string;
  count: number;
  first_seen?: string;
  last_seen?: string;
  clients: string[];
  artifacts: string[];
  /** For addresses: routable on the internet. */
  public?: boolean;
}

interface Entry {
  type: IocType;
  value: string;
  count: number;
  first?: number;
  last?: number;
  clients: Set<string>;
  artifacts: Set<string>;
}

// Columns whose values are Velociraptor bookkeeping, not evidence.
const SKIP_COLUMNS = new Set(["ClientId", "client_id", "FlowId", "flow_id", "_OrgId", "Fqdn", "_Source", "HuntId"]);

export class IocAggregator {
  private readonly entries = new Map<string, Entry>();
  readonly suppressed = new Map<string, number>();
  overflow = 0;
  rowsScanned = 0;
  private readonly verdicts = new Map<string, string>();
  bytesScanned = 0;

  constructor(
    private readonly allow: AllowMatcher,
    private readonly opts: ExtractOptions & { maxIndicators?: number } = {},
  ) {}

  addText(text: string, p: Provenance = {}): void {
    this.bytesScanned += text.length;
    for (const i of extractIndicators(text, this.opts)) {
      const key = `${i.type}\u0000${i.value}`;
      let e = this.entries.get(key);
      // The allow-list decides once per distinct value (address parsing is costly on big inputs).
      const rule = e ? undefined : (this.verdicts.get(key) ?? this.decide(key, i));
      if (rule) {
        this.suppressed.set(rule, (this.suppressed.get(rule) ?? 0) + 1);
        continue;
      }
      if (!e) {
        if (this.entries.size >= (this.opts.maxIndicators ?? 100_000)) {
          this.overflow++;
          continue;
        }
        e = { type: i.type, value: i.value, count: 0, clients: new Set(), artifacts: new Set() };
        this.entries.set(key, e);
      }
      e.count++;
      if (p.timeUs !== undefined) {
        if (e.first === undefined || p.timeUs < e.first) e.first = p.timeUs;
        if (e.last === undefined || p.timeUs > e.last) e.last = p.timeUs;
      }
      if (p.client_id) e.clients.add(p.client_id);
      if (p.artifact) e.artifacts.add(p.artifact);
    }
  }

  private decide(key: string, i: { type: IocType; value: string }): string | undefined {
    const v = this.allow.check(i);
    if (v.allowed && this.verdicts.size < 100_000) this.verdicts.set(key, v.rule!);
    return v.allowed ? v.rule : undefined;
  }

  /** Scans every string in a result row (nested values included); the row's own time dates what it contains. */
  addRow(row: Record<string, unknown>, p: Provenance = {}): void {
    this.rowsScanned++;
    const client = p.client_id ?? (typeof row.ClientId === "string" ? row.ClientId : undefined);
    const ts = p.timeUs ?? detectTimestamp(row)?.us;
    const texts = rowStrings(row, { skip: SKIP_COLUMNS });
    if (texts.length) this.addText(texts.join("\n"), { ...p, client_id: client, timeUs: ts });
  }

  get size(): number {
    return this.entries.size;
  }

  /** Most widespread first (clients, then count), then by type and value for a stable order. */
  results(): AggregatedIndicator[] {
    const iso = (us?: number) => (us === undefined ? undefined : new Date(us / 1000).toISOString());
    return [...this.entries.values()]
      .sort((a, b) => b.clients.size - a.clients.size || b.count - a.count || a.type.localeCompare(b.type) || a.value.localeCompare(b.value))
      .map((e) => ({
        type: e.type,
        value: e.value,
        count: e.count,
        first_seen: iso(e.first),
        last_seen: iso(e.last),
        clients: [...e.clients].sort(),
        artifacts: [...e.artifacts].sort(),
        ...(e.type === "ipv4" || e.type === "ipv6" ? { public: isPublicIp(e.value) } : {}),
      }));
  }
}
