/**
 * The timeline as JSON Lines, for files and the page cache: exactly the lines `JSON.stringify` of the events (host
 * name included) would give. Each event's message and row are serialised ONCE, when its row arrives, as UTF-8 bytes;
 * from then on only bytes move. Events are sorted in runs of bounded size as compact records (time, template,
 * message, row), spilled to a private temporary folder and merged by time, the merge writing each one's whole line —
 * nothing is parsed again, no event object is kept. Same order as buildTimeline: by time, ties in source order then
 * row order (runs are cut from the sources read one after another, and the merge breaks ties by run number, which is
 * a stable sort of the concatenated sources).
 */
import { mkdtemp, open, rm, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { clientOf, flowOf, newStats, SourceEvents, type TimelineOptions, type TimelineSource, type TimelineStats } from "./build.js";
import { RawRow } from "./raw-row.js";
import type { RowTime } from "./timestamps.js";

export interface LineOptions extends TimelineOptions {
  /** Bytes of records held before a run is sorted and spilled (default 8 MB): the memory bound of a build. */
  runBytes?: number;
  /** client_id → host name; a line carries `hostname` when its client has one. */
  hostnames?: ReadonlyMap<string, string | undefined>;
  /** Where runs are spilled (a private folder is made inside; default the system temp folder). */
  tmpDir?: string;
}

const HEAD = '{"timestamp_us":';
const HEAD_BYTES = Buffer.from(HEAD, "latin1");
const DATETIME = Buffer.from(',"datetime":"', "latin1");
const NL = 10;
const QUOTE = 0x22;
const EMPTY = Buffer.alloc(0);

/** Node's UTF-8 encoder behind Buffer#write (present on every Buffer; not in @types/node). */
interface Utf8Write {
  utf8Write(s: string, offset: number, length: number): number;
}
// Buffer#write's argument checks were a visible share of a build: the encoder is called directly where it exists.
const direct = typeof (Buffer.prototype as unknown as Partial<Utf8Write>).utf8Write === "function";
const writeUtf8 = direct ? (b: Buffer, s: string, at: number) => (b as unknown as Utf8Write).utf8Write(s, at, b.length - at) : (b: Buffer, s: string, at: number) => b.write(s, at, "utf8");

/**
 * Whether the UTF-8 bytes b[from, to) of a string are its JSON string's content as they are: no quote, backslash or
 * control character (JSON.stringify escapes those) and no 0xEF byte — the encoder writes a lone surrogate as U+FFFD
 * (EF BF BD) where JSON.stringify writes a \u escape, so any character from U+F000 up takes the JSON.stringify way.
 */
function plainJson(b: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = b[i]!;
    if (c < 0x20 || c === QUOTE || c === 0x5c || c === 0xef) return false;
  }
  return true;
}

/**
 * Writes the decimal digits of a non-negative safe integer at `at`; returns the end. Times in µs are above 2^31, where
 * `%` and `/` are floating-point operations (fmod was most of this function's cost): the number is split into parts
 * below 10^8 and their digits found with 32-bit integer arithmetic.
 */
function writeInt(b: Buffer, at: number, n: number): number {
  if (n < 2147483648) return writeInt32(b, at, n);
  const hi = Math.floor(n / 1e8);
  at = writeInt(b, at, hi);
  writeDigits(b, at, n - hi * 1e8, 8);
  return at + 8;
}

/** Writes the digits of 0 ≤ n < 2^31; returns the end. */
function writeInt32(b: Buffer, at: number, n: number): number {
  let len = 1;
  for (let p = 10; p <= n; p *= 10) len++;
  writeDigits(b, at, n, len);
  return at + len;
}

/** Writes 0 ≤ n < 2^31 as exactly `len` digits (leading zeros) at `at`. */
function writeDigits(b: Buffer, at: number, n: number, len: number): void {
  let x = n | 0;
  for (let i = at + len - 1; i >= at; i--) {
    const q = (x / 10) | 0;
    b[i] = 48 + x - q * 10;
    x = q;
  }
}

/** Writes `n` (0–99) as two digits. */
function two(b: Buffer, at: number, n: number): void {
  b[at] = 48 + Math.floor(n / 10);
  b[at + 1] = 48 + (n % 10);
}

/**
 * RFC 3339 with µs, as isoMicros gives it, written as bytes: the date part is formatted once per day
 * (Date#toISOString) and the time of day digit by digit (a string per event and its encoding were a measurable share
 * of a build).
 */
class IsoClock {
  private day = NaN;
  private prefix = EMPTY;
  /** Bytes `format` writes at most. */
  get max(): number {
    return this.prefix.length + 16;
  }
  /** The day's prefix ("2025-11-23T") for `us`; call before `max` and `write`. */
  at(us: number): void {
    const day = Math.floor(us / 86_400_000_000);
    if (day !== this.day) {
      this.day = day;
      this.prefix = Buffer.from(new Date(day * 86_400_000).toISOString().slice(0, 11), "latin1");
    }
  }
  /** Writes "HH:MM:SS.ffffffZ" after the prefix at `at` (after at(us)); returns the end. */
  write(b: Buffer, at: number, us: number): number {
    const sec = Math.floor(us / 1e6);
    const s = sec - this.day * 86_400;
    const frac = us - sec * 1e6;
    b.set(this.prefix, at);
    at += this.prefix.length;
    two(b, at, Math.floor(s / 3600));
    b[at + 2] = 0x3a;
    two(b, at + 3, Math.floor(s / 60) % 60);
    b[at + 5] = 0x3a;
    two(b, at + 6, s % 60);
    b[at + 8] = 0x2e;
    writeDigits(b, at + 9, frac, 6);
    b[at + 15] = 0x5a;
    return at + 16;
  }
}

/** The parts of a line that repeat for every event of a source, field and description (see Runs#addEvent). */
export interface LineTemplate {
  /** `","timestamp_desc":<desc>,"message":` */
  pre: Buffer;
  /** `,"source":<artifact>,"field":<field>` and the ids, up to `"row":` */
  mid: Buffer;
  /** The host name (when known) and the closing brace. */
  tail: Buffer;
}

/** A run record's header: time (float64), template, message bytes, row bytes (uint32 each), little-endian. */
const RECORD = 20;

/**
 * Sorted runs of events, kept compact: a record is the event's time, its template (the parts every event of a
 * source, field and description share), its message's JSON and its row's bytes — about two thirds of the line it
 * becomes, so a third less is written to, read back from and removed from disk. The merge writes the whole line
 * (mergeRuns). A run is one Buffer of records plus their times and offsets: records are stored as bytes at once
 * (strings would each keep a tree of their parts alive), so a run's memory is its byte size. Full runs are sorted
 * and spilled to files in a private temporary folder; the last one stays in memory.
 */
class Runs {
  private buf: Buffer;
  private used = 0;
  private keys: number[] = [];
  private starts: number[] = [];
  private dir?: string;
  private out?: Buffer;
  readonly files: string[] = [];
  readonly templates: LineTemplate[] = [];
  constructor(
    private readonly runBytes: number,
    private readonly tmp: string,
  ) {
    this.buf = Buffer.allocUnsafe(runBytes);
  }

  /** Registers a template; its number goes in each of its records. */
  template(t: LineTemplate): number {
    return this.templates.push(t) - 1;
  }

  /**
   * Adds one event: at `us`, template `tpl`, its message (the JSON string value is written here) and its row —
   * bytes[from, to) as the server encoded it or, without `bytes`, the string `rowJson`. False when the run is full
   * (spill, then add again).
   */
  addEvent(us: number, tpl: number, message: string, bytes: Buffer | undefined, from: number, to: number, rowJson: string): boolean {
    // UTF-8 takes at most 3 bytes per UTF-16 unit; checked before writing because the encoder truncates silently.
    const rowMax = bytes ? to - from : rowJson.length * 3;
    if (!this.room(RECORD + 2 + message.length * 3 + rowMax)) return false;
    let b = this.buf;
    const at = this.used;
    const m = at + RECORD;
    // The message as its JSON string: quotes around its UTF-8 when nothing in it needs an escape (what JSON.stringify
    // would write then), else JSON.stringify's own text. JSON.stringify per event (a rope flattened, then copied
    // into a new string, then encoded) was the largest single cost of encoding an event.
    b[m] = QUOTE;
    let ml = writeUtf8(b, message, m + 1);
    if (plainJson(b, m + 1, m + 1 + ml)) {
      b[m + 1 + ml] = QUOTE;
      ml += 2;
    } else {
      const json = JSON.stringify(message);
      if (!this.room(RECORD + json.length * 3 + rowMax)) return false;
      b = this.buf;
      ml = writeUtf8(b, json, m);
    }
    const rl = bytes ? bytes.copy(b, m + ml, from, to) : writeUtf8(b, rowJson, m + ml);
    this.keys.push(us);
    this.starts.push(at);
    b.writeDoubleLE(us, at);
    b.writeUInt32LE(tpl, at + 8);
    b.writeUInt32LE(ml, at + 12);
    b.writeUInt32LE(rl, at + 16);
    this.used = m + ml + rl;
    return true;
  }

  /** Whether `n` more bytes fit in the run; a run with no record yet grows to take one record larger than a run. */
  private room(n: number): boolean {
    if (this.used + n <= this.buf.length) return true;
    if (this.keys.length) return false;
    this.buf = Buffer.allocUnsafe(Math.max(this.runBytes, n));
    this.used = 0;
    return true;
  }

  /** Record indexes in order: by time, equal times in arrival order. */
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
      const out = (this.out ??= Buffer.allocUnsafe(1 << 20));
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
      out.push(new MemoryReader(this.buf, order.map((i) => this.starts[i]!), order.map((i) => this.keys[i]!)));
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

/** A run being merged: its current record starts at buf[start] and has time `key`; done when `done`. */
interface Reader {
  buf: Buffer;
  start: number;
  key: number;
  done: boolean;
  /** Moves to the next record; false when it must be read from disk first (await fill()). */
  advance(): boolean;
  fill(): Promise<void>;
  close(): Promise<void>;
}

class MemoryReader implements Reader {
  start = 0;
  key = 0;
  done = false;
  private i = -1;
  constructor(
    readonly buf: Buffer,
    private readonly starts: number[],
    private readonly keys: number[],
  ) {
    this.advance();
  }
  advance(): boolean {
    const i = ++this.i;
    if (i >= this.starts.length) this.done = true;
    else {
      this.start = this.starts[i]!;
      this.key = this.keys[i]!;
    }
    return true;
  }
  async fill(): Promise<void> {}
  async close(): Promise<void> {}
}

/** Bytes of the record at `start` in `buf`, from its header. */
const recordBytes = (buf: Buffer, start: number) => RECORD + buf.readUInt32LE(start + 12) + buf.readUInt32LE(start + 16);

/**
 * Reads a spilled run in 256 KB blocks (one per run is held during the merge, so the block size times the run count
 * is part of a build's memory); records are found by the lengths in their headers.
 */
class FileReader implements Reader {
  buf = Buffer.allocUnsafe(256 * 1024);
  start = 0;
  key = 0;
  done = false;
  private end = 0;
  private filled = 0;
  private eof = false;
  private constructor(private readonly fh: FileHandle) {}

  static async open(path: string): Promise<FileReader> {
    const r = new FileReader(await open(path, "r"));
    await r.fill();
    return r;
  }

  /** The record at `start` when a whole one is in the block. */
  private take(): boolean {
    if (this.start + RECORD > this.filled) return false;
    const end = this.start + recordBytes(this.buf, this.start);
    if (end > this.filled) return false;
    this.end = end;
    this.key = this.buf.readDoubleLE(this.start);
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
      // Keep the partial record: move it to the front (the merge copies records out, so the block can be reused); a
      // record longer than the block grows it.
      const rest = this.filled - this.start;
      const need = rest >= RECORD ? recordBytes(this.buf, this.start) : 0;
      if (rest * 2 > this.buf.length || need > this.buf.length) {
        const next = Buffer.allocUnsafe(Math.max(rest * 2, need));
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
        // A partial record at the end cannot happen (runs are written whole); it would be dropped by the merge's count check.
        this.done = true;
        return;
      }
    }
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}

/**
 * A chunk of the merged timeline: whole lines (newline-terminated) and where each starts. `bytes` is reused for the
 * next chunk: use (or copy) it before asking for the next one.
 */
export interface LineChunk {
  bytes: Buffer;
  starts: number[];
}

/**
 * Merges runs by time (ties: the earlier run first), writing each record as its line — `{"timestamp_us":<us>,
 * "datetime":"<iso>` + pre + message + mid + row + tail and a newline — into chunks of about `chunkBytes`.
 */
async function* mergeRuns(readers: Reader[], templates: readonly LineTemplate[], chunkBytes: number): AsyncGenerator<LineChunk> {
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
  const clock = new IsoClock();
  let out = Buffer.allocUnsafe(chunkBytes);
  let pos = 0;
  let starts: number[] = [];
  while (heap.length) {
    const r = readers[heap[0]!]!;
    const rb = r.buf;
    const s = r.start;
    const us = r.key;
    const t = templates[rb.readUInt32LE(s + 8)]!;
    const ml = rb.readUInt32LE(s + 12);
    const rl = rb.readUInt32LE(s + 16);
    clock.at(us);
    const len = HEAD_BYTES.length + 20 + DATETIME.length + clock.max + t.pre.length + ml + t.mid.length + rl + t.tail.length + 1;
    if (pos + len > out.length) {
      if (pos) yield { bytes: out.subarray(0, pos), starts };
      // The consumer is done with the chunk once it asks for the next: the block is reused (a fresh one per chunk
      // cost page faults on every block of the file).
      if (len > out.length) out = Buffer.allocUnsafe(len);
      pos = 0;
      starts = [];
    }
    starts.push(pos);
    out.set(HEAD_BYTES, pos);
    pos += HEAD_BYTES.length;
    // Times are safe integers of µs (toMicros); anything else would still be written as String() gives it.
    pos = Number.isSafeInteger(us) && us >= 0 ? writeInt(out, pos, us) : pos + writeUtf8(out, String(us), pos);
    out.set(DATETIME, pos);
    pos = clock.write(out, pos + DATETIME.length, us);
    out.set(t.pre, pos);
    pos += t.pre.length;
    pos += rb.copy(out, pos, s + RECORD, s + RECORD + ml);
    out.set(t.mid, pos);
    pos += t.mid.length;
    pos += rb.copy(out, pos, s + RECORD + ml, s + RECORD + ml + rl);
    out.set(t.tail, pos);
    pos += t.tail.length;
    out[pos++] = NL;
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
 * The events of one source, each encoded as its line and handed to the runs. With `src.batches` (indexed result
 * batches: the rows as the server encoded them, their columns found in the same pass) or `src.lines` (JSON Lines,
 * each row scanned for its columns here) a row is read through RawRow — only the columns its time and message need are
 * decoded — and its bytes are copied into the line as they are; otherwise rows are objects and `row` is their
 * JSON.stringify. Everything but the row's bytes is the same in both: same key order and omissions as
 * JSON.stringify of the event (undefined ids left out, hostname last).
 */
async function encodeSource(src: TimelineSource, o: LineOptions, stats: TimelineStats, runs: Runs): Promise<void> {
  const se = new SourceEvents(src, o, stats);
  const hosts = o.hostnames;
  const source = JSON.stringify(src.artifact);
  // The parts of a line that repeat for every row of a source are encoded once, as a template per client and flow
  // (`ids`), description and field (Runs#template): a hunt's rows alternating between clients reuse theirs.
  const byIds = new Map<string, Map<string, Map<string, number>>>();
  let templates = new Map<string, Map<string, number>>();
  const template = (desc: string, field: string): number => {
    let byField = templates.get(desc);
    if (!byField) templates.set(desc, (byField = new Map()));
    let id = byField.get(field);
    if (id === undefined) {
      id = runs.template({ pre: Buffer.from(`","timestamp_desc":${JSON.stringify(desc)},"message":`), mid: Buffer.from(`,"source":${source},"field":${JSON.stringify(field)}${ids}`), tail });
      byField.set(field, id);
    }
    return id;
  };
  // The ids part and the tail of a line depend only on the client and flow: made again only when they change (a
  // client's flow: never; a hunt: per client).
  let lastCid: string | undefined;
  let lastFid: string | undefined;
  let ids = "";
  let tail = EMPTY;
  let fresh = false;
  /** One event's record. */
  const add = (t: RowTime, message: string, bytes: Buffer | undefined, from: number, to: number, rowJson: string): boolean => runs.addEvent(t.us, template(t.desc, t.field), message, bytes, from, to, rowJson);
  /**
   * Adds the events of `row`; its JSON is bytes[from, to), or JSON.stringify(row) when `bytes` is undefined.
   * Synchronous unless a run fills up (then the returned promise spills and adds the rest): a promise per row was a
   * measurable share of a build.
   */
  const emit = (row: Record<string, unknown>, bytes: Buffer | undefined, from: number, to: number): Promise<void> | undefined => {
    const accepted = se.accept(row);
    const times = accepted.times;
    if (!times.length) return undefined;
    const cid = clientOf(src, row);
    const fid = flowOf(src, row);
    if (!fresh || cid !== lastCid || fid !== lastFid) {
      fresh = true;
      lastCid = cid;
      lastFid = fid;
      const host = cid ? hosts?.get(cid) : undefined;
      ids = `${cid !== undefined ? `,"client_id":${JSON.stringify(cid)}` : ""}${fid !== undefined ? `,"flow_id":${JSON.stringify(fid)}` : ""},"row":`;
      tail = Buffer.from(`${host ? `,"hostname":${JSON.stringify(host)}` : ""}}`);
      templates = byIds.get(ids) ?? (byIds.set(ids, new Map()), byIds.get(ids)!);
    }
    const message = accepted.message;
    const rowJson = bytes ? "" : JSON.stringify(row);
    for (let i = 0; i < times.length; i++)
      if (!add(times[i]!, message, bytes, from, to, rowJson))
        // The caller awaits this before its next row, so `ids` and `tail` are still this row's.
        return (async () => {
          for (; i < times.length; i++)
            if (!add(times[i]!, message, bytes, from, to, rowJson)) {
              await runs.spill();
              add(times[i]!, message, bytes, from, to, rowJson);
            }
        })();
    return undefined;
  };
  const raw = new RawRow();
  /** The rows of a chunk of JSON Lines, each scanned for its columns by RawRow. */
  const lines = async (chunk: Buffer): Promise<void> => {
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
  };
  if (src.batches)
    for await (const ix of src.batches()) {
      if (ix.lines) {
        await lines(ix.lines);
        continue;
      }
      // The batch was read once, for its rows and their columns together: no scan per row here.
      const b = ix.bytes;
      for (let r = 0; r < ix.rows; r++) {
        const row = ix.row;
        const s = row[4 * r]!;
        const e = row[4 * r + 1]!;
        raw.take(b, s, e, ix.members, row[4 * r + 2]!, row[4 * r + 3]!);
        const full = emit(raw.view, b, s, e);
        if (full) await full;
      }
    }
  else if (src.lines) for await (const chunk of src.lines()) await lines(chunk);
  else
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
    for (const src of sources) await encodeSource(src, o, stats, runs);
    readers = await runs.readers();
    for await (const chunk of mergeRuns(readers, runs.templates, chunkBytes)) {
      stats.events += chunk.starts.length;
      yield chunk;
    }
  } finally {
    await Promise.all(readers.map((r) => r.close()));
    await runs.dispose();
  }
}
