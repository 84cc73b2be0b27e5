/**
 * Deduplicates indicators across rows, flows and hunts: a count, first and last seen, and the clients and artifacts
 * each came from. Memory grows with distinct indicators, not rows; a cap stops a pathological input (every row a
 * fresh hash) from exhausting memory, and says so.
 */
import { rowStrings } from "../fields.js";
import { detectTimestamp } from "../timeline/timestamps.js";
import type { AllowMatcher } from "./allowlist.js";
import { extractIndicators, isPublicIp, rangeOf, type ExtractOptions } from "./extract.js";
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
  /** Why an address or name is not a public one: private, loopback, documentation (RFC 5737)… */
  range?: string;
}

interface Entry {
  type: IocType;
  value: string;
  count: number;
  first?: number;
  last?: number;
  clients: Set<string>;
  artifacts: Set<string>;
  // The provenance last added: every indicator of one text shares it, so repeats skip the Set.
  lastClient?: string;
  lastArtifact?: string;
}

/** One type's indicators and allow-list verdicts. */
interface TypeTable {
  entries: Map<string, Entry>;
  verdicts: Map<string, string>;
}

/**
 * Columns Velociraptor adds to result rows as bookkeeping, not evidence (each checked against the column catalogue's
 * conventions by test/dfir/analysis/iocs.test.ts). Only columns Velociraptor really adds belong here: a name that no
 * result carries would only hide a real column of that name.
 */
export const BOOKKEEPING_COLUMNS: Readonly<Record<string, string>> = {
  ClientId: "vql/server/hunts/hunts.go:295-298 (rows read through a hunt)",
  FlowId: "vql/server/hunts/hunts.go:295-298",
  _OrgId: "vql/server/hunts/hunts.go:297",
  // Also a column of Generic.Client.Info and the SSH host keys: there too the endpoint's own name, not an indicator.
  Fqdn: "vql/server/hunts/hunts.go:295-298",
  _Source: "file_store/directory/queue.go:160-174 (event queue rows)",
};
const SKIP_COLUMNS = new Set(Object.keys(BOOKKEEPING_COLUMNS));

/** Distinct suppressed values kept per rule (the count covers all of them). */
export const SUPPRESSED_SAMPLE = 50;

/**
 * The key an indicator is deduplicated on within its type: Windows paths are case-insensitive (NTFS and the Win32
 * API), so C:\Users\Bob\upd.exe and c:\users\bob\UPD.EXE are one indicator, shown in the first spelling seen.
 * Tables are per type so the key is the value itself: building a "type + value" string for every occurrence, and
 * hashing it, was the aggregator's largest cost.
 */
/**
 * A copy of `s` that holds no reference to the text it was cut from. V8 keeps a substring as a slice of its parent,
 * so one kept indicator would keep its whole chunk (1 MB and more) alive: 200 chunks of a log, each with a new value,
 * held 436 MB after GC. Copied once per distinct value kept; occurrences of known values are never copied.
 */
function own(s: string): string {
  return Buffer.from(s, "utf16le").toString("utf16le");
}

function dedupKey(type: IocType, value: string): string {
  return type === "windows_path" ? value.toLowerCase() : value;
}

export class IocAggregator {
  private readonly tables = new Map<IocType, TypeTable>();
  private entryCount = 0;
  private verdictCount = 0;
  readonly suppressed = new Map<string, number>();
  /** Per rule, the distinct values suppressed (the first SUPPRESSED_SAMPLE of each). */
  readonly suppressedValues = new Map<string, Set<string>>();
  overflow = 0;
  rowsScanned = 0;
  bytesScanned = 0;

  constructor(
    private readonly allow: AllowMatcher,
    private readonly opts: ExtractOptions & { maxIndicators?: number } = {},
  ) {}

  addText(text: string, p: Provenance = {}): void {
    this.bytesScanned += text.length;
    for (const i of extractIndicators(text, this.opts)) {
      const key = dedupKey(i.type, i.value);
      const table = this.table(i.type);
      let e = table.entries.get(key);
      // The allow-list decides once per distinct value (address parsing is costly on big inputs).
      const rule = e ? undefined : (table.verdicts.get(key) ?? this.decide(table, key, i));
      if (rule) {
        this.suppressed.set(rule, (this.suppressed.get(rule) ?? 0) + 1);
        const seen = this.suppressedValues.get(rule) ?? new Set<string>();
        if (seen.size < SUPPRESSED_SAMPLE && !seen.has(i.value)) seen.add(own(i.value));
        this.suppressedValues.set(rule, seen);
        continue;
      }
      if (!e) {
        if (this.entryCount >= (this.opts.maxIndicators ?? 100_000)) {
          this.overflow++;
          continue;
        }
        e = { type: i.type, value: own(i.value), count: 0, clients: new Set(), artifacts: new Set() };
        table.entries.set(own(key), e);
        this.entryCount++;
      }
      e.count++;
      if (p.timeUs !== undefined) {
        if (e.first === undefined || p.timeUs < e.first) e.first = p.timeUs;
        if (e.last === undefined || p.timeUs > e.last) e.last = p.timeUs;
      }
      if (p.client_id && p.client_id !== e.lastClient) e.clients.add((e.lastClient = p.client_id));
      if (p.artifact && p.artifact !== e.lastArtifact) e.artifacts.add((e.lastArtifact = p.artifact));
    }
  }

  private table(type: IocType): TypeTable {
    let t = this.tables.get(type);
    if (!t) this.tables.set(type, (t = { entries: new Map(), verdicts: new Map() }));
    return t;
  }

  private decide(table: TypeTable, key: string, i: { type: IocType; value: string }): string | undefined {
    const v = this.allow.check(i);
    if (v.allowed && this.verdictCount < 100_000) {
      table.verdicts.set(own(key), v.rule!);
      this.verdictCount++;
    }
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
    return this.entryCount;
  }

  /** Most widespread first (clients, then count), then by type and value for a stable order. */
  results(): AggregatedIndicator[] {
    const iso = (us?: number) => (us === undefined ? undefined : new Date(us / 1000).toISOString());
    return [...this.tables.values()]
      .flatMap((t) => [...t.entries.values()])
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
        ...withRange(e.type, e.value),
      }));
  }
}

function withRange(type: IocType, value: string): { range?: string } {
  const range = rangeOf({ type, value });
  return range ? { range } : {};
}
