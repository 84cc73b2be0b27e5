/**
 * Where the time is in a result row. The common Windows, Linux and macOS artifacts are known (field, what the time
 * means, how to describe the row); for anything else, columns holding RFC 3339 strings or epoch seconds/ms/µs are
 * detected. A row may carry several times (MFT MACB, prefetch run times): each becomes its own event.
 */

import { socketEnd } from "../fields.js";

export interface TimeField {
  field: string;
  /** Timesketch's timestamp_desc: what happened at this time. */
  desc: string;
}

export interface ArtifactTimes {
  fields: TimeField[];
  /** A one-line description of the row. */
  message: (row: Record<string, unknown>) => string;
}

const s = (v: unknown) => (v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
const join = (...parts: unknown[]) => parts.map(s).filter(Boolean).join(" ");

const MACB = (prefix = "") => [
  { field: `${prefix}Created0x10`, desc: "File created ($SI)" },
  { field: `${prefix}LastModified0x10`, desc: "File modified ($SI)" },
  { field: `${prefix}LastAccess0x10`, desc: "File accessed ($SI)" },
  { field: `${prefix}LastRecordChange0x10`, desc: "MFT entry changed ($SI)" },
  { field: `${prefix}Created0x30`, desc: "File created ($FN)" },
  { field: `${prefix}LastModified0x30`, desc: "File modified ($FN)" },
];
const procMsg = (r: Record<string, unknown>) => join(r.Name ?? r.Exe, `(pid ${s(r.Pid)}${r.Ppid !== undefined ? `, ppid ${s(r.Ppid)}` : ""})`, r.CommandLine ?? r.Exe, r.Username ? `user ${s(r.Username)}` : "");
const end = (r: Record<string, unknown>, side: "Laddr" | "Raddr") => {
  const e = socketEnd(r, side);
  return `${e.ip ?? ""}:${e.port ?? ""}`;
};
const netstat = (r: Record<string, unknown>) => join(r.Name ?? r.Pid, r.Status, end(r, "Laddr"), "→", end(r, "Raddr"));

/** Keyed by artifact name or Artifact/Source. */
export const KNOWN: Record<string, ArtifactTimes> = {
  "Windows.System.Pslist": { fields: [{ field: "CreateTime", desc: "Process started" }], message: procMsg },
  "Linux.Sys.Pslist": { fields: [{ field: "StartTime", desc: "Process started" }, { field: "CreateTime", desc: "Process started" }], message: procMsg },
  "Generic.System.Pstree": { fields: [{ field: "StartTime", desc: "Process started" }], message: procMsg },
  "Windows.Network.Netstat": { fields: [{ field: "Timestamp", desc: "Connection observed" }], message: netstat },
  "Linux.Network.Netstat": { fields: [{ field: "Timestamp", desc: "Connection observed" }], message: netstat },
  "Windows.Network.NetstatEnriched/Netstat": { fields: [{ field: "Timestamp", desc: "Connection observed" }], message: netstat },
  "Windows.NTFS.MFT": { fields: MACB(), message: (r) => join(r.OSPath ?? r.FullPath ?? r.FileName, r.FileSize !== undefined ? `(${s(r.FileSize)} bytes)` : "") },
  "Windows.Forensics.Usn": { fields: [{ field: "Timestamp", desc: "USN journal change" }], message: (r) => join(r.OSPath ?? r.Filename, r.Reason) },
  "Windows.Forensics.Prefetch": {
    fields: [{ field: "LastRunTimes", desc: "Program executed (prefetch)" }, { field: "CreationTime", desc: "Prefetch created" }],
    message: (r) => join(r.Executable, r.RunCount !== undefined ? `run ${s(r.RunCount)} times` : "", r.PrefetchFileName),
  },
  "Windows.Timeline.Prefetch": { fields: [{ field: "event_time", desc: "Program executed (prefetch)" }], message: (r) => join(r.message ?? r.Executable) },
  "Windows.Timeline.MFT": { fields: [{ field: "event_time", desc: "File system change" }], message: (r) => join(r.message ?? r.OSPath) },
  "Windows.Detection.Amcache": {
    fields: [{ field: "KeyMTime", desc: "Amcache entry written" }, { field: "LastModified", desc: "Amcache entry written" }, { field: "KeyLastWriteTimestamp", desc: "Amcache entry written" }],
    message: (r) => join(r.EntryPath ?? r.FullPath ?? r.EntryName ?? r.Name, r.SHA1 ?? r.HashSHA1 ? `sha1 ${s(r.SHA1 ?? r.HashSHA1)}` : ""),
  },
  "Windows.EventLogs.EvtxHunter": { fields: [{ field: "EventTime", desc: "Event logged" }], message: (r) => join(r.Channel, `EventID ${s(r.EventID)}`, r.Message ?? r.EventData) },
  "Windows.EventLogs.Evtx": { fields: [{ field: "EventTime", desc: "Event logged" }, { field: "TimeCreated", desc: "Event logged" }], message: (r) => join(r.Channel, `EventID ${s(r.EventID)}`, r.Message ?? r.EventData) },
  "Windows.EventLogs.RDPAuth": { fields: [{ field: "EventTime", desc: "Logon event" }], message: (r) => join(r.UserName, r.Description, r.SourceIP) },
  "Windows.Events.ProcessCreation": { fields: [{ field: "EventTime", desc: "Process started" }, { field: "CreateTime", desc: "Process started" }], message: procMsg },
  "Windows.System.Services": { fields: [{ field: "Created", desc: "Service key written" }, { field: "KeyLastWriteTimestamp", desc: "Service key written" }], message: (r) => join("service", r.Name, r.PathName ?? r.ImagePath, r.StartMode) },
  "Windows.System.TaskScheduler": { fields: [{ field: "Mtime", desc: "Scheduled task file changed" }, { field: "Date", desc: "Scheduled task registered" }], message: (r) => join("task", r.OSPath ?? r.Name, r.Command, r.Arguments) },
  "Windows.Sys.Users": { fields: [{ field: "Mtime", desc: "Profile changed" }, { field: "LastLogin", desc: "Last logon" }], message: (r) => join("user", r.Name, r.UUID ?? r.Uid) },
  "Windows.Registry.UserAssist": { fields: [{ field: "LastExecution", desc: "Program executed (UserAssist)" }], message: (r) => join(r.Name, r.User) },
  "Windows.Forensics.Shellbags": { fields: [{ field: "ModTime", desc: "Folder accessed (shellbag)" }], message: (r) => join(r.Description ?? r.Path) },
  "Windows.Forensics.Lnk": { fields: [{ field: "SourceFile.Mtime", desc: "Shortcut modified" }], message: (r) => join(r.SourceFile, r.LinkTarget) },
  "Windows.Applications.Chrome.History": { fields: [{ field: "visit_time", desc: "Page visited" }, { field: "last_visit_time", desc: "Page visited" }], message: (r) => join(r.url, r.title) },
  "Windows.Applications.Edge.History": { fields: [{ field: "visit_time", desc: "Page visited" }], message: (r) => join(r.url, r.title) },
  "Generic.Forensic.SQLiteHunter": { fields: [{ field: "Timestamp", desc: "Browser/app record" }], message: (r) => join(r.URL ?? r.Url, r.Title) },
  "Linux.Sys.LastUserLogin": { fields: [{ field: "login_time", desc: "Logon" }, { field: "logout_time", desc: "Logoff" }], message: (r) => join(r.User, "from", r.SourceIP ?? r.SourceHost, r.Terminal) },
  "MacOS.System.QuarantineEvents": { fields: [{ field: "DownloadTime", desc: "File downloaded" }], message: (r) => join(r.User, r.DownloadURL, r.AgentName ? `by ${s(r.AgentName)}` : "") },
  "MacOS.Detection.InstallHistory": { fields: [{ field: "InstallDate", desc: "Software installed" }], message: (r) => join(r.DisplayName, r.DisplayVersion, r.ProcessName ? `via ${s(r.ProcessName)}` : "") },
  "Linux.Sys.Users": { fields: [{ field: "Mtime", desc: "Account changed" }], message: (r) => join("user", r.User ?? r.Name, r.Uid) },
  "Linux.Sys.Crontab": { fields: [{ field: "Mtime", desc: "Crontab changed" }], message: (r) => join("cron", r.User, r.Command, r.Path ?? r.OSPath) },
  "Linux.Sys.BashHistory": { fields: [{ field: "Time", desc: "Shell command" }, { field: "Mtime", desc: "Shell history written" }], message: (r) => join(r.User, r.Line ?? r.Command) },
  "Linux.Sys.Services": { fields: [{ field: "Mtime", desc: "Unit file changed" }], message: (r) => join("unit", r.Name ?? r.Unit, r.ExecStart) },
  "Linux.Forensics.Journal": { fields: [{ field: "Timestamp", desc: "Journal entry" }], message: (r) => join(r.Unit ?? r.SYSLOG_IDENTIFIER, r.Message ?? r.MESSAGE) },
  "Linux.Ssh.AuthorizedKeys": { fields: [{ field: "Mtime", desc: "authorized_keys changed" }], message: (r) => join(r.User, r.Key?.toString().slice(0, 40)) },
};

const TIME_NAME = /time|date|_at$|^ts$|timestamp|mtime|atime|ctime|btime|seen|login|logout|created|modified|accessed|written/i;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;
const MIN_US = Date.UTC(1995, 0, 1) * 1000;
const MAX_US = Date.UTC(2100, 0, 1) * 1000;

/** µs since the epoch from RFC 3339 text, epoch s/ms/µs/ns numbers or Windows FILETIME; undefined when not a time. */
export function toMicros(v: unknown): number | undefined {
  if (typeof v === "number" || (typeof v === "string" && /^\d{9,19}$/.test(v))) {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) return undefined;
    let us: number;
    if (n >= 1.16e17 && n < 1.6e17) us = n / 10 - 11_644_473_600_000_000; // FILETIME: 100 ns since 1601
    else if (n > 1e17) us = n / 1000; // ns
    else if (n > 1e14) us = n; // µs
    else if (n > 1e11) us = n * 1000; // ms
    else us = n * 1e6; // s
    us = Math.round(us);
    return us >= MIN_US && us < MAX_US ? us : undefined;
  }
  if (typeof v !== "string" || v.length < 19 || v.length > 40) return undefined;
  const m = RFC3339.exec(v);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8] ? (m[8] === "Z" ? "Z" : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]) : "Z"}`);
  if (Number.isNaN(ms)) return undefined;
  const us = ms * 1000 + Math.floor(Number((m[7] ?? "").padEnd(6, "0").slice(0, 6)));
  return us >= MIN_US && us < MAX_US ? us : undefined;
}

function getPath(row: Record<string, unknown>, field: string): unknown {
  if (field in row) return row[field];
  let v: unknown = row;
  for (const p of field.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

/** The first column that holds a time (time-named columns preferred). */
export function detectTimestamp(row: Record<string, unknown>): { field: string; us: number } | undefined {
  let fallback: { field: string; us: number } | undefined;
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith("_") && k !== "_ts") continue;
    const us = toMicros(v);
    if (us === undefined) continue;
    if (TIME_NAME.test(k)) return { field: k, us };
    // Bare numbers only count in time-named columns (PIDs and sizes are numbers too).
    if (!fallback && typeof v === "string") fallback = { field: k, us };
  }
  return fallback;
}

/** The artifact's known times, by Artifact/Source then Artifact. */
export function knownTimes(artifact: string): ArtifactTimes | undefined {
  return KNOWN[artifact] ?? KNOWN[artifact.split("/")[0]!];
}

export interface RowTime {
  us: number;
  field: string;
  desc: string;
}

/** Every (time, field, description) in a row; arrays of times (prefetch LastRunTimes) give one each. */
export function rowTimes(row: Record<string, unknown>, artifact: string, override?: string[]): RowTime[] {
  const known = override?.length ? { fields: override.map((f) => ({ field: f, desc: f })) } : knownTimes(artifact);
  const out: RowTime[] = [];
  if (known) {
    for (const f of known.fields) {
      const v = getPath(row, f.field);
      for (const x of Array.isArray(v) ? v : [v]) {
        const us = toMicros(x);
        if (us !== undefined) out.push({ us, field: f.field, desc: f.desc });
      }
    }
    if (out.length || override?.length) return out;
  }
  const d = detectTimestamp(row);
  return d ? [{ us: d.us, field: d.field, desc: d.field }] : [];
}

/** A one-line message for a row: the artifact's own format, or its first few short text columns. */
export function rowMessage(row: Record<string, unknown>, artifact: string): string {
  const known = knownTimes(artifact);
  if (known) {
    const m = known.message(row);
    if (m.trim()) return m;
  }
  return Object.entries(row)
    .filter(([k, v]) => !k.startsWith("_") && (typeof v === "string" || typeof v === "number") && String(v).length < 200 && toMicros(v) === undefined)
    .slice(0, 5)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
}
