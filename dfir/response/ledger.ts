/**
 * The change ledger: every remediation on an endpoint, per case, as an append-only JSON Lines file in which each
 * entry carries the SHA-256 of the previous one. It records the before-state, the action, the result and how to roll
 * it back; a rollback is a new entry pointing at the one it undoes (nothing is ever rewritten).
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { SerialAppender } from "../../core/append.js";
import { MegaraptorError } from "../../core/errors.js";
import { megaraptorHome } from "../../core/paths.js";

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
});
export type LedgerEntry = z.infer<typeof LedgerEntrySchema>;
export type NewEntry = Omit<LedgerEntry, "seq" | "time" | "prev" | "hash" | "case_id">;

const GENESIS = "0".repeat(64);

export class LedgerTamperedError extends MegaraptorError {
  constructor(path: string, line: number, why: string) {
    super("LEDGER_TAMPERED", `change ledger ${path} line ${line}: ${why}`, { hint: "The ledger was edited or truncated outside Megaraptor. Keep the file as evidence, restore it from backup, and do not roll back from it until it verifies." });
  }
}

export function casesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEGARAPTOR_CASES_DIR ?? join(megaraptorHome(), "cases");
}

function hashOf(body: Omit<LedgerEntry, "hash">): string {
  return createHash("sha256").update(JSON.stringify(body)).digest("hex");
}

export class ChangeLedger {
  readonly path: string;
  private readonly appender: SerialAppender;

  constructor(readonly caseId: string, dir = casesDir()) {
    this.path = join(dir, caseId, "ledger.jsonl");
    this.appender = new SerialAppender(this.path);
  }

  /** Every entry, verified: a broken chain, an edited entry or a bad sequence throws LedgerTamperedError. */
  read(): LedgerEntry[] {
    if (!existsSync(this.path)) return [];
    const lines = readFileSync(this.path, "utf8").split("\n").filter(Boolean);
    let prev = GENESIS;
    return lines.map((line, i) => {
      let raw: LedgerEntry;
      let e: LedgerEntry;
      try {
        raw = JSON.parse(line) as LedgerEntry;
        e = LedgerEntrySchema.parse(raw);
      } catch {
        throw new LedgerTamperedError(this.path, i + 1, "not a ledger entry");
      }
      // Hash the entry exactly as written (parsing may reorder keys).
      const { hash, ...body } = raw;
      if (e.prev !== prev) throw new LedgerTamperedError(this.path, i + 1, "does not chain to the previous entry (an entry was removed or reordered)");
      if (hashOf(body) !== hash) throw new LedgerTamperedError(this.path, i + 1, "its content does not match its hash (edited)");
      if (e.seq !== i + 1) throw new LedgerTamperedError(this.path, i + 1, `sequence ${e.seq} where ${i + 1} was expected`);
      prev = hash;
      return e;
    });
  }

  /** Appends after verifying the chain so far; serialised within the process and fsync'd. */
  append(entry: NewEntry): Promise<LedgerEntry> {
    return this.appender.append(() => {
      const existing = this.read();
      const body = { seq: existing.length + 1, time: new Date().toISOString(), case_id: this.caseId, ...entry, prev: existing.at(-1)?.hash ?? GENESIS };
      const full: LedgerEntry = { ...body, hash: hashOf(body) };
      return { line: JSON.stringify(full), value: full };
    });
  }

  /** Entries with whether a later rollback undid them. */
  withStatus(): (LedgerEntry & { rolled_back_by?: number })[] {
    const entries = this.read();
    const undone = new Map(entries.filter((e) => e.rolls_back && e.result === "ok").map((e) => [e.rolls_back!, e.seq]));
    return entries.map((e) => (undone.has(e.seq) ? { ...e, rolled_back_by: undone.get(e.seq) } : e));
  }
}
