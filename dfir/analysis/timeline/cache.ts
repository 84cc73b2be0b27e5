/**
 * Built timelines kept for paging. A timeline is merged and sorted once, written as JSON Lines with an index of the
 * byte offset of every INDEX_EVERY-th line, so any page is one small read at a known offset instead of a rebuild and
 * re-sort per page. Entries are keyed by a fingerprint of the query AND of the state of every source (the caller
 * passes flow ids, states, row counts, last activity), so a changed flow misses; a flow still running is not stored.
 *
 * Rows are evidence: the folder is private (0700, files 0600), under Megaraptor's state folder
 * (`MEGARAPTOR_TIMELINE_CACHE_DIR`, default ~/.megaraptor/cache/timelines); deleting it clears the cache. Limits:
 * `MEGARAPTOR_TIMELINE_CACHE_BYTES` (total, least recently used entries evicted; default 1 GiB) and
 * `MEGARAPTOR_TIMELINE_CACHE_TTL_SECONDS` (default 3600). A build writes `*.partial` files and commits by renaming,
 * the metadata last: an entry without its metadata was never complete and is never read; leftovers of a build that
 * died are removed at the next start, this process's own at exit.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync } from "node:fs";
import { open, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { megaraptorHome } from "../../../core/paths.js";
import { numericSetting } from "../../../core/settings.js";
import type { LineChunk } from "./lines.js";

/** Lines between two index entries: a page reads at most this many lines more than it returns. */
export const INDEX_EVERY = 64;

export interface CacheConfig {
  dir: string;
  maxBytes: number;
  ttlMs: number;
}

export function timelineCacheConfig(env: NodeJS.ProcessEnv = process.env): CacheConfig {
  return {
    dir: env.MEGARAPTOR_TIMELINE_CACHE_DIR ?? join(megaraptorHome(), "cache", "timelines"),
    maxBytes: numericSetting("MEGARAPTOR_TIMELINE_CACHE_BYTES", env),
    ttlMs: numericSetting("MEGARAPTOR_TIMELINE_CACHE_TTL_SECONDS", env) * 1000,
  };
}

/** A stable fingerprint of the query and source states (sha256 of their JSON). */
export function fingerprint(parts: unknown): string {
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex");
}

interface Meta<M> {
  total: number;
  bytes: number;
  created: number;
  meta: M;
}

/** A built timeline: its event count, the caller's metadata (stats), and pages of its lines. */
export class TimelineEntry<M> {
  constructor(
    private readonly data: string,
    private readonly index: string,
    readonly total: number,
    readonly bytes: number,
    readonly meta: M,
    private readonly temporary: boolean,
  ) {}

  /** Lines offset … offset+limit-1 (fewer at the end): two index entries read, then one read of the bytes between. */
  async page(offset: number, limit: number): Promise<string[]> {
    if (offset >= this.total || limit <= 0) return [];
    const first = Math.floor(offset / INDEX_EVERY);
    const last = Math.ceil(Math.min(this.total, offset + limit) / INDEX_EVERY);
    const idx = await open(this.index, "r");
    let from: number;
    let to: number;
    try {
      const b = Buffer.alloc(16);
      await idx.read(b, 0, 8, first * 8);
      from = b.readDoubleLE(0);
      const { bytesRead } = last * INDEX_EVERY < this.total ? await idx.read(b, 8, 8, last * 8) : { bytesRead: 0 };
      to = bytesRead === 8 ? b.readDoubleLE(8) : this.bytes;
    } finally {
      await idx.close();
    }
    const fh = await open(this.data, "r");
    try {
      const buf = Buffer.allocUnsafe(to - from);
      for (let off = 0; off < buf.length; ) {
        const { bytesRead } = await fh.read(buf, off, buf.length - off, from + off);
        if (!bytesRead) break;
        off += bytesRead;
      }
      const skip = offset - first * INDEX_EVERY;
      return buf.toString("utf8").split("\n").slice(skip, skip + Math.min(limit, this.total - offset));
    } finally {
      await fh.close();
    }
  }

  /** Removes a timeline that was built but not stored (a running flow's): call once its page is read. */
  async dispose(): Promise<void> {
    if (this.temporary) await Promise.all([rm(this.data, { force: true }), rm(this.index, { force: true })]);
  }
}

const PARTIAL = ".partial";
const cleaned = new Set<string>();

/** The cache over one folder; one per process is enough (`timelineCache()`). */
export class TimelineCache {
  private readonly building = new Map<string, Promise<TimelineEntry<unknown>>>();
  private readonly mine = new Set<string>();

  constructor(
    readonly config: CacheConfig,
    private readonly now: () => number = Date.now,
  ) {}

  private ensureDir(): void {
    const dir = this.config.dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A folder that already existed keeps its mode through mkdir: evidence must not be readable by others.
    chmodSync(dir, 0o700);
    if (!cleaned.has(dir)) {
      cleaned.add(dir);
      this.sweep();
      // This process's unfinished builds are removed when it exits (another process's are left to it).
      process.once("exit", () => {
        for (const p of this.mine) rmSync(p, { force: true });
      });
    }
  }

  /**
   * The complete entry for `key` (a fingerprint), building it with `build` when it is missing, expired or was never
   * completed. Callers asking for the same key while it builds share that build. With `store: false` (a source
   * still changing) the timeline is built for this call only; dispose() removes it.
   */
  async get<M>(key: string, build: () => AsyncIterable<LineChunk>, meta: () => M, opts: { store?: boolean } = {}): Promise<TimelineEntry<M>> {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error("timeline cache key must be a sha256 fingerprint");
    this.ensureDir();
    const store = opts.store ?? true;
    if (store) {
      const hit = this.lookup<M>(key);
      if (hit) return hit;
      const pending = this.building.get(key);
      if (pending) return pending as Promise<TimelineEntry<M>>;
    }
    const p = this.build(key, build, meta, store);
    if (store) {
      this.building.set(key, p);
      void p.then(
        () => this.building.delete(key),
        () => this.building.delete(key),
      );
    }
    return p;
  }

  private paths(key: string) {
    const d = this.config.dir;
    return { data: join(d, `${key}.jsonl`), index: join(d, `${key}.idx`), meta: join(d, `${key}.json`) };
  }

  private lookup<M>(key: string): TimelineEntry<M> | undefined {
    const p = this.paths(key);
    try {
      const m = JSON.parse(readFileSync(p.meta, "utf8")) as Meta<M>;
      if (this.now() - m.created > this.config.ttlMs || !existsSync(p.data) || !existsSync(p.index)) return undefined;
      // The metadata's mtime is the entry's last use, for least-recently-used eviction.
      const t = new Date(this.now());
      utimesSync(p.meta, t, t);
      return new TimelineEntry(p.data, p.index, m.total, m.bytes, m.meta, false);
    } catch {
      return undefined;
    }
  }

  private async build<M>(key: string, build: () => AsyncIterable<LineChunk>, meta: () => M, store: boolean): Promise<TimelineEntry<M>> {
    const tag = `${process.pid}-${randomBytes(4).toString("hex")}`;
    const tmp = { data: join(this.config.dir, `${key}.${tag}.jsonl${PARTIAL}`), index: join(this.config.dir, `${key}.${tag}.idx${PARTIAL}`) };
    this.mine.add(tmp.data);
    this.mine.add(tmp.index);
    const data = await open(tmp.data, "wx", 0o600);
    const offsets: number[] = [];
    let total = 0;
    let bytes = 0;
    try {
      for await (const c of build()) {
        for (let i = (INDEX_EVERY - (total % INDEX_EVERY)) % INDEX_EVERY; i < c.starts.length; i += INDEX_EVERY) offsets.push(bytes + c.starts[i]!);
        total += c.starts.length;
        for (let off = 0; off < c.bytes.length; ) off += (await data.write(c.bytes, off, c.bytes.length - off)).bytesWritten;
        bytes += c.bytes.length;
      }
      const idx = Buffer.alloc(offsets.length * 8);
      offsets.forEach((o, i) => idx.writeDoubleLE(o, i * 8));
      await writeFile(tmp.index, idx, { mode: 0o600, flag: "wx" });
    } catch (err) {
      await data.close().catch(() => undefined);
      await Promise.all([rm(tmp.data, { force: true }), rm(tmp.index, { force: true })]);
      this.mine.delete(tmp.data);
      this.mine.delete(tmp.index);
      throw err;
    }
    await data.close();
    const m: Meta<M> = { total, bytes, created: this.now(), meta: meta() };
    if (!store) return new TimelineEntry(tmp.data, tmp.index, total, bytes, m.meta, true);
    const p = this.paths(key);
    // Data and index first, the metadata last: only a committed entry has metadata.
    await rename(tmp.data, p.data);
    await rename(tmp.index, p.index);
    await writeFile(`${p.meta}${PARTIAL}`, JSON.stringify(m), { mode: 0o600 });
    await rename(`${p.meta}${PARTIAL}`, p.meta);
    const t = new Date(m.created);
    utimesSync(p.meta, t, t);
    this.mine.delete(tmp.data);
    this.mine.delete(tmp.index);
    this.sweep(key);
    return new TimelineEntry(p.data, p.index, total, bytes, m.meta, false);
  }

  /**
   * Removes leftovers of builds whose process is gone, entries without metadata or past their expiry, then the least
   * recently used entries until the folder is under the byte cap (never `keep`, the entry just built).
   */
  sweep(keep?: string): void {
    const dir = this.config.dir;
    if (!existsSync(dir)) return;
    const names = readdirSync(dir);
    const entries: { key: string; used: number; bytes: number }[] = [];
    const keys = new Set(names.filter((n) => /^[0-9a-f]{64}\.json$/.test(n)).map((n) => n.slice(0, 64)));
    for (const n of names) {
      const path = join(dir, n);
      const partial = /^[0-9a-f]{64}\.(\d+)-[0-9a-f]+\.(jsonl|idx)\.partial$/.exec(n);
      if (partial) {
        if (!alive(Number(partial[1]))) rmSync(path, { force: true });
        continue;
      }
      const k = n.slice(0, 64);
      if (/^[0-9a-f]{64}\.(jsonl|idx)$/.test(n) && !keys.has(k) && !this.building.has(k)) rmSync(path, { force: true });
    }
    for (const key of keys) {
      const p = this.paths(key);
      try {
        const m = JSON.parse(readFileSync(p.meta, "utf8")) as Meta<unknown>;
        if (this.now() - m.created > this.config.ttlMs) throw new Error("expired");
        entries.push({ key, used: statSync(p.meta).mtimeMs, bytes: m.bytes + statSync(p.index).size });
      } catch {
        for (const f of Object.values(p)) rmSync(f, { force: true });
      }
    }
    let total = entries.reduce((n, e) => n + e.bytes, 0);
    entries.sort((a, b) => a.used - b.used);
    for (const e of entries) {
      if (total <= this.config.maxBytes) break;
      // The entry just built is being read: it is never evicted by its own build (one larger than the cap goes at
      // the next build).
      if (e.key === keep) continue;
      const p = this.paths(e.key);
      rmSync(p.meta, { force: true }); // metadata first: a reader never sees an entry whose data is going
      rmSync(p.data, { force: true });
      rmSync(p.index, { force: true });
      total -= e.bytes;
    }
  }
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

let shared: TimelineCache | undefined;

/** The process's timeline cache, configured from the environment. */
export function timelineCache(): TimelineCache {
  shared ??= new TimelineCache(timelineCacheConfig());
  return shared;
}
