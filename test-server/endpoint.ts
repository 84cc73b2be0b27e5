/**
 * Endpoint state for the remediation artifacts Megaraptor ships (dfir/response/artifacts.ts). The test server has no
 * endpoint to run VQL on, so it reproduces those artifacts' documented row contract against a per-client model of
 * files, processes, registry values, services, tasks, crontabs and systemd units: DryRun changes nothing, hash
 * mismatches and critical processes are refused on the "endpoint", removed content is reported in Before.
 */
import { createHash } from "node:crypto";
import { z } from "zod";

export const EndpointSchema = z.object({
  files: z.record(z.string(), z.string()).default({}).describe("path → content"),
  processes: z.array(z.object({ Pid: z.number(), Ppid: z.number().default(0), Name: z.string(), Exe: z.string(), CommandLine: z.string().default("") })).default([]),
  registry: z.record(z.string(), z.record(z.string(), z.string())).default({}).describe("key → value name → data"),
  services: z.record(z.string(), z.object({ binpath: z.string(), start: z.string().default("auto") })).default({}),
  tasks: z.record(z.string(), z.string()).default({}).describe("task path → XML"),
  cron: z.record(z.string(), z.array(z.string())).default({}).describe("crontab file → lines"),
  units: z.record(z.string(), z.object({ content: z.string(), enabled: z.boolean().default(true) })).default({}),
});
export type Endpoint = z.infer<typeof EndpointSchema>;

type Row = Record<string, unknown>;
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
const yes = (v: unknown) => v === true || v === "Y" || v === "true" || v === "1";
const CRITICAL = /^(system|registry|smss\.exe|csrss\.exe|wininit\.exe|winlogon\.exe|services\.exe|lsass\.exe|lsaiso\.exe|svchost\.exe|velociraptor(\.exe)?|init|systemd|kthreadd|launchd|kernel_task)$/i;

function fileArtifact(ep: Endpoint, p: Record<string, unknown>, os: string): Row[] {
  const action = String(p.Action ?? "quarantine");
  const dry = yes(p.DryRun ?? "Y");
  const target = String(p.TargetPath ?? "");
  const src = action === "restore" ? String(p.QuarantinePath ?? "") : target;
  const content = ep.files[src];
  const hash = content === undefined ? undefined : sha256(content);
  const sep = os === "windows" ? "\\" : "/";
  const base = target.split(/[\\/]/).pop() ?? "file";
  const dest = action === "restore" ? target : `${String(p.QuarantineDir ?? "")}${sep}${hash}-${base}.quarantine`;
  const problem = content === undefined ? "file does not exist" : p.ExpectedSha256 && p.ExpectedSha256 !== hash ? "hash mismatch" : "";
  const before = content === undefined ? {} : { path: src, sha256: hash, size: Buffer.byteLength(content), mtime: "2026-11-20T08:14:02Z", btime: "2026-11-20T08:14:01Z", mode: "-rw-r--r--" };
  let result = problem || (dry ? `would ${action} ${src}` : "");
  if (!problem && !dry) {
    if (action !== "delete") ep.files[dest] = content!;
    delete ep.files[src];
    result = action === "delete" ? "deleted" : `moved to ${dest}`;
  }
  return [{ Action: action, DryRun: dry, Path: target, Sha256: hash ?? null, QuarantinePath: dest, Before: before, Changed: !problem && !dry, Result: result }];
}

function processArtifact(ep: Endpoint, p: Record<string, unknown>): Row[] {
  const pid = Number(p.TargetPid ?? 0);
  const re = p.NameRegex ? new RegExp(String(p.NameRegex)) : undefined;
  const dry = yes(p.DryRun ?? "Y");
  if (!pid && !re) return [];
  const out: Row[] = [];
  for (const proc of [...ep.processes]) {
    if ((pid && proc.Pid !== pid) || (re && !re.test(proc.Name))) continue;
    const hash = sha256(ep.files[proc.Exe] ?? proc.Exe);
    const critical = CRITICAL.test(proc.Name);
    const mismatch = Boolean(p.ExpectedSha256) && p.ExpectedSha256 !== hash;
    const changed = !dry && !critical && !mismatch;
    if (changed) ep.processes = ep.processes.filter((x) => x.Pid !== proc.Pid);
    out.push({
      Pid: proc.Pid,
      Name: proc.Name,
      Exe: proc.Exe,
      CommandLine: proc.CommandLine,
      Sha256: hash,
      Action: "kill",
      DryRun: dry,
      Before: { pid: proc.Pid, name: proc.Name, exe: proc.Exe, sha256: hash, cmdline: proc.CommandLine },
      Changed: changed,
      Result: critical ? "refused: critical process" : mismatch ? "refused: hash mismatch" : dry ? "would kill" : "killed",
    });
  }
  return out;
}

function persistenceArtifact(ep: Endpoint, p: Record<string, unknown>): Row[] {
  const kind = String(p.Kind);
  const target = String(p.Target ?? "");
  const value = String(p.ValueName ?? "");
  const action = String(p.Action ?? "remove");
  const dry = yes(p.DryRun ?? "Y");
  const restore = action === "restore" ? (JSON.parse(String(p.RestoreData || "{}")) as Record<string, unknown>) : {};
  let before: Row = {};
  let exists = false;
  let apply = () => {};
  switch (kind) {
    case "run_key": {
      const data = ep.registry[target]?.[value];
      exists = action === "restore" ? data === undefined : data !== undefined;
      before = { key: target, value, data: data ?? null };
      apply = () => {
        if (action === "restore") (ep.registry[target] ??= {})[value] = String(restore.data);
        else delete ep.registry[target]![value];
      };
      break;
    }
    case "service": {
      const svc = ep.services[target];
      exists = Boolean(svc) && action === "remove";
      before = svc ? { name: target, binpath: svc.binpath, start: svc.start } : { name: target };
      apply = () => delete ep.services[target];
      break;
    }
    case "scheduled_task": {
      const xml = ep.tasks[target];
      exists = xml !== undefined && action === "remove";
      before = { name: target, xml: xml ?? null };
      apply = () => delete ep.tasks[target];
      break;
    }
    case "cron": {
      const lines = ep.cron[target] ?? [];
      exists = action === "restore" ? !lines.includes(value) : lines.includes(value);
      before = { file: target, line: value };
      apply = () => {
        ep.cron[target] = action === "restore" ? [...lines, value] : lines.filter((l) => l !== value);
      };
      break;
    }
    case "systemd": {
      const unit = ep.units[target];
      exists = Boolean(unit) && (action === "restore" ? !unit!.enabled : unit!.enabled);
      before = { unit: target, content: unit?.content ?? null, enabled: unit?.enabled ?? false };
      apply = () => {
        unit!.enabled = action === "restore";
      };
      break;
    }
  }
  const changed = exists && !dry;
  if (changed) apply();
  return [{ Kind: kind, Target: target, Action: action, DryRun: dry, Before: before, Changed: changed, Result: !exists ? `nothing to ${action}: ${kind} ${target} ${value}`.trim() : dry ? `would ${action} ${kind} ${target}` : `${action === "restore" ? "restored" : "removed"} ${kind} ${target}` }];
}

/** Runs one of the shipped remediation artifacts against the client's endpoint model; undefined for other artifacts. */
export function runRemediation(ep: Endpoint | undefined, artifact: string, params: Record<string, unknown>, os: string): Row[] | undefined {
  if (!artifact.startsWith("Custom.Megaraptor.Remediation.")) return undefined;
  const state = ep ?? EndpointSchema.parse({});
  if (artifact.endsWith(".File")) return fileArtifact(state, params, os);
  if (artifact.endsWith(".Process")) return processArtifact(state, params);
  if (artifact.endsWith(".Persistence")) return persistenceArtifact(state, params);
  return [];
}
