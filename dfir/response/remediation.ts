/**
 * Remediation policy and execution: what may be changed on an endpoint (system folders, critical processes, which
 * persistence exists on which OS), the plan a change is approved by, running Megaraptor's remediation artifact, and
 * recording every real change in the case's change ledger with its before-state and the approving reason.
 *
 * A real change first proves the ledger can record it (verified chain, writable file): an endpoint change nobody can
 * account for never starts. A dry run runs on the endpoint with DryRun=Y, changes nothing and records nothing.
 */
import { InputError } from "../../core/errors.js";
import type { Row } from "../../velociraptor/client.js";
import { rowsOf } from "../../velociraptor/session.js";
import { clientIdentity, scheduleCollection } from "../collection/endpoint.js";
import { flowErrors, waitForFlow } from "../collection/flows.js";
import type { CollectionSession } from "../collection/session.js";
import { ensureArtifact, FILE_ARTIFACT, PERSISTENCE_ARTIFACT, PROCESS_ARTIFACT } from "./artifacts.js";
import { ChangeLedger, type LedgerEntry, type NewEntry } from "./ledger.js";

export interface RemediationSession extends CollectionSession {
  /** Who acts: recorded in the ledger. */
  principal: string;
}

/** What a real change will do, for the human who approves it. */
export interface RemediationPlan {
  summary: string;
  details: Record<string, unknown>;
}

export type ChangeResult = LedgerEntry["result"];

export interface RemediationResult {
  client_id: string;
  dry_run: boolean;
  flow_id: string;
  state: string;
  rows: Row[];
  ledger: { seq: number; action: string; target: string; result: ChangeResult; rollback_possible: boolean }[];
  errors: string[];
  /** What happened, as the ledger records it: ok only when every recorded change is ok (a dry run: the flow's state). */
  outcome: ChangeResult;
}

/** How a change is run: dry or real; a real one carries the reason it was approved with and its case. */
export type Execution = { dryRun: true; caseId: string } | { dryRun: false; caseId: string; reason: string };

interface Run {
  flowId: string;
  state: string;
  rows: Row[];
  errors: string[];
}

/** Installs the artifact if needed, runs it on the client, waits, and returns its rows. */
async function runOnEndpoint(session: RemediationSession, clientId: string, artifact: string, parameters: Record<string, string>, waitTimeout: number, ledger?: ChangeLedger): Promise<Run> {
  await ledger?.ready();
  await ensureArtifact(session, artifact);
  const flowId = await scheduleCollection(session, { clientId, artifacts: [artifact], spec: { [artifact]: parameters }, urgent: true });
  const state = await waitForFlow(session, clientId, flowId, waitTimeout, artifact);
  const errors = state === "FINISHED" ? [] : await flowErrors(session, clientId, flowId);
  const rows = state === "FINISHED" ? await rowsOf(session, "SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", { ClientId: clientId, FlowId: flowId, ArtifactName: artifact }) : [];
  if (state !== "FINISHED" && !errors.length) errors.push(`flow ${flowId} is ${state} after ${waitTimeout}s; check it with get_flow_status before retrying`);
  return { flowId, state, rows, errors };
}

const yes = (v: unknown) => v === true || v === "Y" || v === "true";

/** The ledger's word for one row of a run: a flow still running when the wait ended may yet change the endpoint. */
function rowResult(run: Run, row: Row): ChangeResult {
  return run.state === "FINISHED" ? (yes(row.Changed) ? "ok" : "failed") : run.state === "ERROR" ? "failed" : "partial";
}

/** Records one ledger entry per changed (or failed) row of a real run. */
async function record(session: RemediationSession, ledger: ChangeLedger, run: Run, make: (row: Row) => Omit<NewEntry, "principal" | "flow_id" | "result" | "detail">): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = [];
  // A flow that failed before producing rows still happened: record it so the case shows the attempt.
  const effective = run.rows.length ? run.rows : [{ Result: run.errors.join("; ") || `flow ${run.state}`, Changed: false }];
  for (const row of effective) out.push(await ledger.append({ ...make(row), principal: session.principal, flow_id: run.flowId, result: rowResult(run, row), detail: String(row.Result ?? "") }));
  return out;
}

/** The call's outcome: the worst of what the ledger recorded (failed > partial > ok); a dry run reports its flow. */
function outcomeOf(run: Run, recorded: LedgerEntry[]): ChangeResult {
  const results = recorded.length ? recorded.map((e) => e.result) : [run.state === "FINISHED" && !run.errors.length ? "ok" : run.state === "ERROR" ? "failed" : run.state === "FINISHED" ? "failed" : "partial"];
  return results.includes("failed") ? "failed" : results.includes("partial") ? "partial" : "ok";
}

function summarise(clientId: string, dryRun: boolean, run: Run, ledger: LedgerEntry[]): RemediationResult {
  return {
    client_id: clientId,
    dry_run: dryRun,
    flow_id: run.flowId,
    state: run.state,
    rows: run.rows,
    ledger: ledger.map((e) => ({ seq: e.seq, action: e.action, target: e.target, result: e.result, rollback_possible: e.rollback.possible })),
    errors: run.errors,
    outcome: outcomeOf(run, ledger),
  };
}

/** Runs a change: real ones are recorded (one ledger entry per row), dry ones only reported. */
async function execute(session: RemediationSession, x: Execution, clientId: string, artifact: string, params: Record<string, string>, waitTimeout: number, make: (row: Row, reason: string) => Omit<NewEntry, "principal" | "flow_id" | "result" | "detail">, verified?: ChangeLedger, after?: (run: Run) => void): Promise<RemediationResult> {
  // A dry run records nothing, so it does not open the case's ledger at all.
  const ledger = x.dryRun ? undefined : (verified ?? ChangeLedger.for(x.caseId));
  const run = await runOnEndpoint(session, clientId, artifact, params, waitTimeout, ledger);
  after?.(run);
  const recorded = !ledger || x.dryRun ? [] : await record(session, ledger, run, (row) => make(row, x.reason));
  return summarise(clientId, x.dryRun, run, recorded);
}

// ---------------------------------------------------------------------------------------------------------------
// Files

const WINDOWS_SYSTEM = /^[a-z]:\\windows\\(system32|syswow64|winsxs)\\|^[a-z]:\\windows\\[^\\]+$/i;
const POSIX_SYSTEM = /^\/(bin|sbin|lib|lib64|boot|usr\/(bin|sbin|lib))\/|^\/etc\/(passwd|shadow|sudoers|fstab)$/;
const QUARANTINE_DIR: Record<string, string> = { windows: "C:\\ProgramData\\Megaraptor\\Quarantine", linux: "/var/lib/megaraptor/quarantine", darwin: "/Library/Application Support/Megaraptor/Quarantine" };

export interface FileChange {
  clientId: string;
  path: string;
  action: "quarantine" | "delete";
  expectedSha256?: string;
  quarantineDir?: string;
  allowSystemPath: boolean;
  waitTimeoutSeconds: number;
}

/** Checks a file change and builds its artifact parameters and plan. */
async function fileChange(session: RemediationSession, c: FileChange, x: Pick<Execution, "dryRun" | "caseId">) {
  const { os, hostname } = await clientIdentity(session, c.clientId);
  const absolute = os === "windows" ? /^[a-z]:\\/i.test(c.path) : c.path.startsWith("/");
  if (!absolute) throw new InputError("path", `"${c.path}" is not an absolute ${os} path`, os === "windows" ? "e.g. C:\\Users\\bob\\AppData\\Local\\Temp\\evil.exe" : "e.g. /tmp/.x/payload");
  if (!c.allowSystemPath && (WINDOWS_SYSTEM.test(c.path) || POSIX_SYSTEM.test(c.path)))
    throw new InputError("path", `${c.path} is in a system folder`, "Removing system files can make the host unbootable. Quarantine rather than delete, and pass allow_system_path=true only if you are sure.");
  const qdir = c.quarantineDir ?? QUARANTINE_DIR[os] ?? "/var/lib/megaraptor/quarantine";
  const params = { TargetPath: c.path, Action: c.action, QuarantineDir: qdir, ExpectedSha256: c.expectedSha256 ?? "", DryRun: x.dryRun ? "Y" : "N" };
  const plan: RemediationPlan = { summary: `${c.action} ${c.path} on ${hostname} (${c.clientId})`, details: { client_id: c.clientId, hostname, artifact: FILE_ARTIFACT, parameters: { ...params, DryRun: "N" }, reversible: c.action === "quarantine", case_id: x.caseId } };
  return { params, qdir, plan };
}

export async function planFileChange(session: RemediationSession, c: FileChange, caseId: string): Promise<RemediationPlan> {
  return (await fileChange(session, c, { dryRun: false, caseId })).plan;
}

export async function remediateFile(session: RemediationSession, c: FileChange, x: Execution): Promise<RemediationResult> {
  const { params, qdir } = await fileChange(session, c, x);
  return execute(session, x, c.clientId, FILE_ARTIFACT, params, c.waitTimeoutSeconds, (row, reason) => ({
    action: c.action === "quarantine" ? "quarantine_file" : "delete_file",
    client_id: c.clientId,
    target: c.path,
    reason,
    before: (row.Before as Record<string, unknown>) ?? {},
    rollback:
      c.action === "quarantine" && yes(row.Changed)
        ? { possible: true, how: `restore ${String(row.QuarantinePath)} to ${c.path}`, parameters: { TargetPath: c.path, Action: "restore", QuarantinePath: String(row.QuarantinePath), ExpectedSha256: String(row.Sha256 ?? ""), QuarantineDir: qdir } }
        : { possible: false, how: c.action === "delete" ? "deleted files cannot be restored by Megaraptor; recover from backup (the ledger keeps the hash)" : "nothing was changed" },
  }));
}

// ---------------------------------------------------------------------------------------------------------------
// Processes

/** Processes whose death takes the host (or Velociraptor) down with it. */
export const CRITICAL_PROCESSES = /^(system|registry|smss\.exe|csrss\.exe|wininit\.exe|winlogon\.exe|services\.exe|lsass\.exe|lsaiso\.exe|svchost\.exe|velociraptor(\.exe)?|init|systemd|kthreadd|launchd|kernel_task)$/i;

export interface ProcessKill {
  clientId: string;
  pid?: number;
  name?: string;
  expectedSha256?: string;
  waitTimeoutSeconds: number;
}

/** Checks a kill and builds its artifact parameters and plan. */
async function processKill(session: RemediationSession, k: ProcessKill, x: Pick<Execution, "dryRun" | "caseId">) {
  if (k.pid === undefined && !k.name) throw new InputError("pid", "give a pid and/or a name", "Find it with collect_artifact Windows.System.Pslist / Linux.Sys.Pslist.");
  if (k.pid !== undefined && [0, 1, 4].includes(k.pid)) throw new InputError("pid", `pid ${k.pid} is a system process`, "Killing it would crash the host.");
  if (k.name && CRITICAL_PROCESSES.test(k.name)) throw new InputError("name", `${k.name} is a critical system process`, "Killing it would crash the host or cut off Velociraptor; isolate the host with quarantine_client instead.");
  const { hostname } = await clientIdentity(session, k.clientId);
  // The name is matched exactly on the endpoint: escape it so it is a literal inside the artifact's regex.
  const params = { TargetPid: String(k.pid ?? 0), NameRegex: k.name ? `^${k.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$` : "", ExpectedSha256: k.expectedSha256 ?? "", DryRun: x.dryRun ? "Y" : "N" };
  const what = [k.pid !== undefined ? `pid ${k.pid}` : "", k.name ?? ""].filter(Boolean).join(" ");
  const plan: RemediationPlan = { summary: `kill ${what} on ${hostname} (${k.clientId})`, details: { client_id: k.clientId, hostname, artifact: PROCESS_ARTIFACT, parameters: { ...params, DryRun: "N" }, reversible: false, case_id: x.caseId } };
  return { params, what, plan };
}

export async function planProcessKill(session: RemediationSession, k: ProcessKill, caseId: string): Promise<RemediationPlan> {
  return (await processKill(session, k, { dryRun: false, caseId })).plan;
}

export async function killProcess(session: RemediationSession, k: ProcessKill, x: Execution): Promise<RemediationResult & { what: string }> {
  const { params, what } = await processKill(session, k, x);
  const r = await execute(
    session,
    x,
    k.clientId,
    PROCESS_ARTIFACT,
    params,
    k.waitTimeoutSeconds,
    (row, reason) => ({
      action: "kill_process",
      client_id: k.clientId,
      target: `${String(row.Name ?? k.name ?? "")} pid ${String(row.Pid ?? k.pid ?? "?")}`,
      reason,
      before: (row.Before as Record<string, unknown>) ?? {},
      rollback: { possible: false, how: "a killed process cannot be revived; restart its program or service if needed (command line kept in before)" },
    }),
    undefined,
    (run) => {
      if (!run.rows.length && run.state === "FINISHED") run.errors.push(`no process matched ${what}`);
    },
  );
  return { ...r, what };
}

// ---------------------------------------------------------------------------------------------------------------
// Persistence

export const PERSISTENCE_KINDS = ["run_key", "service", "scheduled_task", "cron", "systemd"] as const;
export type PersistenceKind = (typeof PERSISTENCE_KINDS)[number];
const KIND_OS: Record<PersistenceKind, string> = { run_key: "windows", service: "windows", scheduled_task: "windows", cron: "linux", systemd: "linux" };
const RESTORABLE = new Set<PersistenceKind>(["run_key", "cron", "systemd"]);

export interface PersistenceRemoval {
  clientId: string;
  kind: PersistenceKind;
  target: string;
  valueName?: string;
  waitTimeoutSeconds: number;
}

/** Checks a persistence removal and builds its artifact parameters and plan. */
async function persistenceRemoval(session: RemediationSession, p: PersistenceRemoval, x: Pick<Execution, "dryRun" | "caseId">) {
  const { os, hostname } = await clientIdentity(session, p.clientId);
  if (KIND_OS[p.kind] !== os) throw new InputError("kind", `${p.kind} exists on ${KIND_OS[p.kind]} clients; ${p.clientId} is ${os}`, `For ${os} use ${Object.entries(KIND_OS).filter(([, o]) => o === os).map(([k]) => k).join(", ") || "quarantine_client"}.`);
  if ((p.kind === "run_key" || p.kind === "cron") && !p.valueName) throw new InputError("value_name", `${p.kind} needs value_name (${p.kind === "run_key" ? "the Run value" : "the exact crontab line"})`, "Copy it from the persistence artifact's results.");
  if (p.kind === "run_key" && !/^(HKEY_|HKLM|HKCU|HKU)/i.test(p.target)) throw new InputError("target", "run_key targets are registry keys", "e.g. HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run");
  const params = { Kind: p.kind, Target: p.target, ValueName: p.valueName ?? "", Action: "remove", RestoreData: "", DryRun: x.dryRun ? "Y" : "N" };
  const label = `${p.kind} ${p.target}${p.valueName ? ` / ${p.valueName}` : ""}`;
  const plan: RemediationPlan = { summary: `remove ${label} on ${hostname} (${p.clientId})`, details: { client_id: p.clientId, hostname, artifact: PERSISTENCE_ARTIFACT, parameters: { ...params, DryRun: "N" }, reversible: RESTORABLE.has(p.kind), case_id: x.caseId } };
  return { params, label, plan };
}

export async function planPersistenceRemoval(session: RemediationSession, p: PersistenceRemoval, caseId: string): Promise<RemediationPlan> {
  return (await persistenceRemoval(session, p, { dryRun: false, caseId })).plan;
}

export async function removePersistence(session: RemediationSession, p: PersistenceRemoval, x: Execution): Promise<RemediationResult & { label: string }> {
  const { params, label } = await persistenceRemoval(session, p, x);
  const r = await execute(session, x, p.clientId, PERSISTENCE_ARTIFACT, params, p.waitTimeoutSeconds, (row, reason) => {
    const before = (row.Before as Record<string, unknown>) ?? {};
    return {
      action: "remove_persistence",
      client_id: p.clientId,
      target: label,
      reason,
      before,
      rollback:
        RESTORABLE.has(p.kind) && yes(row.Changed)
          ? { possible: true, how: `restore ${label}`, parameters: { Kind: p.kind, Target: p.target, ValueName: p.valueName ?? "", Action: "restore", RestoreData: JSON.stringify(before) } }
          : { possible: false, how: yes(row.Changed) ? `re-create by hand from before: ${JSON.stringify(before).slice(0, 500)}` : "nothing was changed" },
    };
  });
  return { ...r, label };
}

// ---------------------------------------------------------------------------------------------------------------
// Rollback

/**
 * The change to undo, read from the verified ledger: an entry whose MAC does not verify (rollback parameters edited
 * and re-hashed, a forged entry) or a truncated ledger throws LEDGER_TAMPERED, so only what verified is ever run.
 */
export function rollbackTarget(caseId: string, seq: number, dryRun: boolean) {
  const ledger = ChangeLedger.for(caseId);
  const entries = ledger.withStatus();
  const e = entries.find((x) => x.seq === seq);
  if (!e) throw new InputError("seq", `case ${caseId} has no change #${seq}`, `It has ${entries.length} change(s); see list_changes.`);
  if (e.action === "rollback") throw new InputError("seq", `#${e.seq} is itself a rollback`, "Roll back the original change instead, or repeat the original action.");
  if (e.rolled_back_by) throw new InputError("seq", `#${e.seq} was already rolled back by #${e.rolled_back_by}`, "Nothing to do.");
  if (!e.rollback.possible || !e.rollback.parameters) throw new InputError("seq", `#${e.seq} (${e.action}) cannot be rolled back: ${e.rollback.how}`, "See the before-state in list_changes.");
  const artifact = e.action === "quarantine_file" ? FILE_ARTIFACT : PERSISTENCE_ARTIFACT;
  const params = { ...e.rollback.parameters, DryRun: dryRun ? "Y" : "N" };
  const plan: RemediationPlan = { summary: `roll back #${e.seq} (${e.action} ${e.target}) on ${e.client_id}: ${e.rollback.how}`, details: { client_id: e.client_id, artifact, parameters: { ...params, DryRun: "N" }, case_id: caseId, entry_hash: e.hash } };
  return { ledger, entry: e, artifact, params, plan };
}

export async function rollbackChange(session: RemediationSession, seq: number, waitTimeoutSeconds: number, x: Execution): Promise<RemediationResult & { entry: LedgerEntry }> {
  // Read (and verify) again: what runs is what the ledger says now, not what a plan said earlier.
  const { ledger, entry: e, artifact, params } = rollbackTarget(x.caseId, seq, x.dryRun);
  const r = await execute(
    session,
    x,
    e.client_id,
    artifact,
    params,
    waitTimeoutSeconds,
    (row, reason) => ({ action: "rollback", client_id: e.client_id, target: e.target, reason, before: (row.Before as Record<string, unknown>) ?? {}, rollback: { possible: false, how: `repeat the original ${e.action} to undo this rollback` }, rolls_back: e.seq }),
    ledger,
  );
  return { ...r, entry: e };
}

/** The case's changes (verified), optionally for one client. */
export function listChanges(caseId: string, clientId?: string) {
  const ledger = ChangeLedger.for(caseId);
  return { path: ledger.path, changes: ledger.withStatus().filter((e) => !clientId || e.client_id === clientId) };
}
