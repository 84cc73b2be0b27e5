/**
 * The endpoint side of remediation: three artifacts Megaraptor ships and uploads to the server on first use
 * (artifact_set, needs ARTIFACT_WRITER). Each has a DryRun mode that reports exactly what it would change, records
 * the before-state in its rows (hash, metadata, registry value, unit file, cron line), and refuses on the endpoint
 * what Megaraptor already refuses (critical processes, hash mismatches) — defence in depth.
 *
 * Row contract Megaraptor reads: Action, DryRun, Changed (bool), Result (text), Before (dict), plus per-artifact
 * fields (Sha256, QuarantinePath, Pid, Name…).
 */
import { parse } from "yaml";
import { InputError } from "../../core/errors.js";
import { PermissionDeniedError } from "../../velociraptor/errors.js";
import { rowsOf, type VelociraptorSession } from "../../velociraptor/session.js";

export const FILE_ARTIFACT = "Custom.Megaraptor.Remediation.File";
export const PROCESS_ARTIFACT = "Custom.Megaraptor.Remediation.Process";
export const PERSISTENCE_ARTIFACT = "Custom.Megaraptor.Remediation.Persistence";

const FILE_YAML = `name: ${FILE_ARTIFACT}
description: |
  Quarantine (move into a protected folder, keeping hash and metadata), delete, or restore a file.
  Shipped by Megaraptor; DryRun reports without changing anything.
type: CLIENT
required_permissions: [FILESYSTEM_WRITE]
parameters:
  - { name: TargetPath, description: "the file to act on" }
  - { name: Action, type: choices, default: quarantine, choices: [quarantine, delete, restore] }
  - { name: QuarantineDir, description: "where quarantined files go" }
  - { name: QuarantinePath, description: "for restore: the quarantined copy" }
  - { name: ExpectedSha256, description: "refuse unless the file has this hash" }
  - { name: DryRun, type: bool, default: Y }
sources:
  - query: |
      LET Src <= if(condition=Action = "restore", then=QuarantinePath, else=TargetPath)
      LET Info <= SELECT OSPath, Size, Mtime, Btime, Mode.String AS Mode, hash(path=OSPath).SHA256 AS Sha256 FROM stat(filename=Src)
      LET Dest <= if(condition=Action = "restore", then=TargetPath, else=path_join(components=[QuarantineDir, format(format="%v-%v.quarantine", args=[Info[0].Sha256, basename(path=TargetPath)])]))
      LET Problem <= if(condition=NOT Info, then="file does not exist", else=if(condition=ExpectedSha256 AND Info[0].Sha256 != ExpectedSha256, then="hash mismatch", else=""))
      LET Before <= dict(path=Src, sha256=Info[0].Sha256, size=Info[0].Size, mtime=Info[0].Mtime, btime=Info[0].Btime, mode=Info[0].Mode)
      SELECT Action, DryRun, TargetPath AS Path, Info[0].Sha256 AS Sha256, Dest AS QuarantinePath, Before,
             NOT Problem AND NOT DryRun AS Changed,
             if(condition=Problem, then=Problem,
                else=if(condition=DryRun, then=format(format="would %v %v", args=[Action, Src]),
                else=if(condition=Action = "delete", then=rm(filename=Src),
                else=copy(filename=Src, dest=Dest, create_directories=TRUE) AND rm(filename=Src)))) AS Result
      FROM scope()
`;

const PROCESS_YAML = `name: ${PROCESS_ARTIFACT}
description: |
  Terminate processes by PID and/or name (optionally only when the binary has a given SHA-256), refusing
  critical system processes. Shipped by Megaraptor; DryRun lists what would be killed.
type: CLIENT
required_permissions: [EXECVE]
parameters:
  - { name: TargetPid, type: int, default: 0 }
  - { name: NameRegex, default: "" }
  - { name: ExpectedSha256, default: "" }
  - { name: DryRun, type: bool, default: Y }
sources:
  - query: |
      LET Critical = "(?i)^(system|registry|smss\\\\.exe|csrss\\\\.exe|wininit\\\\.exe|winlogon\\\\.exe|services\\\\.exe|lsass\\\\.exe|lsaiso\\\\.exe|svchost\\\\.exe|velociraptor(\\\\.exe)?|init|systemd|kthreadd|launchd|kernel_task)$"
      LET Targets = SELECT Pid, Name, Exe, CommandLine, hash(path=Exe).SHA256 AS Sha256 FROM pslist()
        WHERE (Pid = TargetPid OR NOT TargetPid) AND (Name =~ NameRegex OR NOT NameRegex) AND (TargetPid OR NameRegex)
          AND NOT Pid = getpid()
      SELECT Pid, Name, Exe, CommandLine, Sha256, "kill" AS Action, DryRun, dict(pid=Pid, name=Name, exe=Exe, sha256=Sha256, cmdline=CommandLine) AS Before,
             NOT DryRun AND NOT Name =~ Critical AND (NOT ExpectedSha256 OR Sha256 = ExpectedSha256) AS Changed,
             if(condition=Name =~ Critical, then="refused: critical process",
                else=if(condition=ExpectedSha256 AND Sha256 != ExpectedSha256, then="refused: hash mismatch",
                else=if(condition=DryRun, then="would kill", else=pskill(pid=Pid)))) AS Result
      FROM Targets
`;

const PERSISTENCE_YAML = `name: ${PERSISTENCE_ARTIFACT}
description: |
  Remove (or restore) a persistence entry: Windows Run-key values, services and scheduled tasks; Linux cron
  lines and systemd units. Records the removed content so it can be restored. Shipped by Megaraptor.
type: CLIENT
required_permissions: [EXECVE, FILESYSTEM_WRITE]
parameters:
  - { name: Kind, type: choices, choices: [run_key, service, scheduled_task, cron, systemd] }
  - { name: Target, description: "registry key / service name / task path / crontab file / unit name" }
  - { name: ValueName, description: "run_key: the value; cron: the exact line", default: "" }
  - { name: Action, type: choices, default: remove, choices: [remove, restore] }
  - { name: RestoreData, description: "JSON from the Before column of the removal", default: "" }
  - { name: DryRun, type: bool, default: Y }
sources:
  - query: |
      LET Before <= if(condition=Kind = "run_key", then=dict(key=Target, value=ValueName, data=get(item={ SELECT * FROM read_reg_key(globs=Target) }[0], field=ValueName)),
                  else=if(condition=Kind = "cron", then=dict(file=Target, line=ValueName),
                  else=if(condition=Kind = "systemd", then=dict(unit=Target, content=read_file(filename="/etc/systemd/system/" + Target)),
                  else=dict(name=Target))))
      SELECT Kind, Target, Action, DryRun, Before, NOT DryRun AS Changed,
             if(condition=DryRun, then=format(format="would %v %v %v", args=[Action, Kind, Target]),
                else=if(condition=Kind = "run_key" AND Action = "restore", then=reg_set_value(path=Target + "\\\\" + ValueName, value=parse_json(data=RestoreData).data, type="SZ", create=TRUE),
                else=if(condition=Kind = "cron" AND Action = "restore", then={ SELECT * FROM execve(argv=["sh", "-c", 'printf "%s\\n" "$1" >> "$2"', "sh", ValueName, Target]) },
                else=if(condition=Kind = "systemd" AND Action = "restore", then={ SELECT * FROM execve(argv=["systemctl", "enable", "--now", Target]) },
                else=if(condition=Kind = "run_key", then=reg_rm_value(path=Target + "\\\\" + ValueName),
                else=if(condition=Kind = "service", then={ SELECT * FROM execve(argv=["sc.exe", "delete", Target]) },
                else=if(condition=Kind = "scheduled_task", then={ SELECT * FROM execve(argv=["schtasks.exe", "/Delete", "/TN", Target, "/F"]) },
                else=if(condition=Kind = "systemd", then={ SELECT * FROM execve(argv=["systemctl", "disable", "--now", Target]) },
                else={ SELECT * FROM execve(argv=["sed", "-i", "\\\\#" + ValueName + "#d", Target]) })))))))) AS Result
      FROM scope()
`;

export const REMEDIATION_ARTIFACTS: Record<string, string> = { [FILE_ARTIFACT]: FILE_YAML, [PROCESS_ARTIFACT]: PROCESS_YAML, [PERSISTENCE_ARTIFACT]: PERSISTENCE_YAML };

const normalise = (q: string) => q.replace(/\s+/g, " ").trim();

/** The source queries of a definition, for comparing what the server has with what Megaraptor ships. */
function shippedQueries(name: string): string[] {
  return (parse(REMEDIATION_ARTIFACTS[name]!) as { sources: { query: string }[] }).sources.map((x) => normalise(x.query));
}

/**
 * Makes the server hold exactly the definition Megaraptor ships: uploads it when missing, and again when the server's
 * copy differs (an older Megaraptor, or an edit) — the tools read its rows by a fixed contract, so a different
 * definition must never run in its name.
 */
export async function ensureArtifact(ctx: VelociraptorSession, name: string): Promise<"present" | "installed" | "updated"> {
  const def = REMEDIATION_ARTIFACTS[name];
  if (!def) throw new InputError("artifact", `${name} is not a Megaraptor remediation artifact`, "Internal: use one of REMEDIATION_ARTIFACTS.");
  const have = await rowsOf(ctx, "SELECT name, sources FROM artifact_definitions(names=Name)", { Name: name });
  const current = have[0] ? ((have[0].sources as { query?: string }[] | null) ?? []).map((x) => normalise(x.query ?? "")) : undefined;
  if (current && JSON.stringify(current) === JSON.stringify(shippedQueries(name))) return "present";
  const set = await rowsOf(ctx, "SELECT artifact_set(definition=Definition) AS Set FROM scope()", { Definition: def });
  if (!set[0]?.Set)
    throw new PermissionDeniedError(`Uploading ${name} was refused: the API user needs ARTIFACT_WRITER (or add the artifact by hand from dfir/response/artifacts.ts).`);
  return current ? "updated" : "installed";
}
