/**
 * Response tools (respond mode; read-only and investigate modes refuse them): quarantine or delete a file, kill a
 * process, remove persistence — each through Megaraptor's remediation artifacts on the endpoint, with a dry run
 * that reports exactly what would change — plus the per-case change ledger and rollback.
 *
 * Every real change goes through plan → confirm like every destructive tool: the first call answers with the plan
 * and a confirm_token, and only the same call with the token and a reason reaches the endpoint (the executor checks
 * both). Before the endpoint is touched the case ledger must verify and be writable; every real change is then written
 * to it with its before-state and the confirming reason. A dry run needs no confirmation and records nothing.
 */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { ChangeLedger, type LedgerEntry, type NewEntry } from "../../dfir/response/ledger.js";
import { ensureArtifact, FILE_ARTIFACT, PERSISTENCE_ARTIFACT, PROCESS_ARTIFACT } from "../../dfir/response/artifacts.js";
import type { Row } from "../../velociraptor/client.js";
import { rowsOf } from "./common.js";
import { defineTool, type Plan, type ToolContext } from "./define.js";
import { clientIdentity, scheduleCollection } from "./endpoint.js";
import { flowErrors, waitForFlow } from "./flows.js";
import { CaseId, ClientId, OrgId } from "./ids.js";

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
});

/** A dry run needs no approval; a real change needs the approved plan's reason, which the ledger records. */
function approvedReason(ctx: ToolContext): string {
  const reason = ctx.confirmation?.reason;
  if (!reason) throw new InputError("reason", "a real change needs the reason it was approved with", "Call without confirm_token to get the plan, then confirm it with confirm_token and reason=\"…\".");
  return reason;
}

/**
 * Installs the artifact if needed, runs it on the client, waits, and returns its rows. A real change first proves the
 * case ledger can record it (verified chain, writable file): an endpoint change nobody can account for never starts.
 */
async function runOnEndpoint(ctx: ToolContext, clientId: string, artifact: string, parameters: Record<string, string>, waitTimeout: number, ledger?: ChangeLedger) {
  await ledger?.ready();
  await ensureArtifact(ctx, artifact);
  const flowId = await scheduleCollection(ctx, { clientId, artifacts: [artifact], spec: { [artifact]: parameters }, urgent: true });
  const state = await waitForFlow(ctx, clientId, flowId, waitTimeout, artifact);
  const errors = state === "FINISHED" ? [] : await flowErrors(ctx, clientId, flowId);
  const results = state === "FINISHED" ? await rowsOf(ctx, "SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", { ClientId: clientId, FlowId: flowId, ArtifactName: artifact }) : [];
  if (state !== "FINISHED" && !errors.length) errors.push(`flow ${flowId} is ${state} after ${waitTimeout}s; check it with get_flow_status before retrying`);
  return { flowId, state, rows: results, errors };
}

const yes = (v: unknown) => v === true || v === "Y" || v === "true";

/** Records one ledger entry per changed (or failed) row of a real run. */
async function record(ctx: ToolContext, ledger: ChangeLedger, rows: Row[], run: { flowId: string; state: string; errors: string[] }, make: (row: Row) => Omit<NewEntry, "principal" | "flow_id" | "result" | "detail">): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  // A flow that failed before producing rows still happened: record it so the case shows the attempt.
  const effective = rows.length ? rows : [{ Result: run.errors.join("; ") || `flow ${run.state}`, Changed: false }];
  for (const row of effective) {
    const e = make(row);
    // A flow still running when the wait ended may yet change the endpoint: "partial" says the outcome is not known.
    const result = run.state === "FINISHED" ? (yes(row.Changed) ? "ok" : "failed") : run.state === "ERROR" ? "failed" : "partial";
    out.push(await ledger.append({ ...e, principal: ctx.principal, flow_id: run.flowId, result, detail: String(row.Result ?? "") }));
  }
  return out;
}

function summarise(client: string, dryRun: boolean, run: { flowId: string; state: string; rows: Row[]; errors: string[] }, ledger: LedgerEntry[]) {
  return {
    client_id: client,
    dry_run: dryRun,
    flow_id: run.flowId,
    state: run.state,
    rows: run.rows,
    ledger: ledger.map((e) => ({ seq: e.seq, action: e.action, target: e.target, result: e.result, rollback_possible: e.rollback.possible })),
    errors: run.errors,
  };
}

function resultText(verb: string, s: ReturnType<typeof summarise>): string {
  return [
    `${s.dry_run ? "DRY RUN — nothing changed. " : ""}${verb} on ${s.client_id}: flow ${s.flow_id} ${s.state}`,
    ...s.rows.map((r) => `  ${String(r.Path ?? r.Name ?? r.Target ?? "")}${r.Pid !== undefined ? ` (pid ${String(r.Pid)})` : ""}: ${String(r.Result ?? "")}`),
    ...s.errors.map((e) => `  error: ${e}`),
    ...s.ledger.map((e) => `  ledger #${e.seq} ${e.action} ${e.result}${e.rollback_possible ? " (reversible: rollback_change)" : " (not reversible)"}`),
  ].join("\n");
}

const WINDOWS_SYSTEM = /^[a-z]:\\windows\\(system32|syswow64|winsxs)\\|^[a-z]:\\windows\\[^\\]+$/i;
const POSIX_SYSTEM = /^\/(bin|sbin|lib|lib64|boot|usr\/(bin|sbin|lib))\/|^\/etc\/(passwd|shadow|sudoers|fstab)$/;
const QUARANTINE_DIR: Record<string, string> = { windows: "C:\\ProgramData\\Megaraptor\\Quarantine", linux: "/var/lib/megaraptor/quarantine", darwin: "/Library/Application Support/Megaraptor/Quarantine" };

/** Checks a file change and builds its artifact parameters and plan (shared by plan and handler). */
async function fileChange(args: { client_id: string; path: string; action: "quarantine" | "delete"; expected_sha256?: string; quarantine_dir?: string; allow_system_path: boolean; dry_run: boolean; case_id: string }, ctx: ToolContext) {
  const { os, hostname } = await clientIdentity(ctx, args.client_id);
  const absolute = os === "windows" ? /^[a-z]:\\/i.test(args.path) : args.path.startsWith("/");
  if (!absolute) throw new InputError("path", `"${args.path}" is not an absolute ${os} path`, os === "windows" ? "e.g. C:\\Users\\bob\\AppData\\Local\\Temp\\evil.exe" : "e.g. /tmp/.x/payload");
  if (!args.allow_system_path && (WINDOWS_SYSTEM.test(args.path) || POSIX_SYSTEM.test(args.path)))
    throw new InputError("path", `${args.path} is in a system folder`, "Removing system files can make the host unbootable. Quarantine rather than delete, and pass allow_system_path=true only if you are sure.");
  const qdir = args.quarantine_dir ?? QUARANTINE_DIR[os] ?? "/var/lib/megaraptor/quarantine";
  const params = { TargetPath: args.path, Action: args.action, QuarantineDir: qdir, ExpectedSha256: args.expected_sha256 ?? "", DryRun: args.dry_run ? "Y" : "N" };
  const plan: Plan = { summary: `${args.action} ${args.path} on ${hostname} (${args.client_id})`, details: { client_id: args.client_id, hostname, artifact: FILE_ARTIFACT, parameters: { ...params, DryRun: "N" }, reversible: args.action === "quarantine", case_id: args.case_id } };
  return { params, qdir, plan };
}

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
    return args.dry_run ? undefined : (await fileChange(args, ctx)).plan;
  },
  async handler(args, ctx) {
    const { params, qdir } = await fileChange(args, ctx);
    const reason = args.dry_run ? "" : approvedReason(ctx);
    const ledger = args.dry_run ? undefined : ChangeLedger.for(args.case_id);
    const run = await runOnEndpoint(ctx, args.client_id, FILE_ARTIFACT, params, args.wait_timeout, ledger);
    const recorded = !ledger
      ? []
      : await record(ctx, ledger, run.rows, run, (row) => ({
          action: args.action === "quarantine" ? "quarantine_file" : "delete_file",
          client_id: args.client_id,
          target: args.path,
          reason,
          before: (row.Before as Record<string, unknown>) ?? {},
          rollback:
            args.action === "quarantine" && yes(row.Changed)
              ? { possible: true, how: `restore ${String(row.QuarantinePath)} to ${args.path}`, parameters: { TargetPath: args.path, Action: "restore", QuarantinePath: String(row.QuarantinePath), ExpectedSha256: String(row.Sha256 ?? ""), QuarantineDir: qdir } }
              : { possible: false, how: args.action === "delete" ? "deleted files cannot be restored by Megaraptor; recover from backup (the ledger keeps the hash)" : "nothing was changed" },
        }));
    const s = summarise(args.client_id, args.dry_run, run, recorded);
    return { structured: s, text: resultText(`${args.action} ${args.path}`, s), auditSummary: `${args.dry_run ? "dry-run " : ""}${args.action} ${args.path} flow ${run.flowId}${recorded.length ? ` ledger #${recorded.map((e) => e.seq).join(",")}` : ""}` };
  },
});

/** Processes whose death takes the host (or Velociraptor) down with it. */
export const CRITICAL_PROCESSES = /^(system|registry|smss\.exe|csrss\.exe|wininit\.exe|winlogon\.exe|services\.exe|lsass\.exe|lsaiso\.exe|svchost\.exe|velociraptor(\.exe)?|init|systemd|kthreadd|launchd|kernel_task)$/i;

/** Checks a kill and builds its artifact parameters and plan (shared by plan and handler). */
async function processKill(args: { client_id: string; pid?: number; name?: string; expected_sha256?: string; dry_run: boolean; case_id: string }, ctx: ToolContext) {
  if (args.pid === undefined && !args.name) throw new InputError("pid", "give a pid and/or a name", "Find it with collect_artifact Windows.System.Pslist / Linux.Sys.Pslist.");
  if (args.pid !== undefined && [0, 1, 4].includes(args.pid)) throw new InputError("pid", `pid ${args.pid} is a system process`, "Killing it would crash the host.");
  if (args.name && CRITICAL_PROCESSES.test(args.name)) throw new InputError("name", `${args.name} is a critical system process`, "Killing it would crash the host or cut off Velociraptor; isolate the host with quarantine_client instead.");
  const { hostname } = await clientIdentity(ctx, args.client_id);
  // The name is matched exactly on the endpoint: escape it so it is a literal inside the artifact's regex.
  const params = { TargetPid: String(args.pid ?? 0), NameRegex: args.name ? `^${args.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$` : "", ExpectedSha256: args.expected_sha256 ?? "", DryRun: args.dry_run ? "Y" : "N" };
  const what = [args.pid !== undefined ? `pid ${args.pid}` : "", args.name ?? ""].filter(Boolean).join(" ");
  const plan: Plan = { summary: `kill ${what} on ${hostname} (${args.client_id})`, details: { client_id: args.client_id, hostname, artifact: PROCESS_ARTIFACT, parameters: { ...params, DryRun: "N" }, reversible: false, case_id: args.case_id } };
  return { params, what, plan };
}

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
    return args.dry_run ? undefined : (await processKill(args, ctx)).plan;
  },
  async handler(args, ctx) {
    const { params, what } = await processKill(args, ctx);
    const reason = args.dry_run ? "" : approvedReason(ctx);
    const ledger = args.dry_run ? undefined : ChangeLedger.for(args.case_id);
    const run = await runOnEndpoint(ctx, args.client_id, PROCESS_ARTIFACT, params, args.wait_timeout, ledger);
    if (!run.rows.length && run.state === "FINISHED") run.errors.push(`no process matched ${what}`);
    const recorded = !ledger
      ? []
      : await record(ctx, ledger, run.rows, run, (row) => ({
          action: "kill_process",
          client_id: args.client_id,
          target: `${String(row.Name ?? args.name ?? "")} pid ${String(row.Pid ?? args.pid ?? "?")}`,
          reason,
          before: (row.Before as Record<string, unknown>) ?? {},
          rollback: { possible: false, how: "a killed process cannot be revived; restart its program or service if needed (command line kept in before)" },
        }));
    const s = summarise(args.client_id, args.dry_run, run, recorded);
    return { structured: s, text: resultText(`kill ${what}`, s), auditSummary: `${args.dry_run ? "dry-run " : ""}kill ${what} flow ${run.flowId}` };
  },
});

const KIND_OS: Record<string, string> = { run_key: "windows", service: "windows", scheduled_task: "windows", cron: "linux", systemd: "linux" };
const RESTORABLE = new Set(["run_key", "cron", "systemd"]);

/** Checks a persistence removal and builds its artifact parameters and plan (shared by plan and handler). */
async function persistenceRemoval(args: { client_id: string; kind: keyof typeof KIND_OS; target: string; value_name?: string; dry_run: boolean; case_id: string }, ctx: ToolContext) {
  const { os, hostname } = await clientIdentity(ctx, args.client_id);
  if (KIND_OS[args.kind] !== os) throw new InputError("kind", `${args.kind} exists on ${KIND_OS[args.kind]} clients; ${args.client_id} is ${os}`, `For ${os} use ${Object.entries(KIND_OS).filter(([, o]) => o === os).map(([k]) => k).join(", ") || "quarantine_client"}.`);
  if ((args.kind === "run_key" || args.kind === "cron") && !args.value_name) throw new InputError("value_name", `${args.kind} needs value_name (${args.kind === "run_key" ? "the Run value" : "the exact crontab line"})`, "Copy it from the persistence artifact's results.");
  if (args.kind === "run_key" && !/^(HKEY_|HKLM|HKCU|HKU)/i.test(args.target)) throw new InputError("target", "run_key targets are registry keys", "e.g. HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run");
  const params = { Kind: args.kind, Target: args.target, ValueName: args.value_name ?? "", Action: "remove", RestoreData: "", DryRun: args.dry_run ? "Y" : "N" };
  const label = `${args.kind} ${args.target}${args.value_name ? ` / ${args.value_name}` : ""}`;
  const plan: Plan = { summary: `remove ${label} on ${hostname} (${args.client_id})`, details: { client_id: args.client_id, hostname, artifact: PERSISTENCE_ARTIFACT, parameters: { ...params, DryRun: "N" }, reversible: RESTORABLE.has(args.kind), case_id: args.case_id } };
  return { params, label, plan };
}

export const removePersistence = defineTool({
  name: "remove_persistence",
  title: "Remove a persistence entry",
  description:
    "DESTRUCTIVE (respond mode). Remove persistence on an endpoint: Windows run_key (target = key, value_name = value), service (target = service name), scheduled_task (target = task path); Linux cron (target = crontab file, value_name = the exact line) and systemd (target = unit name). The removed content is recorded (before) so run keys, cron lines and systemd units can be restored with rollback_change. dry_run=true shows exactly what would change. A real change returns a plan and confirm_token first; repeat the call with the token and the user's reason to execute.",
  input: z.object({
    client_id: ClientId,
    kind: z.enum(["run_key", "service", "scheduled_task", "cron", "systemd"]),
    target: z.string().min(1).max(2048),
    value_name: z.string().max(4096).optional(),
    ...Gate,
  }),
  output: RemediationOutput,
  preset: "destructive",
  async plan(args, ctx) {
    return args.dry_run ? undefined : (await persistenceRemoval(args, ctx)).plan;
  },
  async handler(args, ctx) {
    const { params, label } = await persistenceRemoval(args, ctx);
    const reason = args.dry_run ? "" : approvedReason(ctx);
    const ledger = args.dry_run ? undefined : ChangeLedger.for(args.case_id);
    const run = await runOnEndpoint(ctx, args.client_id, PERSISTENCE_ARTIFACT, params, args.wait_timeout, ledger);
    const recorded = !ledger
      ? []
      : await record(ctx, ledger, run.rows, run, (row) => {
          const before = (row.Before as Record<string, unknown>) ?? {};
          return {
            action: "remove_persistence",
            client_id: args.client_id,
            target: label,
            reason,
            before,
            rollback:
              RESTORABLE.has(args.kind) && yes(row.Changed)
                ? { possible: true, how: `restore ${label}`, parameters: { Kind: args.kind, Target: args.target, ValueName: args.value_name ?? "", Action: "restore", RestoreData: JSON.stringify(before) } }
                : { possible: false, how: yes(row.Changed) ? `re-create by hand from before: ${JSON.stringify(before).slice(0, 500)}` : "nothing was changed" },
          };
        });
    const s = summarise(args.client_id, args.dry_run, run, recorded);
    return { structured: s, text: resultText(`remove ${label}`, s), auditSummary: `${args.dry_run ? "dry-run " : ""}remove ${label} flow ${run.flowId}` };
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
    const ledger = ChangeLedger.for(args.case_id);
    const changes = ledger.withStatus().filter((e) => !args.client_id || e.client_id === args.client_id);
    return {
      structured: { case_id: args.case_id, path: ledger.path, verified: true, changes },
      text: changes.length
        ? [`Case ${args.case_id}: ${changes.length} change(s), chain verified (${ledger.path})`, ...changes.map((e) => `#${e.seq} ${e.time} ${e.action} ${e.client_id} ${e.target} → ${e.result}${e.rolls_back ? ` (rolls back #${e.rolls_back})` : ""}${e.rolled_back_by ? ` [rolled back by #${e.rolled_back_by}]` : e.rollback.possible ? " [reversible]" : ""}`)].join("\n")
        : `Case ${args.case_id} has no recorded changes.`,
    };
  },
});

/**
 * The change to undo, read from the verified ledger: an entry whose MAC does not verify (rollback parameters edited
 * and re-hashed, a forged entry) or a truncated ledger throws LEDGER_TAMPERED, so only what verified is ever run.
 */
function rollbackTarget(args: { case_id: string; seq: number; dry_run: boolean }) {
  const ledger = ChangeLedger.for(args.case_id);
  const entries = ledger.withStatus();
  const e = entries.find((x) => x.seq === args.seq);
  if (!e) throw new InputError("seq", `case ${args.case_id} has no change #${args.seq}`, `It has ${entries.length} change(s); see list_changes.`);
  if (e.action === "rollback") throw new InputError("seq", `#${e.seq} is itself a rollback`, "Roll back the original change instead, or repeat the original action.");
  if (e.rolled_back_by) throw new InputError("seq", `#${e.seq} was already rolled back by #${e.rolled_back_by}`, "Nothing to do.");
  if (!e.rollback.possible || !e.rollback.parameters) throw new InputError("seq", `#${e.seq} (${e.action}) cannot be rolled back: ${e.rollback.how}`, "See the before-state in list_changes.");
  const artifact = e.action === "quarantine_file" ? FILE_ARTIFACT : PERSISTENCE_ARTIFACT;
  const params = { ...e.rollback.parameters, DryRun: args.dry_run ? "Y" : "N" };
  const plan: Plan = { summary: `roll back #${e.seq} (${e.action} ${e.target}) on ${e.client_id}: ${e.rollback.how}`, details: { client_id: e.client_id, artifact, parameters: { ...params, DryRun: "N" }, case_id: args.case_id, entry_hash: e.hash } };
  return { ledger, entry: e, artifact, params, plan };
}

export const rollbackChange = defineTool({
  name: "rollback_change",
  title: "Roll back a recorded change",
  description: "DESTRUCTIVE (respond mode). Undo a change from the case's ledger where possible — restore a quarantined file (hash checked), re-create a Run-key value, re-add a cron line, re-enable a systemd unit — and record the rollback as a new ledger entry. Only an entry of a ledger that verifies (MACs, checkpoint) is ever rolled back. dry_run=true shows what would happen; a real rollback returns a plan and confirm_token first; repeat the call with the token and the user's reason to execute.",
  input: z.object({ seq: z.number().int().min(1).describe("the ledger entry to undo (list_changes)"), ...Gate }),
  output: RemediationOutput,
  preset: "destructive",
  async plan(args) {
    return args.dry_run ? undefined : rollbackTarget(args).plan;
  },
  async handler(args, ctx) {
    // Read (and verify) again: what runs is what the ledger says now, not what a plan said earlier.
    const { ledger, entry: e, artifact, params } = rollbackTarget(args);
    const reason = args.dry_run ? "" : approvedReason(ctx);
    const run = await runOnEndpoint(ctx, e.client_id, artifact, params, args.wait_timeout, args.dry_run ? undefined : ledger);
    const recorded = args.dry_run
      ? []
      : await record(ctx, ledger, run.rows, run, (row) => ({ action: "rollback", client_id: e.client_id, target: e.target, reason, before: (row.Before as Record<string, unknown>) ?? {}, rollback: { possible: false, how: `repeat the original ${e.action} to undo this rollback` }, rolls_back: e.seq }));
    const s = summarise(e.client_id, args.dry_run, run, recorded);
    return { structured: s, text: resultText(`roll back #${e.seq} ${e.target}`, s), auditSummary: `${args.dry_run ? "dry-run " : ""}rollback #${e.seq} flow ${run.flowId}` };
  },
});

export const responseTools = [remediateFile, killProcess, removePersistence, listChanges, rollbackChange];
