/**
 * Deduplicates indicators across rows, flows and hunts: a count, first and last seen, and the clients and artifacts
 * each came from. Memory grows with distinct indicators, not rows; a cap stops a pathological input (every row a
 * fresh hash) from exhausting memory, and says so.
 */
import { rowStrings } from "../fields.js";
import { detectTimestamp } from "../timeline/timestamps.js";
import type { AllowMatcher } from "./allowlist.js";
import { own } from "./own.js";
import { isPublicIp, rangeOf, scanIndicators, type ExtractOptions } from "./extract.js";
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
  /**
   * Clients and artifacts as ids in the aggregator's name tables: a bit each for the first 31, a Set beyond. Two Sets
   * per entry were most of an entry's memory (the collector walked them all), and two more objects to reach on every
   * update of an entry whose table no longer fits in the cache.
   */
  clientBits: number;
  artifactBits: number;
  moreClients?: Set<number>;
  moreArtifacts?: Set<number>;
}

function idsOf(bits: number, more: Set<number> | undefined): number[] {
  const out: number[] = [];
  for (let b = bits, id = 0; b; b >>>= 1, id++) if (b & 1) out.push(id);
  if (more) out.push(...more);
  return out;
}

function idCount(bits: number, more: Set<number> | undefined): number {
  let n = more?.size ?? 0;
  for (let b = bits; b; b &= b - 1) n++;
  return n;
}

/** Provenance names (client ids, artifact names) numbered in the order first seen. */
class NameTable {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  id(name: string): number {
    let id = this.ids.get(name);
    if (id === undefined) {
      this.ids.set(name, (id = this.names.length));
      this.names.push(name);
    }
    return id;
  }
}

/**
 * One type's indicators and allow-list verdicts in one map: an Entry for a kept value, the rule's name for a
 * suppressed one. A value is one or the other, and one lookup in a table that has outgrown the cache costs less than
 * two (a suppressed value looked in both).
 */
type TypeTable = Map<string, Entry | string>;

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
 * hashing it, was the aggregator's largest cost. Kept keys and values are copies (./own.ts): occurrences of known
 * values are never copied.
 */
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
  private readonly clientNames = new NameTable();
  private readonly artifactNames = new NameTable();
  // The provenance of the text being scanned, for the sink.
  private client = -1;
  private artifact = -1;
  private timeUs: number | undefined;
  /**
   * Each occurrence goes straight to its type's table, in the order extractIndicators gives them (type, then
   * position): the order a per-occurrence reference sees, so the first spelling of a Windows path, the cap and the
   * suppressed samples come out the same. Counting a text's occurrences in small per-text maps first cost a hash
   * and two lookups per occurrence to save the table lookups of the third of occurrences that repeat within a text
   * (whose entries are then in cache anyway); without them the aggregator runs 11 % fewer instructions (cachegrind).
   */
  private readonly sink = (type: IocType, value: string): void => this.add(type, value, 1, this.timeUs, this.client, this.artifact);

  constructor(
    private readonly allow: AllowMatcher,
    private readonly opts: ExtractOptions & { maxIndicators?: number } = {},
  ) {}

  addText(text: string, p: Provenance = {}): void {
    this.bytesScanned += text.length;
    this.client = p.client_id ? this.clientNames.id(p.client_id) : -1;
    this.artifact = p.artifact ? this.artifactNames.id(p.artifact) : -1;
    this.timeUs = p.timeUs;
    scanIndicators(text, this.opts, this.sink);
  }

  /** `n` occurrences of one value from one text; `client` and `artifact` are name ids, -1 for none. */
  private add(type: IocType, value: string, n: number, timeUs: number | undefined, client: number, artifact: number): void {
    const key = dedupKey(type, value);
    const table = this.table(type);
    const found = table.get(key);
    let e = typeof found === "string" ? undefined : found;
    // The allow-list decides once per distinct value (address parsing is costly on big inputs).
    const rule = typeof found === "string" ? found : e ? undefined : this.decide(table, key, type, value);
    if (rule) {
      this.suppressed.set(rule, (this.suppressed.get(rule) ?? 0) + n);
      let seen = this.suppressedValues.get(rule);
      if (!seen) this.suppressedValues.set(rule, (seen = new Set<string>()));
      if (seen.size < SUPPRESSED_SAMPLE && !seen.has(value)) seen.add(own(value));
      return;
    }
    if (!e) {
      if (this.entryCount >= (this.opts.maxIndicators ?? 100_000)) {
        this.overflow += n;
        return;
      }
      const kept = own(value);
      // A lower-cased key that differs from the value is a new string already, not a slice of the text.
      e = { type, value: kept, count: 0, clientBits: 0, artifactBits: 0 };
      table.set(key === value ? kept : key, e);
      this.entryCount++;
    }
    e.count += n;
    if (timeUs !== undefined) {
      if (e.first === undefined || timeUs < e.first) e.first = timeUs;
      if (e.last === undefined || timeUs > e.last) e.last = timeUs;
    }
    if (client >= 0) {
      if (client < 31) e.clientBits |= 1 << client;
      else (e.moreClients ??= new Set()).add(client);
    }
    if (artifact >= 0) {
      if (artifact < 31) e.artifactBits |= 1 << artifact;
      else (e.moreArtifacts ??= new Set()).add(artifact);
    }
  }

  private table(type: IocType): TypeTable {
    let t = this.tables.get(type);
    if (!t) this.tables.set(type, (t = new Map()));
    return t;
  }

  private decide(table: TypeTable, key: string, type: IocType, value: string): string | undefined {
    const v = this.allow.check({ type, value });
    if (!v.allowed) return undefined;
    // A rule can name the value ("value C:\\x.exe"), and so hold a slice of the text: it is kept as a copy.
    const rule = own(v.rule!);
    if (this.verdictCount < 100_000) {
      table.set(key === value ? own(key) : key, rule);
      this.verdictCount++;
    }
    return rule;
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
    const names = (t: NameTable, bits: number, more?: Set<number>) => idsOf(bits, more).map((id) => t.names[id]!);
    return [...this.tables.values()]
      .flatMap((t) => [...t.values()].filter((e): e is Entry => typeof e !== "string"))
      .map((e) => ({ e, clients: idCount(e.clientBits, e.moreClients) }))
      .sort(({ e: a, clients: ca }, { e: b, clients: cb }) => cb - ca || b.count - a.count || a.type.localeCompare(b.type) || a.value.localeCompare(b.value))
      .map(({ e }) => ({
        type: e.type,
        value: e.value,
        count: e.count,
        first_seen: iso(e.first),
        last_seen: iso(e.last),
        clients: names(this.clientNames, e.clientBits, e.moreClients).sort(),
        artifacts: names(this.artifactNames, e.artifactBits, e.moreArtifacts).sort(),
        ...(e.type === "ipv4" || e.type === "ipv6" ? { public: isPublicIp(e.value) } : {}),
        ...withRange(e.type, e.value),
      }));
  }
}

function withRange(type: IocType, value: string): { range?: string } {
  const range = rangeOf({ type, value });
  return range ? { range } : {};
}
