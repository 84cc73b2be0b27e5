/**
 * A unified timeline from several result sources: each row becomes one event per time it carries (with the source
 * artifact, the field used and a normalised message), filtered by window and text, capped per source, put in order
 * per source in bounded memory and merged across sources by ./merge.ts.
 */
import { InputError } from "../../../core/errors.js";
import { externalSort, mergeSorted } from "./merge.js";
import { rowMessage, rowTimes, type RowTime } from "./timestamps.js";
import type { RowIndex } from "../../../velociraptor/row-index.js";

export interface TimelineSource {
  artifact: string;
  client_id?: string;
  flow_id?: string;
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>;
  /**
   * The same rows as the server encoded them, as chunks of JSON Lines (QueryStream#jsonLines), when the source can
   * give them: the JSON Lines build (./lines.ts) then reads them instead of `rows` (use one or the other, once).
   */
  lines?: () => AsyncIterable<Buffer>;
  /**
   * The same rows as indexed result batches (QueryStream#indexedBatches: each row's bytes and where its columns lie,
   * found in one pass); read instead of `lines` and `rows` when present.
   */
  batches?: () => AsyncIterable<RowIndex>;
}

export interface TimelineEvent {
  timestamp_us: number;
  datetime: string;
  timestamp_desc: string;
  message: string;
  source: string;
  field: string;
  client_id?: string;
  /** The client's host name, when the caller knows it (dfir/scope resolves them); files carry it beside client_id. */
  hostname?: string;
  flow_id?: string;
  row: Record<string, unknown>;
}

export interface TimelineOptions {
  startUs?: number;
  endUs?: number;
  /** Case-insensitive text every event's message or row must contain. */
  text?: string;
  /** Events per source, at most (the rest are counted in `stats.capped`). */
  perSourceCap?: number;
  /** Override the time columns for artifacts (Artifact → columns). */
  timeFields?: Record<string, string[]>;
  runSize?: number;
  /** Events all sources may hold in memory together (default 200,000); the rest are spilled to disk. */
  memoryBudget?: number;
}

export interface TimelineStats {
  rows: number;
  events: number;
  untimed: number;
  filtered: number;
  capped: Record<string, number>;
  fields: Record<string, string[]>;
}

/** Parses a user time bound (RFC 3339 or epoch seconds) to µs, naming the field when it is not a time. */
export function parseBound(field: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = /^\d+(\.\d+)?$/.test(v) ? Number(v) * 1e6 : Date.parse(v) * 1000;
  if (!Number.isFinite(n)) throw new InputError(field, `"${v}" is not a time`, "Use RFC 3339 (2026-11-24T10:00:00Z) or epoch seconds.");
  return n;
}

export function newStats(): TimelineStats {
  return { rows: 0, events: 0, untimed: 0, filtered: 0, capped: {}, fields: {} };
}

/**
 * What decides a row's events, shared by the object path (buildTimeline) and the line path (./lines.ts) so both
 * filter, cap and count alike: the row's times that pass the window and the cap, with its message.
 */
export class SourceEvents {
  readonly label: string;
  readonly used = new Set<string>();
  private readonly needle?: string;
  private readonly cap: number;
  private readonly override?: string[];
  private n = 0;
  constructor(
    readonly src: Pick<TimelineSource, "artifact" | "client_id" | "flow_id">,
    private readonly o: TimelineOptions,
    private readonly stats: TimelineStats,
  ) {
    this.needle = o.text?.toLowerCase();
    this.cap = o.perSourceCap ?? Infinity;
    this.label = src.client_id ? `${src.client_id}:${src.artifact}` : src.artifact;
    this.override = o.timeFields?.[src.artifact] ?? o.timeFields?.[src.artifact.split("/")[0]!];
  }

  /** The accepted times of `row` (empty when none), and its message; counts rows, untimed, filtered and capped. */
  accept(row: Record<string, unknown>): { times: RowTime[]; message: string } {
    const stats = this.stats;
    const o = this.o;
    stats.rows++;
    const times = rowTimes(row, this.src.artifact, this.override);
    if (!times.length) {
      stats.untimed++;
      return NONE;
    }
    const message = rowMessage(row, this.src.artifact);
    if (this.needle && !message.toLowerCase().includes(this.needle) && !JSON.stringify(row).toLowerCase().includes(this.needle)) {
      stats.filtered += times.length;
      return NONE;
    }
    let kept = 0;
    for (const t of times) {
      if ((o.startUs !== undefined && t.us < o.startUs) || (o.endUs !== undefined && t.us > o.endUs)) {
        stats.filtered++;
        continue;
      }
      if (this.n >= this.cap) {
        stats.capped[this.label] = (stats.capped[this.label] ?? 0) + 1;
        continue;
      }
      this.n++;
      this.used.add(t.field);
      times[kept++] = t;
    }
    times.length = kept;
    return { times, message };
  }

  /** Records the time fields this source used (call once its rows are read). */
  finish(): void {
    this.stats.fields[this.label] = [...this.used];
  }
}

const NONE = { times: [] as RowTime[], message: "" };

/** Hunt results carry the client and flow in each row. */
export const clientOf = (src: { client_id?: string }, row: Record<string, unknown>) => src.client_id ?? (typeof row.ClientId === "string" ? row.ClientId : undefined);
export const flowOf = (src: { flow_id?: string }, row: Record<string, unknown>) => src.flow_id ?? (typeof row.FlowId === "string" ? row.FlowId : undefined);

/** RFC 3339 with µs ("2026-11-20T08:14:03.123456Z"), the form every timeline output uses. */
export function isoMicros(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}${String(us % 1000).padStart(3, "0")}Z`);
}

async function* eventsOf(src: TimelineSource, o: TimelineOptions, stats: TimelineStats): AsyncGenerator<TimelineEvent> {
  const se = new SourceEvents(src, o, stats);
  for await (const row of src.rows as AsyncIterable<Record<string, unknown>>) {
    const { times, message } = se.accept(row);
    for (const t of times)
      yield {
        timestamp_us: t.us,
        datetime: isoMicros(t.us),
        timestamp_desc: t.desc,
        message,
        source: src.artifact,
        field: t.field,
        client_id: clientOf(src, row),
        flow_id: flowOf(src, row),
        row,
      };
  }
  se.finish();
}

/** The merged, time-ordered events of all sources; `stats` fills in as the stream is consumed. */
export function buildTimeline(sources: TimelineSource[], o: TimelineOptions = {}, stats: TimelineStats = newStats()): AsyncGenerator<TimelineEvent> {
  const key = (e: TimelineEvent) => e.timestamp_us;
  // Many short sources would otherwise each stay in memory; together they get one budget.
  const budget = { limit: o.memoryBudget ?? 200_000, held: 0 };
  const sorted = sources.map((s) => externalSort(eventsOf(s, o, stats), key, o.runSize, budget));
  return (async function* () {
    for await (const e of mergeSorted(sorted, key)) {
      stats.events++;
      yield e;
    }
  })();
}
