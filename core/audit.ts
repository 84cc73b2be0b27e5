/**
 * The audit log: one JSON object per line, each carrying the SHA-256 of the previous line's entry, so removing or
 * editing a line breaks the chain. Appends are serialised within the process and fsync'd.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { SerialAppender } from "./append.js";
import { redact } from "./logger.js";
import { megaraptorHome } from "./paths.js";

export interface AuditEntry {
  time: string;
  tool: string;
  principal: string;
  mode: string;
  arguments: unknown;
  outcome: "ok" | "error" | "refused" | "planned";
  summary?: string;
  error?: { code: string; message: string };
  case?: string;
  prev: string;
  hash: string;
}

const GENESIS = "0".repeat(64);

export function defaultAuditPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEGARAPTOR_AUDIT_LOG ?? join(megaraptorHome(), "audit.jsonl");
}

function entryHash(entry: Omit<AuditEntry, "hash">): string {
  return createHash("sha256").update(JSON.stringify(entry)).digest("hex");
}

export class AuditLog {
  private last?: string;
  private readonly appender: SerialAppender;

  constructor(readonly path: string = defaultAuditPath()) {
    this.appender = new SerialAppender(path);
  }

  private lastHash(): string {
    if (this.last) return this.last;
    if (!existsSync(this.path)) return GENESIS;
    const lines = readFileSync(this.path, "utf8").trimEnd().split("\n").filter(Boolean);
    if (!lines.length) return GENESIS;
    return (JSON.parse(lines[lines.length - 1]!) as AuditEntry).hash;
  }

  /** Appends an entry; arguments are redacted before they are written. */
  append(e: Omit<AuditEntry, "time" | "prev" | "hash" | "arguments"> & { arguments: unknown }): Promise<AuditEntry> {
    return this.appender.append(() => {
      const body = { time: new Date().toISOString(), ...e, arguments: redact(e.arguments), prev: this.lastHash() };
      const entry: AuditEntry = { ...body, hash: entryHash(body) };
      this.last = entry.hash;
      return { line: JSON.stringify(entry), value: entry };
    });
  }
}

export interface VerifyResult {
  ok: boolean;
  entries: number;
  /** 1-based line of the first entry that breaks the chain. */
  badLine?: number;
  reason?: string;
}

export function verifyAuditFile(path: string): VerifyResult {
  if (!existsSync(path)) return { ok: true, entries: 0 };
  const lines = readFileSync(path, "utf8").split("\n");
  let prev = GENESIS;
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]) continue;
    let entry: AuditEntry;
    try {
      entry = JSON.parse(lines[i]!) as AuditEntry;
    } catch {
      return { ok: false, entries: n, badLine: i + 1, reason: "not valid JSON" };
    }
    const { hash, ...body } = entry;
    if (entry.prev !== prev) return { ok: false, entries: n, badLine: i + 1, reason: "prev does not match the previous entry's hash (a line was removed or reordered)" };
    if (entryHash(body) !== hash) return { ok: false, entries: n, badLine: i + 1, reason: "the entry's content does not match its hash (the line was modified)" };
    prev = hash;
    n++;
  }
  return { ok: true, entries: n };
}

export function readAudit(path: string = defaultAuditPath(), filter: { case?: string; since?: Date } = {}): AuditEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEntry)
    .filter((e) => (!filter.case || e.case === filter.case) && (!filter.since || new Date(e.time) >= filter.since));
}
