/**
 * Keys and checkpoints that make the append-only logs (audit log, case ledgers) show forgery and truncation.
 *
 * A plain hash chain only shows edits: anyone can recompute SHA-256. So every entry also carries an HMAC-SHA256 made
 * with a random key kept outside the logs (`~/.megaraptor/keys/audit.key`, 0600); without the key an entry cannot be
 * forged or re-chained. A chain still cannot show that its newest entries were cut off, so after each append the log's
 * entry count and head are written to a checkpoint file beside the key (also MAC'd, bound to the log's path).
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { megaraptorHome } from "./paths.js";

/** Where keys and checkpoints live: MEGARAPTOR_KEYS_DIR, else ~/.megaraptor/keys. */
export function keysDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.MEGARAPTOR_KEYS_DIR ?? join(megaraptorHome(), "keys"));
}

export interface Checkpoint {
  /** Entries in the log when the checkpoint was written. */
  count: number;
  /** The hash of entry number `count`. */
  head: string;
}

export type CheckpointRead = { state: "none" } | { state: "ok"; checkpoint: Checkpoint } | { state: "invalid"; why: string };

export class IntegrityKeys {
  private cached?: Buffer;

  constructor(readonly dir: string = keysDir()) {}

  get keyPath(): string {
    return join(this.dir, "audit.key");
  }

  /** The key, created (32 random bytes, 0600) on first use; `create: false` returns undefined when there is none. */
  key(create = true): Buffer | undefined {
    if (this.cached) return this.cached;
    if (!existsSync(this.keyPath)) {
      if (!create) return undefined;
      mkdirSync(this.dir, { recursive: true, mode: 0o700 });
      try {
        // wx: when two processes start at once, exactly one creates the key and the other reads it.
        writeFileSync(this.keyPath, randomBytes(32).toString("hex") + "\n", { mode: 0o600, flag: "wx" });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      }
    }
    const hex = readFileSync(this.keyPath, "utf8").trim();
    if (!/^[0-9a-f]{64}$/.test(hex)) throw new Error(`${this.keyPath} is not a Megaraptor integrity key (64 hex characters)`);
    this.cached = Buffer.from(hex, "hex");
    return this.cached;
  }

  /** HMAC-SHA256 of `data` under the key (created if missing). */
  mac(data: string): string {
    return createHmac("sha256", this.key()!).update(data).digest("hex");
  }

  /** true/false when the key exists; undefined when there is no key to check with. */
  checkMac(data: string, mac: unknown): boolean | undefined {
    const key = this.key(false);
    if (!key) return undefined;
    if (typeof mac !== "string" || !/^[0-9a-f]{64}$/.test(mac)) return false;
    const want = createHmac("sha256", key).update(data).digest();
    return timingSafeEqual(want, Buffer.from(mac, "hex"));
  }

  private checkpointPath(logPath: string): string {
    return join(this.dir, "heads", `${createHash("sha256").update(resolve(logPath)).digest("hex").slice(0, 32)}.json`);
  }

  private checkpointMacInput(logPath: string, c: Checkpoint): string {
    return `megaraptor-checkpoint\n${resolve(logPath)}\n${c.count}\n${c.head}`;
  }

  readCheckpoint(logPath: string): CheckpointRead {
    const p = this.checkpointPath(logPath);
    if (!existsSync(p)) return { state: "none" };
    let raw: { log?: unknown; count?: unknown; head?: unknown; mac?: unknown };
    try {
      raw = JSON.parse(readFileSync(p, "utf8")) as typeof raw;
    } catch {
      return { state: "invalid", why: `checkpoint ${p} is not valid JSON` };
    }
    if (typeof raw.count !== "number" || typeof raw.head !== "string") return { state: "invalid", why: `checkpoint ${p} lacks count or head` };
    const c = { count: raw.count, head: raw.head };
    const ok = this.checkMac(this.checkpointMacInput(logPath, c), raw.mac);
    if (ok === undefined) return { state: "invalid", why: `the key ${this.keyPath} is missing, so checkpoint ${p} cannot be checked` };
    if (!ok) return { state: "invalid", why: `checkpoint ${p} does not carry a valid MAC (edited, or copied from another log)` };
    return { state: "ok", checkpoint: c };
  }

  /** Replaces the checkpoint atomically (write + rename), so a crash leaves the old or the new one, never half. */
  writeCheckpoint(logPath: string, c: Checkpoint): void {
    const p = this.checkpointPath(logPath);
    mkdirSync(join(this.dir, "heads"), { recursive: true, mode: 0o700 });
    const tmp = `${p}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ log: resolve(logPath), ...c, mac: this.mac(this.checkpointMacInput(logPath, c)) }) + "\n", { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, p);
  }
}

/** One instance per folder, so a key is read once per process. */
const instances = new Map<string, IntegrityKeys>();
export function integrityKeys(dir: string = keysDir()): IntegrityKeys {
  const d = resolve(dir);
  let k = instances.get(d);
  if (!k) instances.set(d, (k = new IntegrityKeys(d)));
  return k;
}
