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
import { FLOAT_FIELDS, hasNonAscii, INT_FIELDS, RECORD_INTS, SpanTable } from "./table.js";

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
 * What the aggregator keeps in each record of its tables (./table.ts: one cache line per value, found by the lookup).
 * KIND is 0 for a kept value, 1 + the rule's index for a value the allow-list suppressed; CLIENTS and ARTIFACTS hold
 * a bit per name id for the first 31 (a Set beyond, in the type's `more…` maps, by the value's id); COUNT, FIRST and
 * LAST are float fields (FIRST and LAST NaN until a dated text holds the value).
 */
const KIND = INT_FIELDS;
const CLIENTS = INT_FIELDS + 1;
const ARTIFACTS = INT_FIELDS + 2;
/** For a suppressed value: 1 once it is among its rule's samples. */
const SAMPLED = INT_FIELDS + 3;
const COUNT = FLOAT_FIELDS;
const FIRST = FLOAT_FIELDS + 1;
const LAST = FLOAT_FIELDS + 2;

/**
 * One type's indicators and allow-list verdicts: a value is one or the other, and one lookup in a table that has
 * outgrown the cache costs less than two. The SpanTable holds each value as reported (Windows paths in their first
 * spelling; the table compares them case-insensitively); `spellings` holds, by id, the first spelling of the rare
 * path the table had to store lower-cased (one with a character outside ASCII).
 */
interface TypeTable {
  type: IocType;
  table: SpanTable;
  spellings?: Map<number, string>;
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
    const t = this.tables.get(type) ?? this.newTable(type);
    let slot = t.table.find(text, start, end);
    if (slot === -1) {
      slot = this.addValue(t, text, start, end);
      if (slot === -1) return;
    }
    const ints = t.table.ints;
    const floats = t.table.floats;
    const r = slot * RECORD_INTS;
    const f = slot * (RECORD_INTS / 2);
    const kind = ints[r + KIND]!;
    if (kind !== 0) {
      this.suppress(t, this.rules.names[kind - 1]!, slot, text, start, end);
      return;
    }
    floats[f + COUNT] = floats[f + COUNT]! + 1;
    const timeUs = this.timeUs;
    if (timeUs !== undefined) {
      // NaN (never dated) compares false both ways.
      if (!(floats[f + FIRST]! <= timeUs)) floats[f + FIRST] = timeUs;
      if (!(floats[f + LAST]! >= timeUs)) floats[f + LAST] = timeUs;
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
      if (this.verdictCount >= 100_000) {
        this.suppressValue(this.rules.names[rule]!, value);
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
    if (t.table.fold && hasNonAscii(value)) (t.spellings ??= new Map()).set(t.table.id(slot), own(value));
    t.table.ints[slot * RECORD_INTS + KIND] = kind;
    t.table.floats[slot * (RECORD_INTS / 2) + FIRST] = NaN;
    t.table.floats[slot * (RECORD_INTS / 2) + LAST] = NaN;
    return slot;
  }

  /** A suppressed occurrence: counted under its rule, and among the rule's samples while there is room. */
  private suppress(t: TypeTable, rule: string, slot: number, text: string, start: number, end: number): void {
    this.suppressed.set(rule, (this.suppressed.get(rule) ?? 0) + 1);
    let seen = this.suppressedValues.get(rule);
    if (!seen) this.suppressedValues.set(rule, (seen = new Set<string>()));
    if (seen.size >= SUPPRESSED_SAMPLE) return;
    // One record is one value, except Windows paths: each spelling of a path is a sample of its own.
    if (t.type === "windows_path") {
      const value = text.slice(start, end);
      if (!seen.has(value)) seen.add(own(value));
    } else if (t.table.ints[slot * RECORD_INTS + SAMPLED] === 0) {
      t.table.ints[slot * RECORD_INTS + SAMPLED] = 1;
      seen.add(valueOf(t, slot));
    }
  }

  /** A suppressed occurrence without an id (past the cap on remembered verdicts). */
  private suppressValue(rule: string, value: string): void {
    this.suppressed.set(rule, (this.suppressed.get(rule) ?? 0) + 1);
    let seen = this.suppressedValues.get(rule);
    if (!seen) this.suppressedValues.set(rule, (seen = new Set<string>()));
    if (seen.size < SUPPRESSED_SAMPLE && !seen.has(value)) seen.add(own(value));
  }

  private newTable(type: IocType): TypeTable {
    const t: TypeTable = { type, table: new SpanTable(caseInsensitive(type)) };
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
        const count = t.table.floats[slot * (RECORD_INTS / 2) + COUNT]!;
        kept.push({ t, slot, id, value: valueOf(t, slot), count, clients: idCount(ints[slot * RECORD_INTS + CLIENTS]!, t.moreClients?.get(id)) });
      }
    }
    return kept
      .sort((a, b) => b.clients - a.clients || b.count - a.count || a.t.type.localeCompare(b.t.type) || a.value.localeCompare(b.value))
      .map(({ t, slot, id, value, count }) => {
        const r = slot * RECORD_INTS;
        const f = slot * (RECORD_INTS / 2);
        return {
          type: t.type,
          value,
          count,
          first_seen: iso(t.table.floats[f + FIRST]!),
          last_seen: iso(t.table.floats[f + LAST]!),
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
