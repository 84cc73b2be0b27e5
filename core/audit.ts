/**
 * The audit log: one JSON object per line, hash-chained and MAC'd with a key kept outside the log, with a checkpoint
 * of its length and head beside the key (see ./append.ts and ./integrity.ts). Editing, removing, reordering, forging
 * or cutting off entries is reported by `verifyAuditFile`; appends are safe from several processes at once.
 *
 * A state-changing call writes an `intent` entry before it acts and an outcome entry (`ok` / `error`, pointing at the
 * intent's seq) after: when the intent cannot be written, the action does not run. A call that ran but whose change
 * did not (fully) happen — a remediation the case ledger records as failed or partial — ends `failed` / `partial`.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ChainedLog, type VerifyResult } from "./append.js";
import { MegaraptorError } from "./errors.js";
import type { IntegrityKeys } from "./integrity.js";
import { redact } from "./logger.js";
import { megaraptorHome } from "./paths.js";

export type { VerifyResult } from "./append.js";

export const AUDIT_OUTCOMES = ["intent", "ok", "failed", "partial", "error", "refused", "planned"] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditEntry {
  seq: number;
  time: string;
  tool: string;
  principal: string;
  mode: string;
  arguments: unknown;
  outcome: AuditOutcome;
  summary?: string;
  /** Why a human approved a destructive action (the confirming call's reason). */
  reason?: string;
  /** On an outcome entry: the seq of the intent entry it completes. */
  intent?: number;
  error?: { code: string; message: string };
  case?: string;
  prev: string;
  hash: string;
  mac: string;
}

export type NewAuditEntry = Omit<AuditEntry, "seq" | "time" | "prev" | "hash" | "mac" | "arguments"> & { arguments: unknown };

export function defaultAuditPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEGARAPTOR_AUDIT_LOG ?? join(megaraptorHome(), "audit.jsonl");
}

/** The audit log cannot be written: the action it would record is refused. */
export class AuditUnavailableError extends MegaraptorError {
  constructor(path: string, why: string, cause?: unknown) {
    super("AUDIT_UNAVAILABLE", `the audit log ${path} cannot be written: ${why}`, {
      cause,
      hint: "Nothing was done: free disk space or fix the file's permissions (or point --audit-log / MEGARAPTOR_AUDIT_LOG elsewhere), then retry.",
    });
  }
}

/** The audit log no longer verifies: continuing it would hide the damage, so actions are refused until it is dealt with. */
export class AuditTamperedError extends MegaraptorError {
  constructor(path: string, line: number, why: string) {
    super("AUDIT_TAMPERED", `the audit log ${path}${line ? ` line ${line}` : ""}: ${why}`, {
      hint: "Nothing was done. Run `megaraptor audit verify`, keep the file (and ~/.megaraptor/keys) as evidence, then move the log aside so a new one starts.",
    });
  }
}

function chainOf(path: string, keys?: IntegrityKeys): ChainedLog {
  return new ChainedLog(path, {
    keys,
    noun: "an audit entry",
    broken: (line, why) => new AuditTamperedError(path, line, why),
    unavailable: (why, cause) => new AuditUnavailableError(path, why, cause),
  });
}

export class AuditLog {
  private readonly chain: ChainedLog;

  constructor(
    readonly path: string = defaultAuditPath(),
    keys?: IntegrityKeys,
  ) {
    this.chain = chainOf(path, keys);
  }

  /**
   * Appends an entry once it is durably on disk; arguments are redacted before they are written. Rejects with
   * AUDIT_UNAVAILABLE when it cannot be written and AUDIT_TAMPERED when the log it would continue does not verify.
   */
  append(e: NewAuditEntry): Promise<AuditEntry> {
    return this.chain.append(({ seq, prev }) => ({ seq, time: new Date().toISOString(), ...e, arguments: redact(e.arguments), prev })) as Promise<AuditEntry>;
  }
}

/** Verifies every entry's hash and MAC and the log's checkpoint (so removed newest entries are found too). */
export function verifyAuditFile(path: string, keys?: IntegrityKeys): VerifyResult {
  return chainOf(path, keys).verify().result;
}

/** Every entry as written (unverified: `verifyAuditFile` says whether to trust them). */
export function readAudit(path: string = defaultAuditPath(), filter: { case?: string; since?: Date } = {}): AuditEntry[] {
  if (!existsSync(path) || !statSync(path).isFile()) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEntry)
    .filter((e) => (!filter.case || e.case === filter.case) && (!filter.since || new Date(e.time) >= filter.since));
}
