/**
 * The timeline as JSON Lines, for files and the page cache: each event is serialised ONCE, when its row arrives,
 * into exactly the line `JSON.stringify` of the event (host name included) would give, and stored as UTF-8 bytes;
 * from then on only bytes move. Lines are sorted in runs of bounded size (spilled to a private temporary folder) and merged by the time at
 * the head of each line — nothing is parsed again, no event object is kept. Same order as buildTimeline: by time,
 * ties in source order then row order (runs are cut from the sources read one after another, and the merge breaks
 * ties by run number, which is a stable sort of the concatenated sources).
 */
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientOf, flowOf, newStats, SourceEvents, type TimelineOptions, type TimelineSource, type TimelineStats } from "./build.js";
import { RawRow } from "./raw-row.js";
import type { RowTime } from "./timestamps.js";

export interface LineOptions extends TimelineOptions {
  /** Bytes of lines held before a run is sorted and spilled (default 8 MB): the memory bound of a build. */
  runBytes?: number;
  /** client_id → host name; a line carries `hostname` when its client has one. */
  hostnames?: ReadonlyMap<string, string | undefined>;
  /** Where runs are spilled (a private folder is made inside; default the system temp folder). */
  tmpDir?: string;
}

const HEAD = '{"timestamp_us":';
const NL = 10;
const EMPTY = Buffer.alloc(0);

/** The event time of a line (the integer after `{"timestamp_us":`), read from its bytes without parsing the line. */
export function lineTime(buf: Buffer, start: number): number {
  let n = 0;
  for (let i = start + HEAD.length; ; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) return n;
    n = n * 10 + (c - 48);
  }
}

const TWO = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, "0"));

/**
 * RFC 3339 with µs, as isoMicros gives it: the date part is formatted once per day and the time of day from a table
 * (Date#toISOString per event was a measurable share of a build).
 */
class IsoClock {
  private day = NaN;
  private prefix = "";
  format(us: number): string {
    const sec = Math.floor(us / 1e6);
    const day = Math.floor(sec / 86_400);
    if (day !== this.day) {
      this.day = day;
      this.prefix = new Date(day * 86_400_000).toISOString().slice(0, 11);
    }
    const s = sec - day * 86_400;
    const frac = us - sec * 1e6;
    return `${this.prefix}${TWO[Math.floor(s / 3600)]}:${TWO[Math.floor(s / 60) % 60]}:${TWO[s % 60]}.${frac < 100_000 ? String(frac).padStart(6, "0") : String(frac)}Z`;
  }
}

/**
 * Sorted runs of lines. A run is one Buffer of encoded lines plus their times and offsets: lines are stored as
 * bytes at once (strings built by concatenation would each keep a tree of their parts alive — measured at several
 * times their length), so a run's memory is its byte size. Full runs are sorted and spilled to files in a private
 * temporary folder; the last one stays in memory.
 */
class Runs {
  private buf: Buffer;
  private used = 0;
  private keys: number[] = [];
  private starts: number[] = [];
  private dir?: string;
  readonly files: string[] = [];
  constructor(
    private readonly runBytes: number,
    private readonly tmp: string,
  ) {
    this.buf = Buffer.allocUnsafe(runBytes);
  }

  /** Adds a line (with its newline); false when the run is full (spill, then add again). Synchronous: once per event. */
  add(k: number, line: string): boolean {
    return this.addParts(k, line, EMPTY, 0, 0, "");
  }

  /**
   * Adds the line `head` + bytes[from, to) + `tail` (and its newline): the raw path's event, whose row is copied as
   * the server encoded it. False when the run is full.
   */
  addParts(k: number, head: string, bytes: Buffer, from: number, to: number, tail: string): boolean {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; checked before writing because Buffer#write truncates silently.
    const worst = (head.length + tail.length) * 3 + (to - from) + 1;
    if (this.used + worst > this.buf.length) {
      if (this.keys.length) return false;
      this.buf = Buffer.allocUnsafe(Math.max(this.runBytes, worst)); // one line larger than a run
    }
    this.keys.push(k);
    this.starts.push(this.used);
    this.used += this.buf.write(head, this.used, "utf8");
    if (to > from) this.used += bytes.copy(this.buf, this.used, from, to);
    if (tail) this.used += this.buf.write(tail, this.used, "utf8");
    this.buf[this.used++] = NL;
    return true;
  }

  /** Line indexes in order: by time, equal times in arrival order. */
  private order(): number[] {
    const keys = this.keys;
    return Array.from(keys.keys()).sort((a, b) => keys[a]! - keys[b]! || a - b);
  }

  private end(i: number): number {
    return i + 1 < this.starts.length ? this.starts[i + 1]! : this.used;
  }

  async spill(): Promise<void> {
    const order = this.order();
    this.dir ??= await mkdtemp(join(this.tmp, "megaraptor-timeline-"));
    const path = join(this.dir, `run-${this.files.length}`);
    const fh = await open(path, "wx", 0o600);
    try {
      const out = Buffer.allocUnsafe(1 << 20);
      let pos = 0;
      for (const i of order) {
        const s = this.starts[i]!;
        const e = this.end(i);
        if (pos + (e - s) > out.length) {
          await writeAll(fh, out, pos);
          pos = 0;
        }
        if (e - s > out.length) await writeAll(fh, this.buf.subarray(s, e), e - s);
        else pos += this.buf.copy(out, pos, s, e);
      }
      await writeAll(fh, out, pos);
    } finally {
      await fh.close();
    }
    this.files.push(path);
    this.used = 0;
    this.keys = [];
    this.starts = [];
  }

  /** Readers over every run in run order; the last run stays in memory. */
  async readers(): Promise<Reader[]> {
    const out: Reader[] = [];
    for (const f of this.files) out.push(await FileReader.open(f));
    if (this.keys.length) {
      const order = this.order();
      out.push(new MemoryReader(this.buf, order.map((i) => this.starts[i]!), order.map((i) => this.end(i)), order.map((i) => this.keys[i]!)));
    }
    return out;
  }

  async dispose(): Promise<void> {
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, length: number): Promise<void> {
  for (let off = 0; off < length; ) off += (await fh.write(buf, off, length - off)).bytesWritten;
}

/** A run being merged: its current line is buf[start, end) (newline included); done when `done`. */
interface Reader {
  buf: Buffer;
  start: number;
  end: number;
  key: number;
  done: boolean;
  /** Moves to the next line; false when it must be read from disk first (await fill()). */
  advance(): boolean;
  fill(): Promise<void>;
  close(): Promise<void>;
}

class MemoryReader implements Reader {
  start = 0;
  end = 0;
  key = 0;
  done = false;
  private i = -1;
  constructor(
    readonly buf: Buffer,
    private readonly starts: number[],
    private readonly ends: number[],
    private readonly keys: number[],
  ) {
    this.advance();
  }
  advance(): boolean {
    const i = ++this.i;
    if (i >= this.starts.length) this.done = true;
    else {
      this.start = this.starts[i]!;
      this.end = this.ends[i]!;
      this.key = this.keys[i]!;
    }
    return true;
  }
  async fill(): Promise<void> {}
  async close(): Promise<void> {}
}

/**
 * Reads a spilled run in 256 KB blocks (one per run is held during the merge, so the block size times the run count
 * is part of a build's memory); lines are found by their newline and compared by their time bytes.
 */
class FileReader implements Reader {
  buf = Buffer.allocUnsafe(256 * 1024);
  start = 0;
  end = 0;
  key = 0;
  done = false;
  private filled = 0;
  private eof = false;
  private constructor(private readonly fh: FileHandle) {}

  static async open(path: string): Promise<FileReader> {
    const r = new FileReader(await open(path, "r"));
    await r.fill();
    return r;
  }

  /** The line at `start` when a whole one is in the block. */
  private take(): boolean {
    const nl = this.buf.indexOf(NL, this.start);
    if (nl < 0 || nl >= this.filled) return false;
    this.end = nl + 1;
    this.key = lineTime(this.buf, this.start);
    return true;
  }

  advance(): boolean {
    this.start = this.end;
    if (this.take()) return true;
    if (this.eof && this.start >= this.filled) this.done = true;
    return this.done;
  }

  async fill(): Promise<void> {
    for (;;) {
      // Keep the partial line: move it to the front (the merge copies lines out, so the block can be reused); a line
      // longer than the block grows it.
      const rest = this.filled - this.start;
      if (rest * 2 > this.buf.length) {
        const next = Buffer.allocUnsafe(rest * 2);
        this.buf.copy(next, 0, this.start, this.filled);
        this.buf = next;
      } else this.buf.copyWithin(0, this.start, this.filled);
      this.start = 0;
      this.end = 0;
      this.filled = rest;
      const { bytesRead } = await this.fh.read(this.buf, this.filled, this.buf.length - this.filled, null);
      this.filled += bytesRead;
      if (!bytesRead) this.eof = true;
      if (this.take()) return;
      if (this.eof) {
        this.done = true;
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/** A chunk of the merged timeline: whole lines (newline-terminated) and where each starts. */
export interface LineChunk {
  bytes: Buffer;
  starts: number[];
}

/** Merges runs by line time (ties: the earlier run first), yielding chunks of about `chunkBytes`. */
async function* mergeRuns(readers: Reader[], chunkBytes: number): AsyncGenerator<LineChunk> {
  const heap = readers.map((_, i) => i).filter((i) => !readers[i]!.done);
  const less = (x: number, y: number) => {
    const a = readers[heap[x]!]!;
    const b = readers[heap[y]!]!;
    return a.key < b.key || (a.key === b.key && heap[x]! < heap[y]!);
  };
  const down = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
  let out = Buffer.allocUnsafe(chunkBytes);
  let pos = 0;
  let starts: number[] = [];
  while (heap.length) {
    const r = readers[heap[0]!]!;
    const len = r.end - r.start;
    if (pos + len > out.length) {
      if (pos) yield { bytes: out.subarray(0, pos), starts };
      out = Buffer.allocUnsafe(Math.max(chunkBytes, len));
      pos = 0;
      starts = [];
    }
    starts.push(pos);
    pos += r.buf.copy(out, pos, r.start, r.end);
    if (!r.advance()) await r.fill();
    if (r.done) {
      heap[0] = heap[heap.length - 1]!;
      heap.pop();
    }
    if (heap.length) down(0);
  }
  if (pos) yield { bytes: out.subarray(0, pos), starts };
}

/**
 * The events of one source, each encoded as its line and handed to the runs. With `src.lines` (the rows as the
 * server encoded them, JSON Lines) a row is read through RawRow — only the columns its time and message need are
 * decoded — and its bytes are copied into the line as they are; otherwise rows are objects and `row` is their
 * JSON.stringify. Everything but the row's bytes is the same in both: same key order and omissions as
 * JSON.stringify of the event (undefined ids left out, hostname last).
 */
async function encodeSource(src: TimelineSource, o: LineOptions, stats: TimelineStats, clock: IsoClock, runs: Runs): Promise<void> {
  const se = new SourceEvents(src, o, stats);
  const hosts = o.hostnames;
  const source = JSON.stringify(src.artifact);
  // Descriptions and fields repeat for every row of a source: their JSON is made once.
  const json = new Map<string, string>();
  const J = (s: string) => json.get(s) ?? (json.set(s, JSON.stringify(s)), json.get(s)!);
  /**
   * Adds the events of `row`; its JSON is bytes[from, to), or JSON.stringify(row) when `bytes` is undefined.
   * Synchronous unless a run fills up (then the returned promise spills and adds the rest): a promise per row was a
   * measurable share of a build.
   */
  // The ids part and the tail of a line depend only on the client and flow: made again only when they change (a
  // client's flow: never; a hunt: per client).
  let lastCid: string | undefined;
  let lastFid: string | undefined;
  let ids = "";
  let tail = "";
  let fresh = false;
  /** One event's line: head, then the row (bytes[from, to) or rowJson), then the tail. */
  const add = (t: RowTime, mid: string, bytes: Buffer | undefined, from: number, to: number, rowJson: string): boolean => {
    const head = `${HEAD}${t.us},"datetime":"${clock.format(t.us)}","timestamp_desc":${J(t.desc)}${mid},"field":${J(t.field)}${ids}`;
    return bytes ? runs.addParts(t.us, head, bytes, from, to, tail) : runs.add(t.us, head + rowJson + tail);
  };
  const emit = (row: Record<string, unknown>, bytes: Buffer | undefined, from: number, to: number): Promise<void> | undefined => {
    const { times, message } = se.accept(row);
    if (!times.length) return undefined;
    const cid = clientOf(src, row);
    const fid = flowOf(src, row);
    if (!fresh || cid !== lastCid || fid !== lastFid) {
      fresh = true;
      lastCid = cid;
      lastFid = fid;
      const host = cid ? hosts?.get(cid) : undefined;
      ids = `${cid !== undefined ? `,"client_id":${J(cid)}` : ""}${fid !== undefined ? `,"flow_id":${J(fid)}` : ""},"row":`;
      tail = `${host ? `,"hostname":${J(host)}` : ""}}`;
    }
    const mid = `,"message":${JSON.stringify(message)},"source":${source}`;
    const rowJson = bytes ? "" : JSON.stringify(row);
    for (let i = 0; i < times.length; i++)
      if (!add(times[i]!, mid, bytes, from, to, rowJson))
        // The caller awaits this before its next row, so `ids` and `tail` are still this row's.
        return (async () => {
          for (; i < times.length; i++)
            if (!add(times[i]!, mid, bytes, from, to, rowJson)) {
              await runs.spill();
              add(times[i]!, mid, bytes, from, to, rowJson);
            }
        })();
    return undefined;
  };
  if (src.lines) {
    const raw = new RawRow();
    for await (const chunk of src.lines()) {
      for (let s = 0; s < chunk.length; ) {
        let e = chunk.indexOf(NL, s);
        if (e < 0) e = chunk.length;
        if (e > s) {
          raw.reset(chunk, s, e);
          const full = emit(raw.view, chunk, s, e);
          if (full) await full;
        }
        s = e + 1;
      }
    }
  } else
    for await (const row of src.rows as AsyncIterable<Record<string, unknown>>) {
      const full = emit(row, undefined, 0, 0);
      if (full) await full;
    }
  se.finish();
}

/**
 * The merged, time-ordered timeline as chunks of JSON Lines; `stats` is complete when the generator ends. Temporary
 * runs are removed however the iteration ends.
 */
export async function* timelineLines(sources: TimelineSource[], o: LineOptions = {}, stats: TimelineStats = newStats(), chunkBytes = 256 * 1024): AsyncGenerator<LineChunk> {
  const runs = new Runs(o.runBytes ?? 8 * 1024 * 1024, o.tmpDir ?? tmpdir());
  let readers: Reader[] = [];
  try {
    const clock = new IsoClock();
    for (const src of sources) await encodeSource(src, o, stats, clock, runs);
    readers = await runs.readers();
    for await (const chunk of mergeRuns(readers, chunkBytes)) {
      stats.events += chunk.starts.length;
      yield chunk;
    }
  } finally {
    await Promise.all(readers.map((r) => r.close()));
    await runs.dispose();
  }
}
