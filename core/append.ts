/**
 * Append-only, hash-chained, MAC'd JSON Lines logs (the audit log and the case ledgers), safe across processes.
 *
 * Each entry carries `seq`, `prev` (the previous entry's hash), `hash` (SHA-256 of the entry as written) and `mac`
 * (HMAC of the hash under the key in ./integrity.ts). An append takes a real file lock (`proper-lockfile`: a lock
 * directory beside the log with a heartbeat, reclaimed when its owner dies) so that several server processes sharing
 * one file never chain from a stale head: the tail is re-read and checked against the checkpoint under the lock, the
 * line is written and fsync'd, then the checkpoint moves. A write that fails is rolled back to the previous size, so a
 * full disk leaves no half line that would read as tampering.
 */
import { createHash } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import lockfile from "proper-lockfile";
import { integrityKeys, type IntegrityKeys } from "./integrity.js";

export const GENESIS = "0".repeat(64);

export interface Chained {
  seq: number;
  prev: string;
  hash: string;
  mac: string;
}

export interface VerifyResult {
  ok: boolean;
  /** Entries verified (before the first bad one, when there is one). */
  entries: number;
  /** 1-based line of the first entry that fails (one past the end when entries are missing). */
  badLine?: number;
  reason?: string;
  /** The last append was written but its checkpoint not yet (a crash in between); still intact. */
  beyondCheckpoint?: boolean;
}

export interface ChainedLogOptions {
  keys?: IntegrityKeys;
  /** Builds the error for a log that fails verification (e.g. LEDGER_TAMPERED). */
  broken: (line: number, why: string) => Error;
  /** Builds the error for a log that cannot be written (full disk, read-only file, lock held too long). */
  unavailable: (why: string, cause?: unknown) => Error;
  /** What an entry is called in messages, e.g. "a ledger entry". */
  noun?: string;
  /** Verify every entry before each append (small logs) instead of only the tail (the audit log). */
  verifyAllOnAppend?: boolean;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const macInput = (hash: string) => `megaraptor-entry\n${hash}`;

/** In-process queues by absolute path: one writer at a time even before the file lock is asked for. */
const queues = new Map<string, Promise<unknown>>();

/** Stale after 10 s without a heartbeat; retried for up to ~30 s, longer than any append holds the lock. */
const LOCK = { stale: 10_000, update: 2_000, retries: { retries: 150, factor: 1.2, minTimeout: 10, maxTimeout: 200, randomize: true } };

/** The file's text, or "" when it does not exist or is not a regular file (a device never counts as content). */
function readLog(path: string): string {
  try {
    if (!statSync(path).isFile()) return "";
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw err;
  }
  return readFileSync(path, "utf8");
}

/** The last non-empty line, read backwards in chunks (the audit log can be large; only its tail is needed). */
function readLastLine(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size === 0) return undefined;
    let end = st.size;
    let tail = Buffer.alloc(0);
    const chunk = 64 * 1024;
    while (end > 0) {
      const start = Math.max(0, end - chunk);
      const buf = Buffer.alloc(end - start);
      readSync(fd, buf, 0, buf.length, start);
      tail = Buffer.concat([buf, tail]);
      end = start;
      const text = tail.toString("utf8").replace(/\n+$/, "");
      const nl = text.lastIndexOf("\n");
      if (nl >= 0) return text.slice(nl + 1);
      if (end === 0) return text || undefined;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export class ChainedLog {
  readonly path: string;
  private readonly keys: IntegrityKeys;

  constructor(
    path: string,
    private readonly opts: ChainedLogOptions,
  ) {
    this.path = resolve(path);
    this.keys = opts.keys ?? integrityKeys();
  }

  /** Checks one parsed entry against the previous hash and its own hash and MAC; returns why it fails, if it does. */
  private check(raw: Record<string, unknown>, prev: string, seq: number): string | undefined {
    const { hash, mac, ...body } = raw;
    if (body.prev !== prev) return "does not chain to the previous entry (an entry was removed or reordered)";
    // Hash the entry exactly as written (key order included).
    if (sha256(JSON.stringify(body)) !== hash) return "its content does not match its hash (it was modified)";
    if (body.seq !== seq) return `sequence ${String(body.seq)} where ${seq} was expected`;
    const macOk = this.keys.checkMac(macInput(String(hash)), mac);
    if (macOk === undefined) return `the integrity key ${this.keys.keyPath} is missing, so the entry's MAC cannot be checked`;
    if (!macOk) return "the entry's MAC does not match (forged, or edited and re-hashed without the key)";
    return undefined;
  }

  /** Verifies every entry and the checkpoint; returns the parsed entries with the result. */
  verify(): { result: VerifyResult; entries: Record<string, unknown>[] } {
    const lines = readLog(this.path).split("\n");
    const entries: Record<string, unknown>[] = [];
    let prev = GENESIS;
    let lineNo = 0;
    for (let i = 0; i < lines.length; i++) {
      if (!lines[i]) continue;
      lineNo = i + 1;
      let raw: Record<string, unknown>;
      try {
        raw = JSON.parse(lines[i]!) as Record<string, unknown>;
        if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw new Error("not an object");
      } catch {
        return { result: { ok: false, entries: entries.length, badLine: lineNo, reason: `not ${this.opts.noun ?? "an entry"} (not valid JSON)` }, entries };
      }
      const why = this.check(raw, prev, entries.length + 1);
      if (why) return { result: { ok: false, entries: entries.length, badLine: lineNo, reason: why }, entries };
      prev = String(raw.hash);
      entries.push(raw);
    }
    const n = entries.length;
    const cp = this.keys.readCheckpoint(this.path);
    const fail = (reason: string, badLine = lineNo + 1) => ({ result: { ok: false as const, entries: n, badLine, reason }, entries });
    if (cp.state === "invalid") return fail(cp.why);
    if (cp.state === "none")
      return n === 0 ? { result: { ok: true, entries: 0 }, entries } : fail(`no checkpoint is recorded for this log in ${this.keys.dir}, so removal of its newest entries cannot be ruled out (a copy is checked through its original)`);
    const { count, head } = cp.checkpoint;
    if (n < count) return fail(`the log ends after ${n} entries but its checkpoint records ${count} entries: the newest entries were removed${n === 0 ? " (the file was emptied or deleted)" : ""}`);
    if (count > 0 && entries[count - 1]!.hash !== head) return fail(`entry ${count} is not the one the checkpoint recorded (the log was rewritten)`, count);
    if (n > count + 1) return fail(`${n - count} entries follow the checkpoint's head; at most one can (an append interrupted before its checkpoint)`, count + 2);
    return { result: n === count ? { ok: true, entries: n } : { ok: true, entries: n, beyondCheckpoint: true }, entries };
  }

  /** The next seq and prev after checking the tail (or the whole log) against the checkpoint. Runs under the lock. */
  private next(): { seq: number; prev: string; entries?: Record<string, unknown>[] } {
    if (this.opts.verifyAllOnAppend) {
      const { result, entries } = this.verify();
      if (!result.ok) throw this.opts.broken(result.badLine ?? 0, result.reason ?? "does not verify");
      return { seq: entries.length + 1, prev: entries.length ? String(entries.at(-1)!.hash) : GENESIS, entries };
    }
    const cp = this.keys.readCheckpoint(this.path);
    if (cp.state === "invalid") throw this.opts.broken(0, cp.why);
    const line = readLastLine(this.path);
    if (line === undefined) {
      if (cp.state === "ok" && cp.checkpoint.count > 0) throw this.opts.broken(1, `the log is empty but its checkpoint records ${cp.checkpoint.count} entries (it was emptied or replaced)`);
      return { seq: 1, prev: GENESIS };
    }
    let tail: Record<string, unknown>;
    try {
      tail = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw this.opts.broken(0, "the last line is not valid JSON");
    }
    const seq = typeof tail.seq === "number" ? tail.seq : NaN;
    const why = this.check(tail, String(tail.prev), seq);
    if (why) throw this.opts.broken(seq || 0, why);
    if (cp.state === "none") throw this.opts.broken(seq, `no checkpoint is recorded for this log in ${this.keys.dir}, so it cannot be trusted to continue`);
    const { count, head } = cp.checkpoint;
    const atHead = seq === count && tail.hash === head;
    const oneBeyond = seq === count + 1 && tail.prev === head;
    if (!atHead && !oneBeyond) throw this.opts.broken(seq, `the log ends at entry ${seq} but its checkpoint records ${count} entries with another head (entries were removed or rewritten)`);
    return { seq: seq + 1, prev: String(tail.hash) };
  }

  /**
   * Appends the entry `make` builds for the next position (it receives seq and prev and, with verifyAllOnAppend, the
   * verified entries so far). Resolves with the entry as written, once it is on disk and the checkpoint has moved.
   */
  append<B extends { seq: number; prev: string }>(make: (next: { seq: number; prev: string; entries?: Record<string, unknown>[] }) => B): Promise<B & Chained> {
    return this.enqueue(() =>
      this.locked(async () => {
        const body = make(this.next());
        const hash = sha256(JSON.stringify(body));
        const entry: B & Chained = { ...body, hash, mac: this.keys.mac(macInput(hash)) };
        await this.write(JSON.stringify(entry) + "\n");
        try {
          this.keys.writeCheckpoint(this.path, { count: entry.seq, head: hash });
        } catch (err) {
          // The line is written; the next append accepts one entry beyond the checkpoint and moves it.
          throw this.opts.unavailable(`the entry was written but its checkpoint could not be (${(err as Error).message})`, err);
        }
        return entry;
      }),
    );
  }

  /**
   * Proves, under the lock, that the next append can happen: the log verifies and the file opens for appending. Run it
   * before an action whose record must not be lost, so a damaged or unwritable log stops the action instead.
   */
  ready(): Promise<void> {
    return this.enqueue(() =>
      this.locked(async () => {
        this.next();
        let fh;
        try {
          fh = await open(this.path, "a", 0o600);
        } catch (err) {
          throw this.opts.unavailable(`cannot open ${this.path} for appending (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
        }
        await fh.close();
      }),
    );
  }

  private enqueue<T>(run: () => Promise<T>): Promise<T> {
    const prior = queues.get(this.path) ?? Promise.resolve();
    const p = prior.then(run, run);
    const settled = p.catch(() => undefined);
    queues.set(this.path, settled);
    void settled.then(() => {
      if (queues.get(this.path) === settled) queues.delete(this.path);
    });
    return p;
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    let release: () => Promise<void>;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      release = await lockfile.lock(this.path, {
        ...LOCK,
        realpath: false,
        lockfilePath: `${this.path}.lock`,
        // The default throws from a timer, which would kill the server; the append itself is short.
        onCompromised: () => undefined,
      });
    } catch (err) {
      throw this.opts.unavailable(`cannot lock ${this.path} (${(err as Error).message})`, err);
    }
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  }

  private async write(line: string): Promise<void> {
    let fh;
    try {
      fh = await open(this.path, "a", 0o600);
    } catch (err) {
      throw this.opts.unavailable(`cannot open ${this.path} for appending (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
    }
    const st = await fh.stat();
    try {
      await fh.appendFile(line);
      await fh.sync();
    } catch (err) {
      // A half-written line would read as tampering forever after: cut the file back to where it was.
      if (st.isFile()) await fh.truncate(st.size).catch(() => undefined);
      throw this.opts.unavailable(`cannot write ${this.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err);
    } finally {
      await fh.close().catch(() => undefined);
    }
  }
}
