/**
 * Response tools (respond mode; read-only and investigate modes refuse them): quarantine or delete a file, kill a
 * process, remove persistence — each through Megaraptor's remediation artifacts on the endpoint, with a dry run
 * that reports exactly what would change — plus the per-case change ledger and rollback. The policy (what may be
 * changed, the plans, running and recording) is the dfir/response/remediation service; these are its MCP faces.
 *
 * Every real change goes through plan → confirm like every destructive tool: the first call answers with the plan
 * and a confirm_token, and only the same call with the token and a reason reaches the endpoint (the executor checks
 * both). A dry run needs no confirmation and records nothing. The audit outcome is the ledger's result.
 */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import * as remediation from "../../dfir/response/remediation.js";
import type { Execution, RemediationResult } from "../../dfir/response/remediation.js";
import { defineTool, type ToolContext, type ToolResult } from "./define.js";
import { CaseId, ClientId, OrgId } from "./ids.js";
import { collectionSession } from "./session.js";

const Gate = {
  dry_run: z.boolean().default(false).describe("run on the endpoint but change nothing: report exactly what would change (no plan, nothing recorded)"),
  case_id: CaseId,
  wait_timeout: z.number().int().min(10).max(3600).default(300),
  org_id: OrgId,
};

const ChangeRow = z.record(z.string(), z.unknown());
const RemediationOutput = z.object({
  client_id: z.string(),
  dry_run: z.boolean(),
  flow_id: z.string(),
  state: z.string(),
  rows: z.array(ChangeRow),
  ledger: z.array(z.object({ seq: z.number(), action: z.string(), target: z.string(), result: z.string(), rollback_possible: z.boolean() })),
  errors: z.array(z.string()),
  outcome: z.enum(["ok", "failed", "partial"]).describe("what happened, as the case ledger records it (a dry run: whether it ran cleanly)"),
});

function session(ctx: ToolContext): remediation.RemediationSession {
  return { ...collectionSession(ctx), principal: ctx.principal };
}

/** A dry run needs no approval; a real change needs the approved plan's reason, which the ledger records. */
function execution(ctx: ToolContext, args: { dry_run: boolean; case_id: string }): Execution {
  if (args.dry_run) return { dryRun: true, caseId: args.case_id };
  const reason = ctx.confirmation?.reason;
  if (!reason) throw new InputError("reason", "a real change needs the reason it was approved with", "Call without confirm_token to get the plan, then confirm it with confirm_token and reason=\"…\".");
  return { dryRun: false, caseId: args.case_id, reason };
}

/** One line per row: what it is, what the endpoint found (hash, where it would go) and what happened. */
function rowLine(r: Record<string, unknown>): string {
  const what = `${String(r.Path ?? r.Name ?? r.Target ?? "")}${r.Pid !== undefined ? ` (pid ${String(r.Pid)})` : ""}`;
  const found = [r.Sha256 ? `sha256 ${String(r.Sha256)}` : "", r.QuarantinePath && r.Action !== "delete" ? `→ ${String(r.QuarantinePath)}` : ""].filter(Boolean).join(" ");
  return `  ${what}${found ? ` [${found}]` : ""}: ${String(r.Result ?? "")}`;
}

function resultText(verb: string, s: RemediationResult): string {
  return [
    `${s.dry_run ? "DRY RUN — nothing changed. " : ""}${verb} on ${s.client_id}: flow ${s.flow_id} ${s.state}${s.dry_run ? "" : ` — outcome ${s.outcome}`}`,
    ...s.rows.map(rowLine),
    ...s.errors.map((e) => `  error: ${e}`),
    ...s.ledger.map((e) => `  ledger #${e.seq} ${e.action} ${e.result}${e.rollback_possible ? " (reversible: rollback_change)" : " (not reversible)"}`),
  ].join("\n");
}

/** The tool result of a remediation: its structured summary, text, audit line and the ledger's outcome. */
function answer(s: RemediationResult, verb: string, audit: string): ToolResult<z.infer<typeof RemediationOutput>> {
  const { client_id, dry_run, flow_id, state, rows, ledger, errors, outcome } = s;
  return {
    structured: { client_id, dry_run, flow_id, state, rows, ledger, errors, outcome },
    text: resultText(verb, s),
    auditSummary: `${dry_run ? "dry-run " : ""}${audit} flow ${flow_id}${ledger.length ? ` ledger #${ledger.map((e) => e.seq).join(",")} ${outcome}` : ""}`,
    outcome,
  };
}

const fileChange = (a: { client_id: string; path: string; action: "quarantine" | "delete"; expected_sha256?: string; quarantine_dir?: string; allow_system_path: boolean; wait_timeout: number }): remediation.FileChange => ({
  clientId: a.client_id,
  path: a.path,
  action: a.action,
  expectedSha256: a.expected_sha256,
  quarantineDir: a.quarantine_dir,
  allowSystemPath: a.allow_system_path,
  waitTimeoutSeconds: a.wait_timeout,
});

export const remediateFile = defineTool({
  name: "remediate_file",
  title: "Quarantine or delete a file on an endpoint",
  description:
    "DESTRUCTIVE (respond mode). quarantine moves the file into a protected folder on the endpoint (hash, size and times recorded; reversible with rollback_change); delete removes it (not reversible). expected_sha256 makes the endpoint refuse if the file is not the one you mean. dry_run=true shows on the endpoint exactly what would happen. A real change returns a plan and confirm_token first; repeat the call with the token and the user's reason to execute. It is recorded in the case's change ledger. System folders are refused unless allow_system_path=true.",
  input: z.object({
    client_id: ClientId,
    path: z.string().min(2).max(4096),
    action: z.enum(["quarantine", "delete"]).default("quarantine"),
    expected_sha256: z.string().regex(/^[a-fA-F0-9]{64}$/, { message: "expected a SHA-256 (64 hex characters)" }).optional(),
    quarantine_dir: z.string().min(2).max(1024).optional(),
    allow_system_path: z.boolean().default(false),
    ...Gate,
  }),
  output: RemediationOutput,
  preset: "destructive",
  async plan(args, ctx) {
    return args.dry_run ? undefined : remediation.planFileChange(session(ctx), fileChange(args), args.case_id);
  },
  async handler(args, ctx) {
    const r = await remediation.remediateFile(session(ctx), fileChange(args), execution(ctx, args));
    return answer(r, `${args.action} ${args.path}`, `${args.action} ${args.path}`);
  },
});

const processKill = (a: { client_id: string; pid?: number; name?: string; expected_sha256?: string; wait_timeout: number }): remediation.ProcessKill => ({
  clientId: a.client_id,
  pid: a.pid,
  name: a.name,
  expectedSha256: a.expected_sha256,
  waitTimeoutSeconds: a.wait_timeout,
});

export const killProcess = defineTool({
  name: "kill_process",
  title: "Kill a process on an endpoint",
  description:
    "DESTRUCTIVE (respond mode). Terminate processes by pid and/or exact name (optionally only if the binary's SHA-256 matches). Critical system processes (lsass, csrss, services, svchost, systemd, launchd, the Velociraptor agent…) and PIDs 0, 1 and 4 are refused here and again on the endpoint. dry_run=true lists exactly what would be killed. A real kill returns a plan and confirm_token first; repeat the call with the token and the user's reason to execute. It is recorded in the case's ledger (not reversible).",
  input: z.object({
    client_id: ClientId,
    pid: z.number().int().min(0).optional(),
    name: z.string().min(1).max(260).optional().describe("exact process name, e.g. evil.exe"),
    expected_sha256: z.string().regex(/^[a-fA-F0-9]{64}$/, { message: "expected a SHA-256 (64 hex characters)" }).optional(),
    ...Gate,
  }),
  output: RemediationOutput,
  preset: "destructive",
  async plan(args, ctx) {
    return args.dry_run ? undefined : remediation.planProcessKill(session(ctx), processKill(args), args.case_id);
  },
  async handler(args, ctx) {
    const r = await remediation.killProcess(session(ctx), processKill(args), execution(ctx, args));
    return answer(r, `kill ${r.what}`, `kill ${r.what}`);
  },
});

const persistenceRemoval = (a: { client_id: string; kind: remediation.PersistenceKind; target: string; value_name?: string; wait_timeout: number }): remediation.PersistenceRemoval => ({
  clientId: a.client_id,
  kind: a.kind,
  target: a.target,
  valueName: a.value_name,
  waitTimeoutSeconds: a.wait_timeout,
});

export const removePersistence = defineTool({
  name: "remove_persistence",
  title: "Remove a persistence entry",
  description:
    "DESTRUCTIVE (respond mode). Remove persistence on an endpoint: Windows run_key (target = key, value_name = value), service (target = service name), scheduled_task (target = task path); Linux cron (target = crontab file, value_name = the exact line) and systemd (target = unit name). The removed content is recorded (before) so run keys, cron lines and systemd units can be restored with rollback_change. dry_run=true shows exactly what would change. A real change returns a plan and confirm_token first; repeat the call with the token and the user's reason to execute.",
  input: z.object({
    client_id: ClientId,
    kind: z.enum(remediation.PERSISTENCE_KINDS),
    target: z.string().min(1).max(2048),
    value_name: z.string().max(4096).optional(),
    ...Gate,
  }),
  output: RemediationOutput,
  preset: "destructive",
  async plan(args, ctx) {
    return args.dry_run ? undefined : remediation.planPersistenceRemoval(session(ctx), persistenceRemoval(args), args.case_id);
  },
  async handler(args, ctx) {
    const r = await remediation.removePersistence(session(ctx), persistenceRemoval(args), execution(ctx, args));
    return answer(r, `remove ${r.label}`, `remove ${r.label}`);
  },
});

export const listChanges = defineTool({
  name: "list_changes",
  title: "List a case's endpoint changes",
  description: "The case's change ledger: every remediation with before-state, result, how to roll it back and whether it was rolled back. Every entry's hash and MAC and the ledger's checkpoint are verified; an edited, forged or truncated ledger is reported as LEDGER_TAMPERED.",
  input: z.object({ case_id: CaseId, client_id: ClientId.optional() }),
  output: z.object({ case_id: z.string(), path: z.string(), verified: z.boolean(), changes: z.array(z.record(z.string(), z.unknown())) }),
  preset: "read",
  async handler(args) {
    const { path, changes } = remediation.listChanges(args.case_id, args.client_id);
    return {
      structured: { case_id: args.case_id, path, verified: true, changes },
      text: changes.length
        ? [`Case ${args.case_id}: ${changes.length} change(s), chain verified (${path})`, ...changes.map((e) => `#${e.seq} ${e.time} ${e.action} ${e.client_id} ${e.target} → ${e.result}${e.rolls_back ? ` (rolls back #${e.rolls_back})` : ""}${e.rolled_back_by ? ` [rolled back by #${e.rolled_back_by}]` : e.rollback.possible ? " [reversible]" : ""}`)].join("\n")
        : `Case ${args.case_id} has no recorded changes.`,
    };
  },
});

export const rollbackChange = defineTool({
  name: "rollback_change",
  title: "Roll back a recorded change",
  description: "DESTRUCTIVE (respond mode). Undo a change from the case's ledger where possible — restore a quarantined file (hash checked), re-create a Run-key value, re-add a cron line, re-enable a systemd unit — and record the rollback as a new ledger entry. Only an entry of a ledger that verifies (MACs, checkpoint) is ever rolled back. dry_run=true shows what would happen; a real rollback returns a plan and confirm_token first; repeat the call with the token and the user's reason to execute.",
  input: z.object({ seq: z.number().int().min(1).describe("the ledger entry to undo (list_changes)"), ...Gate }),
  output: RemediationOutput,
  preset: "destructive",
  async plan(args) {
    return args.dry_run ? undefined : remediation.rollbackTarget(args.case_id, args.seq, false).plan;
  },
  async handler(args, ctx) {
    const r = await remediation.rollbackChange(session(ctx), args.seq, args.wait_timeout, execution(ctx, args));
    return answer(r, `roll back #${r.entry.seq} ${r.entry.target}`, `rollback #${r.entry.seq}`);
  },
});

export const responseTools = [remediateFile, killProcess, removePersistence, listChanges, rollbackChange];
