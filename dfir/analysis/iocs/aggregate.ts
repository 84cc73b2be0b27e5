/**
 * Deduplicates indicators across rows, flows and hunts: a count, first and last seen, and the clients and artifacts
 * each came from. Memory grows with distinct indicators, not rows; a cap stops a pathological input (every row a
 * fresh hash) from exhausting memory, and says so.
 */
import { rowStrings } from "../fields.js";
import { detectTimestamp } from "../timeline/timestamps.js";
import type { AllowMatcher } from "./allowlist.js";
import { own } from "./own.js";
import { caseInsensitive, indicatorValue, isPublicIp, rangeOf, scanIndicators, type ExtractOptions } from "./extract.js";
import type { IocType } from "./patterns.js";
import { hasNonAscii, OWNER_FIELDS, RECORD_INTS, SpanTable } from "./table.js";

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

/**
 * What the aggregator keeps in each record of its tables (./table.ts: found by the lookup, two to a cache line).
 * KIND is 0 for a kept value, 1 + the rule's index for a value the allow-list suppressed (with SAMPLED set once it
 * is among its rule's samples); COUNT counts occurrences (in `bigCounts` by id, the billions past 2^31 - 1);
 * CLIENTS and ARTIFACTS hold a bit per name id for the first 31 (a Set beyond, in the type's `more…` maps, by id).
 */
const KIND = OWNER_FIELDS;
const COUNT = OWNER_FIELDS + 1;
const CLIENTS = OWNER_FIELDS + 2;
const ARTIFACTS = OWNER_FIELDS + 3;
const SAMPLED = 1 << 30;
const KIND_MASK = SAMPLED - 1;
const COUNT_MAX = 0x7fffffff;

/**
 * One type's indicators and allow-list verdicts: a value is one or the other, and one lookup in a table that has
 * outgrown the cache costs less than two. The SpanTable holds each value as reported (Windows paths in their first
 * spelling; the table compares them case-insensitively); `spellings` holds, by id, the first spelling of the rare
 * path the table had to store lower-cased (one with a character outside ASCII). `dates` holds first and last seen
 * by id (NaN: never dated), touched only for texts with a time.
 */
interface TypeTable {
  type: IocType;
  table: SpanTable;
  dates: Float64Array;
  spellings?: Map<number, string>;
  bigCounts?: Map<number, number>;
  moreClients?: Map<number, Set<number>>;
  moreArtifacts?: Map<number, Set<number>>;
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

export class IocAggregator {
  private readonly tables = new Map<IocType, TypeTable>();
  private last: TypeTable | undefined;
  private entryCount = 0;
  private verdictCount = 0;
  /** Per rule (by index in `rules`), the occurrences suppressed and the first SUPPRESSED_SAMPLE distinct values. */
  private readonly ruleCounts: number[] = [];
  private readonly ruleSamples: Set<string>[] = [];
  overflow = 0;
  rowsScanned = 0;
  bytesScanned = 0;
  private readonly clientNames = new NameTable();
  private readonly artifactNames = new NameTable();
  /** Allow-list rules by index (KIND - 1). */
  private readonly rules = new NameTable();
  // The provenance of the text being scanned, for the sink.
  private client = -1;
  private artifact = -1;
  private timeUs: number | undefined;
  /**
   * Each occurrence goes straight to its type's table, in the order extractIndicators gives them (type, then
   * position): the order a per-occurrence reference sees, so the first spelling of a Windows path, the cap and the
   * suppressed samples come out the same. An occurrence arrives as a span of the scanned text and is looked up
   * without cutting it out (./table.ts); only a new value is copied.
   */
  private readonly sink = (type: IocType, text: string, start: number, end: number): void => this.add(type, text, start, end);

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

  /** One occurrence, text[start, end), of an indicator of `type` (its value: indicatorValue). */
  private add(type: IocType, text: string, start: number, end: number): void {
    // Occurrences come type by type: the last type's table spares a lookup per occurrence.
    const t = this.last?.type === type ? this.last : (this.last = this.tables.get(type) ?? this.newTable(type));
    let slot = t.table.find(text, start, end);
    if (slot === -1) {
      slot = this.addValue(t, text, start, end);
      if (slot === -1) return;
    }
    const ints = t.table.ints;
    const r = slot * RECORD_INTS;
    const kind = ints[r + KIND]! & KIND_MASK;
    if (kind !== 0) {
      this.suppress(t, kind - 1, r, text, start, end);
      return;
    }
    const count = ints[r + COUNT]! + 1;
    if (count === COUNT_MAX) {
      const id = t.table.id(slot);
      (t.bigCounts ??= new Map()).set(id, (t.bigCounts.get(id) ?? 0) + count);
      ints[r + COUNT] = 0;
    } else ints[r + COUNT] = count;
    const timeUs = this.timeUs;
    if (timeUs !== undefined) {
      const d = 2 * t.table.id(slot);
      // NaN (never dated) compares false both ways.
      if (!(t.dates[d]! <= timeUs)) t.dates[d] = timeUs;
      if (!(t.dates[d + 1]! >= timeUs)) t.dates[d + 1] = timeUs;
    }
    const client = this.client;
    if (client >= 0) {
      if (client < 31) ints[r + CLIENTS] |= 1 << client;
      else addMore((t.moreClients ??= new Map()), t.table.id(slot), client);
    }
    const artifact = this.artifact;
    if (artifact >= 0) {
      if (artifact < 31) ints[r + ARTIFACTS] |= 1 << artifact;
      else addMore((t.moreArtifacts ??= new Map()), t.table.id(slot), artifact);
    }
  }

  /**
   * A value not in its table yet: the allow-list decides once per distinct value (address parsing is costly on big
   * inputs). Returns its new slot, or -1 when the occurrence was dealt with without one (over a cap).
   */
  private addValue(t: TypeTable, text: string, start: number, end: number): number {
    const value = indicatorValue(t.type, text, start, end);
    const v = this.allow.check({ type: t.type, value });
    if (v.allowed) {
      // A rule can name the value ("value C:\\x.exe"), and so hold a slice of the text: it is kept as a copy.
      const rule = this.rules.id(own(v.rule!));
      if (this.ruleCounts.length <= rule) {
        this.ruleCounts.push(0);
        this.ruleSamples.push(new Set());
      }
      if (this.verdictCount >= 100_000) {
        // Past the cap on remembered verdicts: counted and sampled, but decided again next time.
        this.ruleCounts[rule]!++;
        const seen = this.ruleSamples[rule]!;
        if (seen.size < SUPPRESSED_SAMPLE && !seen.has(value)) seen.add(own(value));
        return -1;
      }
      this.verdictCount++;
      return this.newSlot(t, value, rule + 1);
    }
    if (this.entryCount >= (this.opts.maxIndicators ?? 100_000)) {
      this.overflow++;
      return -1;
    }
    this.entryCount++;
    return this.newSlot(t, value, 0);
  }

  private newSlot(t: TypeTable, value: string, kind: number): number {
    const slot = t.table.add(value);
    const id = t.table.id(slot);
    if (t.table.fold && hasNonAscii(value)) (t.spellings ??= new Map()).set(id, own(value));
    t.table.ints[slot * RECORD_INTS + KIND] = kind;
    if (2 * id + 2 > t.dates.length) {
      const dates = new Float64Array(t.dates.length * 2).fill(NaN);
      dates.set(t.dates);
      t.dates = dates;
    }
    return slot;
  }

  /** A suppressed occurrence (`r`: its record): counted under its rule, and among the rule's samples while there is room. */
  private suppress(t: TypeTable, rule: number, r: number, text: string, start: number, end: number): void {
    this.ruleCounts[rule]!++;
    const seen = this.ruleSamples[rule]!;
    if (seen.size >= SUPPRESSED_SAMPLE) return;
    // One record is one value, except Windows paths: each spelling of a path is a sample of its own.
    if (t.type === "windows_path") {
      const value = text.slice(start, end);
      if (!seen.has(value)) seen.add(own(value));
    } else if ((t.table.ints[r + KIND]! & SAMPLED) === 0) {
      t.table.ints[r + KIND] |= SAMPLED;
      seen.add(valueOf(t, r / RECORD_INTS));
    }
  }

  /**
   * Occurrences suppressed per rule, rules in the order first used. Counted by rule index, not in this map: three
   * map operations per suppressed occurrence (a seventh of them on the bench) cost more than building it when read.
   */
  get suppressed(): Map<string, number> {
    return new Map(this.rules.names.map((rule, k) => [rule, this.ruleCounts[k]!]));
  }

  /** Per rule, the distinct values suppressed (the first SUPPRESSED_SAMPLE of each). */
  get suppressedValues(): Map<string, Set<string>> {
    return new Map(this.rules.names.map((rule, k) => [rule, this.ruleSamples[k]!]));
  }

  private newTable(type: IocType): TypeTable {
    const t: TypeTable = { type, table: new SpanTable(caseInsensitive(type)), dates: new Float64Array(2 * 256).fill(NaN) };
    this.tables.set(type, t);
    return t;
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
    const iso = (us: number) => (Number.isNaN(us) ? undefined : new Date(us / 1000).toISOString());
    const names = (t: NameTable, bits: number, more?: Set<number>) => idsOf(bits, more).map((id) => t.names[id]!);
    const kept: { t: TypeTable; slot: number; id: number; value: string; count: number; clients: number }[] = [];
    for (const t of this.tables.values()) {
      const ints = t.table.ints;
      for (const slot of t.table.slots()) {
        if (ints[slot * RECORD_INTS + KIND] !== 0) continue;
        const id = t.table.id(slot);
        const count = ints[slot * RECORD_INTS + COUNT]! + (t.bigCounts?.get(id) ?? 0);
        kept.push({ t, slot, id, value: valueOf(t, slot), count, clients: idCount(ints[slot * RECORD_INTS + CLIENTS]!, t.moreClients?.get(id)) });
      }
    }
    return kept
      .sort((a, b) => b.clients - a.clients || b.count - a.count || a.t.type.localeCompare(b.t.type) || a.value.localeCompare(b.value))
      .map(({ t, slot, id, value, count }) => {
        const r = slot * RECORD_INTS;
        return {
          type: t.type,
          value,
          count,
          first_seen: iso(t.dates[2 * id]!),
          last_seen: iso(t.dates[2 * id + 1]!),
          clients: names(this.clientNames, t.table.ints[r + CLIENTS]!, t.moreClients?.get(id)).sort(),
          artifacts: names(this.artifactNames, t.table.ints[r + ARTIFACTS]!, t.moreArtifacts?.get(id)).sort(),
          ...(t.type === "ipv4" || t.type === "ipv6" ? { public: isPublicIp(value) } : {}),
          ...withRange(t.type, value),
        };
      });
  }
}

function valueOf(t: TypeTable, slot: number): string {
  return t.spellings?.get(t.table.id(slot)) ?? t.table.key(slot);
}

function addMore(more: Map<number, Set<number>>, id: number, nameId: number): void {
  let s = more.get(id);
  if (!s) more.set(id, (s = new Set()));
  s.add(nameId);
}

function withRange(type: IocType, value: string): { range?: string } {
  const range = rangeOf({ type, value });
  return range ? { range } : {};
}
