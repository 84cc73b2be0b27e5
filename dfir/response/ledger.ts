/**
 * The change ledger: every remediation on an endpoint, per case, as an append-only JSON Lines file in which each
 * entry carries the SHA-256 of the previous one and a MAC under the key outside the ledger, with a checkpoint of its
 * length (core/append.ts). It records the before-state, the action, the result and how to roll it back; a rollback is
 * a new entry pointing at the one it undoes (nothing is ever rewritten). Appends are locked across processes.
 */
import { join, resolve } from "node:path";
import { z } from "zod";
import { ChainedLog } from "../../core/append.js";
import { MegaraptorError } from "../../core/errors.js";
import type { IntegrityKeys } from "../../core/integrity.js";
import { megaraptorHome, safeName } from "../../core/paths.js";

export const CHANGE_ACTIONS = ["quarantine_file", "delete_file", "kill_process", "remove_persistence", "rollback"] as const;

export const LedgerEntrySchema = z.object({
  seq: z.number().int().min(1),
  time: z.string(),
  case_id: z.string(),
  principal: z.string(),
  action: z.enum(CHANGE_ACTIONS),
  client_id: z.string(),
  target: z.string(),
  reason: z.string(),
  flow_id: z.string().optional(),
  before: z.record(z.string(), z.unknown()),
  result: z.enum(["ok", "failed", "partial"]),
  detail: z.string(),
  rollback: z.object({ possible: z.boolean(), how: z.string(), parameters: z.record(z.string(), z.string()).optional() }),
  rolls_back: z.number().int().optional(),
  prev: z.string(),
  hash: z.string(),
  mac: z.string(),
});
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;
export type NewEntry = Omit<LedgerEntry, "seq" | "time" | "prev" | "hash" | "mac" | "case_id">;

export class LedgerTamperedError extends MegaraptorError {
  constructor(path: string, line: number, why: string) {
    super("LEDGER_TAMPERED", `change ledger ${path} line ${line}: ${why}`, { hint: "The ledger was edited or truncated outside Megaraptor. Keep the file as evidence, restore it from backup, and do not roll back from it until it verifies." });
  }
}

export function casesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEGARAPTOR_CASES_DIR ?? join(megaraptorHome(), "cases");
}

/** The ledger cannot be written: the remediation it would record does not run. */
export class LedgerUnavailableError extends MegaraptorError {
  constructor(path: string, why: string, cause?: unknown) {
    super("LEDGER_UNAVAILABLE", `change ledger ${path} cannot be written: ${why}`, { cause, hint: "Nothing was changed on the endpoint: free disk space or fix the folder's permissions (MEGARAPTOR_CASES_DIR), then retry." });
  }
}

/** One instance per ledger file in this process (appends to it are queued here and locked across processes). */
const open = new Map<string, ChangeLedger>();

export class ChangeLedger {
  readonly path: string;
  private readonly chain: ChainedLog;

  constructor(
    readonly caseId: string,
    dir = casesDir(),
    keys?: IntegrityKeys,
  ) {
    // The case id is a folder name: one path component, whatever called (the tools' CaseId schema is the first check).
    safeName("case_id", caseId, /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "a case id such as IR-2026-042 (letters, digits, . _ -; up to 64)");
    this.path = join(dir, caseId, "ledger.jsonl");
    this.chain = new ChainedLog(this.path, {
      keys,
      noun: "a ledger entry",
      verifyAllOnAppend: true,
      broken: (line, why) => new LedgerTamperedError(this.path, line, why),
      unavailable: (why, cause) => new LedgerUnavailableError(this.path, why, cause),
    });
  }

  /** The process's ledger for a case (created on first use). */
  static for(caseId: string, dir = casesDir()): ChangeLedger {
    const key = resolve(dir, caseId);
    let l = open.get(key);
    if (!l) open.set(key, (l = new ChangeLedger(caseId, dir)));
    return l;
  }

  /**
   * Every entry, verified: a broken chain, an edited or forged entry (MAC), a bad sequence, or a ledger shorter than
   * its checkpoint (newest entries removed, file emptied) throws LedgerTamperedError.
   */
  read(): LedgerEntry[] {
    const { result, entries } = this.chain.verify();
    if (!result.ok) throw new LedgerTamperedError(this.path, result.badLine ?? 0, result.reason ?? "does not verify");
    return entries.map((raw, i) => {
      const e = LedgerEntrySchema.safeParse(raw);
      if (!e.success) throw new LedgerTamperedError(this.path, i + 1, "not a ledger entry");
      return e.data;
    });
  }

  /** Throws unless an entry could be appended now (verified, writable): call it before changing an endpoint. */
  ready(): Promise<void> {
    return this.chain.ready();
  }

  /** Appends after verifying the ledger so far, under a lock shared with other processes; fsync'd. */
  async append(entry: NewEntry): Promise<LedgerEntry> {
    const written = await this.chain.append(({ seq, prev }) => ({ seq, time: new Date().toISOString(), case_id: this.caseId, ...entry, prev }));
    return LedgerEntrySchema.parse(written);
  }

  /** Entries with whether a later rollback undid them. */
  withStatus(): (LedgerEntry & { rolled_back_by?: number })[] {
    const entries = this.read();
    const undone = new Map(entries.filter((e) => e.rolls_back && e.result === "ok").map((e) => [e.rolls_back!, e.seq]));
    return entries.map((e) => (undone.has(e.seq) ? { ...e, rolled_back_by: undone.get(e.seq) } : e));
  }
}
