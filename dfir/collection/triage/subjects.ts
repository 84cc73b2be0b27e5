/**
 * One reader per Velociraptor result the triage bundle collects: it turns a row, read by the columns the artifact
 * really has (dfir/analysis/columns), into a Subject — what the row is about (a process, a service, a login…), the
 * executable it runs, its signature, its times — so the scoring in ./score.ts speaks one language for all of them.
 * Readers compare values only through `values` entries, which the catalogue test checks.
 */
import { socketEnd } from "../../analysis/fields.js";
import { toMicros } from "../../analysis/timeline/timestamps.js";
import { commandExecutable } from "./paths.js";

export const SECTIONS = ["processes", "network", "logons", "users", "services", "scheduled", "persistence", "execution", "shell_history", "dns", "downloads"] as const;
export type Section = (typeof SECTIONS)[number];

export interface Signature {
  trusted: boolean;
  /** authenticode()'s Trusted value as Velociraptor wrote it. */
  status: string;
  subject?: string;
}

export interface Connection {
  established: boolean;
  listening: boolean;
  localIp?: string;
  localPort?: number;
  remoteIp?: string;
  remotePort?: number;
  pid?: string;
}

export interface Subject {
  section: Section;
  /** What the row is, for the analyst: "process", "service", "RDP logon"… */
  kind: string;
  /** The row's identity without the host: service name and command, process name, pid and command line. */
  identity: string;
  /** The executable the row runs or ran. */
  exe?: string;
  /** The full command line, arguments or shell line. */
  command?: string;
  signature?: Signature;
  /** When the thing was created, registered or first run (µs), with what that time means. */
  created?: { us: number; what: string };
  pid?: string;
  ppid?: string;
  name?: string;
  /** The process exe is gone from disk (Linux "(deleted)"). */
  deleted?: boolean;
  connection?: Connection;
  login?: { user: string; ip?: string; rdp: boolean; success: boolean; logonType?: string };
  account?: { user: string; uid: string };
  /** A Windows profile's account name. */
  profile?: string;
  dns?: { name: string; record?: string };
  download?: { url: string };
  /** A launchd job's label (com.apple.… outside Apple's folders is a disguise). */
  label?: string;
}

export type Row = Record<string, unknown>;

/** A value a reader compares a column against; the catalogue test checks Velociraptor writes it there. */
export interface ValueUse {
  column: string;
  value: string;
}

export interface Reader {
  result: string;
  section: Section;
  values: ValueUse[];
  read(row: Row): Subject;
}

const s = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : typeof v === "number" ? String(v) : undefined);
const n = (v: unknown): number | undefined => (typeof v === "number" ? v : typeof v === "string" && /^\d+$/.test(v) ? Number(v) : undefined);
const obj = (v: unknown): Row | undefined => (v && typeof v === "object" && !Array.isArray(v) ? (v as Row) : undefined);
const when = (v: unknown, what: string) => {
  const us = toMicros(v);
  return us === undefined ? undefined : { us, what };
};
const quote = (v: string | undefined) => (v ? ` ${v}` : "");

const TRUSTED: ValueUse = { column: "Trusted", value: "trusted" };
function signature(v: unknown): Signature | undefined {
  const a = obj(v);
  const status = s(a?.Trusted);
  if (!a || !status) return undefined;
  return { trusted: status === TRUSTED.value, status, subject: s(a.SubjectName) };
}
const trustedUse = (column: string): ValueUse => ({ column: `${column}.${TRUSTED.column}`, value: TRUSTED.value });

const WIN_ESTAB: ValueUse = { column: "Status", value: "ESTAB" };
const WIN_LISTEN: ValueUse = { column: "Status", value: "LISTEN" };
const LINUX_ESTAB: ValueUse = { column: "State", value: "Established" };
const LINUX_LISTEN: ValueUse = { column: "State", value: "Listening" };
const RDP_TYPE = 10;
const LOGON_OK = 4624;
const LOGON_FAILED = 4625;

function process(row: Row, created: unknown): Subject {
  const name = s(row.Name) ?? "?";
  const pid = s(row.Pid);
  const cmd = s(row.CommandLine);
  return {
    section: "processes",
    kind: "process",
    identity: `${name} (pid ${pid ?? "?"})${quote(cmd ?? s(row.Exe))}`,
    exe: s(row.Exe),
    command: cmd,
    pid,
    ppid: s(row.Ppid),
    name,
    created: when(created, "started"),
  };
}

function ends(result: string, row: Row) {
  const l = socketEnd(result, row, "local");
  const r = socketEnd(result, row, "remote");
  return { localIp: l.ip, localPort: l.port, remoteIp: r.ip, remotePort: r.port };
}

const linuxSocket = (result: string) => (row: Row): Subject => {
  const p = obj(row.ProcessInfo);
  const state = s(row.State);
  const conn: Connection = { established: state === LINUX_ESTAB.value, listening: state === LINUX_LISTEN.value, ...ends(result, row), pid: s(p?.Pid) };
  const who = p ? `${(s(p.Command) ?? "?").trim()} (pid ${s(p.Pid)})` : "no process";
  return { section: "network", kind: "connection", identity: `${who} ${state ?? "?"} ${conn.localIp}:${conn.localPort} → ${conn.remoteIp}:${conn.remotePort}`, connection: conn, pid: conn.pid };
};

const crontabCommand = (row: Row) => {
  // Per-user crontabs have no user field: Velociraptor's regex puts the command's first word in User.
  const path = s(row.Path) ?? "";
  const perUser = /^\/var\/spool\/cron\//.test(path);
  return perUser ? [s(row.User), s(row.Command)].filter(Boolean).join(" ") : s(row.Command);
};

export const READERS: Reader[] = [
  {
    result: "Windows.System.Pslist",
    section: "processes",
    values: [trustedUse("Authenticode")],
    read: (row) => ({ ...process(row, row.CreateTime), signature: signature(row.Authenticode) }),
  },
  { result: "Linux.Sys.Pslist", section: "processes", values: [], read: (row) => ({ ...process(row, row.CreateTime), deleted: row.Deleted === true }) },
  { result: "Generic.System.Pstree", section: "processes", values: [], read: (row) => process(row, row.StartTime) },
  {
    result: "Windows.Network.Netstat",
    section: "network",
    values: [WIN_ESTAB, WIN_LISTEN],
    read: (row) => {
      const status = s(row.Status);
      const conn: Connection = { established: status === WIN_ESTAB.value, listening: status === WIN_LISTEN.value, ...ends("Windows.Network.Netstat", row), pid: s(row.Pid) };
      return { section: "network", kind: "connection", identity: `${s(row.Name) ?? "?"} (pid ${conn.pid}) ${status || s(row.Type) || "?"} ${conn.localIp}:${conn.localPort} → ${conn.remoteIp}:${conn.remotePort}`, connection: conn, pid: conn.pid };
    },
  },
  { result: "Linux.Network.Netstat/TCP4", section: "network", values: [LINUX_ESTAB, LINUX_LISTEN], read: linuxSocket("Linux.Network.Netstat/TCP4") },
  { result: "Linux.Network.Netstat/TCP6", section: "network", values: [LINUX_ESTAB, LINUX_LISTEN], read: linuxSocket("Linux.Network.Netstat/TCP6") },
  {
    result: "MacOS.Network.Netstat",
    section: "network",
    values: [WIN_ESTAB, WIN_LISTEN],
    read: (row) => {
      const status = s(row.Status);
      const conn: Connection = { established: status === WIN_ESTAB.value, listening: status === WIN_LISTEN.value, ...ends("MacOS.Network.Netstat", row), pid: s(row.Pid) };
      return { section: "network", kind: "connection", identity: `${s(obj(row.ProcInfo)?.Name) ?? "?"} (pid ${conn.pid}) ${status ?? "?"} ${conn.localIp}:${conn.localPort} → ${conn.remoteIp}:${conn.remotePort}`, connection: conn, pid: conn.pid };
    },
  },
  {
    result: "Windows.System.Services",
    section: "services",
    values: [trustedUse("CertinfoServiceExe")],
    read: (row) => ({
      section: "services",
      kind: "service",
      identity: `${s(row.Name)} (${s(row.DisplayName) ?? ""}, ${s(row.State) ?? "?"}, ${s(row.StartMode) ?? "?"})${quote(s(row.PathName))}`,
      exe: s(row.AbsoluteExePath),
      command: [s(row.PathName), s(row.ServiceDll)].filter(Boolean).join(" "),
      signature: signature(row.CertinfoServiceExe),
      created: when(row.Created, "service key written"),
    }),
  },
  {
    result: "Windows.System.TaskScheduler/Analysis",
    section: "scheduled",
    values: [trustedUse("Authenticode")],
    read: (row) => ({
      section: "scheduled",
      kind: "scheduled task",
      identity: `${s(row.TaskName) ?? s(row.OSPath)}${quote([s(row.Command), s(row.Arguments)].filter(Boolean).join(" ") || (s(row.ComHandler) ? `COM ${s(row.ComHandler)}` : ""))}`,
      exe: s(row.Command),
      command: [s(row.Command), s(row.Arguments)].filter(Boolean).join(" "),
      signature: signature(row.Authenticode),
      created: when(row.RegistrationTime, "task registered") ?? when(row.Mtime, "task file written"),
    }),
  },
  {
    result: "Windows.Sys.StartupItems",
    section: "persistence",
    values: [],
    read: (row) => {
      const details = s(row.Details);
      return { section: "persistence", kind: "autorun", identity: `${s(row.Name)} (${s(row.OSPath)})${quote(details)}`, exe: commandExecutable(details) ?? s(row.OSPath), command: details };
    },
  },
  {
    result: "Windows.Forensics.Prefetch",
    section: "execution",
    values: [],
    read: (row) => {
      const path = s(row.ExecutableDosPath) ?? s(row.Binary);
      return { section: "execution", kind: "executed program", identity: `${s(row.Executable)} ran ${s(row.RunCount) ?? "?"} times (${path ?? s(row.PrefetchFileName)})`, exe: path, created: when(row.CreationTime, "first run (prefetch created)") };
    },
  },
  {
    result: "Windows.System.DNSCache",
    section: "dns",
    values: [],
    read: (row) => ({ section: "dns", kind: "DNS cache entry", identity: `${s(row.Name)} ${s(row.RecordType) ?? ""} ${s(row.Record) ?? s(row.QueryStatus) ?? ""}`.trim(), dns: { name: s(row.Name) ?? "", record: s(row.Record) } }),
  },
  {
    result: "Windows.System.Powershell.PSReadline",
    section: "shell_history",
    values: [],
    read: (row) => ({ section: "shell_history", kind: "PowerShell history", identity: `${s(row.Username) ?? "?"} line ${s(row.LineNum)}: ${s(row.Line)}`, command: s(row.Line) }),
  },
  {
    result: "Windows.EventLogs.RDPAuth",
    section: "logons",
    values: [],
    read: (row) => {
      const id = n(row.EventID);
      const type = n(row.LogonType);
      const user = `${s(row.DomainName) ?? ""}\\${s(row.UserName) ?? "?"}`;
      const ip = s(row.SourceIP);
      return {
        section: "logons",
        kind: "logon",
        identity: `${s(row.Description) ?? `event ${id}`} ${user} from ${ip ?? "?"}`,
        login: { user: s(row.UserName) ?? "", ip, rdp: type === RDP_TYPE, success: id === LOGON_OK, logonType: id === LOGON_FAILED ? "failed" : type !== undefined ? String(type) : undefined },
        created: when(row.EventTime, "logon"),
      };
    },
  },
  {
    result: "Windows.Sys.Users",
    section: "users",
    values: [],
    read: (row) => ({ section: "users", kind: "profile", identity: `${s(row.Name) ?? s(row.UUID)} (${s(row.Directory) ?? "?"})`, profile: s(row.Name) }),
  },
  {
    result: "Linux.Sys.Users",
    section: "users",
    values: [],
    read: (row) => ({ section: "users", kind: "account", identity: `${s(row.User)} uid ${s(row.Uid)} (${s(row.Homedir)}, ${s(row.Shell)})`, account: { user: s(row.User) ?? "", uid: s(row.Uid) ?? "" } }),
  },
  {
    result: "MacOS.System.Users",
    section: "users",
    values: [],
    read: (row) => ({ section: "users", kind: "account", identity: `${s(row.Name)} uid ${s(row.Uid)} (${s(row.HomeDir)}, ${s(row.UserShell)})`, account: { user: s(row.Name) ?? "", uid: s(row.Uid) ?? "" } }),
  },
  {
    result: "Linux.Sys.LastUserLogin",
    section: "logons",
    values: [],
    read: (row) => {
      const ip = s(row.login_IpAddr);
      return {
        section: "logons",
        kind: "login",
        identity: `${s(row.login_User)} on ${s(row.login_Terminal)} from ${s(row.login_Host) || ip || "console"}`,
        login: { user: s(row.login_User) ?? "", ip, rdp: false, success: true },
        created: when(row.login_time, "login"),
      };
    },
  },
  { result: "Linux.Sys.Services", section: "services", values: [], read: (row) => ({ section: "services", kind: "unit", identity: `${s(row.Unit)} (${s(row.Active)}/${s(row.Sub)}) ${s(row.Description) ?? ""}`.trim() }) },
  {
    result: "Linux.Sys.Crontab/CronTabs",
    section: "scheduled",
    values: [],
    read: (row) => {
      const command = crontabCommand(row);
      const schedule = s(row.Event) ?? [row.Minute, row.Hour, row.DayOfMonth, row.Month, row.DayOfWeek].map((x) => s(x) ?? "*").join(" ");
      return { section: "scheduled", kind: "cron job", identity: `${s(row.Path)}: ${schedule} ${command ?? ""}`.trim(), command };
    },
  },
  {
    result: "Linux.Sys.Crontab/CronScripts",
    section: "scheduled",
    values: [],
    read: (row) => ({ section: "scheduled", kind: "cron script", identity: s(row.OSPath) ?? "?", exe: s(row.OSPath), command: s(row.Content), created: when(row.Mtime, "script written") }),
  },
  {
    result: "Linux.Ssh.AuthorizedKeys",
    section: "persistence",
    values: [],
    read: (row) => {
      const opts = Array.isArray(row.options) ? row.options.join(",") : s(row.options);
      return { section: "persistence", kind: "SSH key", identity: `${s(row.OSPath)}: ${s(row.keytype)} ${s(row.comment) || "(no comment)"}${opts ? ` [${opts}]` : ""}`, command: opts };
    },
  },
  {
    result: "Linux.Sys.BashHistory",
    section: "shell_history",
    values: [],
    read: (row) => ({ section: "shell_history", kind: "shell history", identity: `${s(row.OSPath)}: ${s(row.Line)}`, command: s(row.Line) }),
  },
  {
    result: "MacOS.Detection.Autoruns/LaunchAgentsDaemons",
    section: "persistence",
    values: [],
    read: (row) => {
      const path = s(row.OSPath) ?? "";
      const cfg = obj(row.LaunchdConfig);
      const args = Array.isArray(cfg?.ProgramArguments) ? (cfg.ProgramArguments as unknown[]).map(String).join(" ") : s(row.Program);
      return { section: "persistence", kind: "launchd job", identity: `${path}${quote(args)}`, exe: s(row.Program), command: args, created: when(row.Mtime, "plist written"), label: path.split("/").pop()?.replace(/\.plist$/, "") };
    },
  },
  {
    result: "MacOS.System.QuarantineEvents",
    section: "downloads",
    values: [],
    read: (row) => ({ section: "downloads", kind: "download", identity: `${s(row.User)} via ${s(row.AgentName) ?? "?"}: ${s(row.DownloadURL) ?? "?"}`, download: { url: s(row.DownloadURL) ?? "" }, created: when(row.DownloadTime, "downloaded") }),
  },
];

const byResult = new Map(READERS.map((r) => [r.result, r]));
export function readerFor(result: string): Reader | undefined {
  return byResult.get(result);
}
