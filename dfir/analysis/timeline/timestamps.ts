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
/** The non-empty parts joined by spaces (a loop: map + filter + join made two arrays per event message). */
const join = (...parts: unknown[]) => {
  let out = "";
  for (const p of parts) {
    const v = s(p);
    if (v) out = out ? `${out} ${v}` : v;
  }
  return out;
};

const MACB = (prefix = "") => [
  { field: `${prefix}Created0x10`, desc: "File created ($SI)" },
  { field: `${prefix}LastModified0x10`, desc: "File modified ($SI)" },
  { field: `${prefix}LastAccess0x10`, desc: "File accessed ($SI)" },
  { field: `${prefix}LastRecordChange0x10`, desc: "MFT entry changed ($SI)" },
  { field: `${prefix}Created0x30`, desc: "File created ($FN)" },
  { field: `${prefix}LastModified0x30`, desc: "File modified ($FN)" },
];
const procMsg = (r: Record<string, unknown>) => join(r.Name ?? r.Exe, `(pid ${s(r.Pid)}${r.Ppid !== undefined ? `, ppid ${s(r.Ppid)}` : ""})`, r.CommandLine ?? r.Exe, r.Username ? `user ${s(r.Username)}` : "");
const netstat =
  (result: string, status: string, who: (r: Record<string, unknown>) => unknown) =>
  (r: Record<string, unknown>): string => {
    const end = (side: "local" | "remote") => {
      const e = socketEnd(result, r, side);
      return `${e.ip ?? ""}:${e.port ?? ""}`;
    };
    return join(who(r), r[status], end("local"), "→", end("remote"));
  };
const linuxNetstat = (result: string) => netstat(result, "State", (r) => (r.ProcessInfo && typeof r.ProcessInfo === "object" ? s((r.ProcessInfo as Record<string, unknown>).Command).trim() : ""));
const evtx = (r: Record<string, unknown>) => join(r.Channel, `EventID ${s(r.EventID)}`, r.Message ?? r.EventData);
const chrome = (r: Record<string, unknown>) => join(r.visited_url, r.title);
/** Velociraptor emits no time column for these: their rows are not placed on the timeline by a guessed column. */
const UNTIMED: TimeField[] = [];

/**
 * Keyed by artifact name or Artifact/Source; every field and message column is one the artifact really emits at
 * Velociraptor v0.77.2 (dfir/analysis/columns — a test checks each against the catalogue).
 */
export const KNOWN: Record<string, ArtifactTimes> = {
  "Windows.System.Pslist": { fields: [{ field: "CreateTime", desc: "Process started" }], message: procMsg },
  // CreateTime is text in the endpoint's local time with its offset (RFC 3339), converted like any other.
  "Linux.Sys.Pslist": { fields: [{ field: "CreateTime", desc: "Process started" }], message: procMsg },
  "Generic.System.Pstree": { fields: [{ field: "StartTime", desc: "Process started" }], message: procMsg },
  "Windows.Network.Netstat": { fields: [{ field: "Timestamp", desc: "Socket opened" }], message: netstat("Windows.Network.Netstat", "Status", (r) => r.Name ?? r.Pid) },
  "Windows.Network.NetstatEnriched/Netstat": { fields: [{ field: "Timestamp", desc: "Socket opened" }], message: netstat("Windows.Network.NetstatEnriched/Netstat", "Status", (r) => r.Name ?? r.Pid) },
  "MacOS.Network.Netstat": { fields: UNTIMED, message: netstat("MacOS.Network.Netstat", "Status", (r) => r.Pid) },
  "Linux.Network.Netstat/TCP4": { fields: UNTIMED, message: linuxNetstat("Linux.Network.Netstat/TCP4") },
  "Linux.Network.Netstat/TCP6": { fields: UNTIMED, message: linuxNetstat("Linux.Network.Netstat/TCP6") },
  "Windows.NTFS.MFT": { fields: MACB(), message: (r) => join(r.OSPath ?? r.FileName, r.FileSize !== undefined ? `(${s(r.FileSize)} bytes)` : "") },
  "Windows.Forensics.Usn": { fields: [{ field: "Timestamp", desc: "USN journal change" }], message: (r) => join(r.OSPath ?? r.Filename, r.Reason) },
  "Windows.Forensics.Prefetch": {
    fields: [{ field: "LastRunTimes", desc: "Program executed (prefetch)" }, { field: "CreationTime", desc: "Prefetch created" }],
    message: (r) => join(r.ExecutableDosPath ?? r.Executable, r.RunCount !== undefined ? `run ${s(r.RunCount)} times` : "", r.PrefetchFileName),
  },
  "Windows.Timeline.Prefetch": { fields: [{ field: "event_time", desc: "Program executed (prefetch)" }], message: (r) => join(r.message ?? r.file_name) },
  "Windows.Timeline.MFT": { fields: [{ field: "event_time", desc: "File system change" }], message: (r) => join(r.message, r.path) },
  "Windows.Detection.Amcache": { fields: [{ field: "KeyMTime", desc: "Amcache entry written" }], message: (r) => join(r.EntryPath ?? r.EntryName, r.SHA1 ? `sha1 ${s(r.SHA1)}` : "") },
  "Windows.EventLogs.EvtxHunter": { fields: [{ field: "EventTime", desc: "Event logged" }], message: evtx },
  "Windows.EventLogs.Evtx": { fields: [{ field: "TimeCreated", desc: "Event logged" }], message: evtx },
  "Windows.EventLogs.RDPAuth": { fields: [{ field: "EventTime", desc: "Logon event" }], message: (r) => join(r.UserName, r.Description, r.SourceIP) },
  "Windows.Events.ProcessCreation": { fields: [{ field: "Timestamp", desc: "Process started" }], message: (r) => join(r.Name, `(pid ${s(r.PID)}, ppid ${s(r.PPID)})`, r.CommandLine) },
  "Windows.System.Services": { fields: [{ field: "Created", desc: "Service key written" }], message: (r) => join("service", r.Name, r.PathName, r.StartMode) },
  "Windows.System.TaskScheduler/Analysis": {
    fields: [{ field: "RegistrationTime", desc: "Scheduled task registered" }, { field: "Mtime", desc: "Scheduled task file changed" }],
    message: (r) => join("task", r.TaskName ?? r.OSPath, r.Command, r.Arguments),
  },
  "Windows.Sys.Users": { fields: [{ field: "Mtime", desc: "Profile key written" }], message: (r) => join("user", r.Name, r.UUID ?? r.Uid) },
  "Windows.Registry.UserAssist": { fields: [{ field: "LastExecution", desc: "Program executed (UserAssist)" }], message: (r) => join(r.Name, r.User) },
  "Windows.Forensics.Shellbags": { fields: [{ field: "ModTime", desc: "Folder accessed (shellbag)" }], message: (r) => join(r.FullPath) },
  "Windows.Forensics.Lnk": {
    fields: [{ field: "SourceFile.Mtime", desc: "Shortcut modified" }],
    message: (r) => join((r.SourceFile as Record<string, unknown> | undefined)?.OSPath, (r.LinkTarget as Record<string, unknown> | undefined)?.LinkTarget),
  },
  "Windows.Applications.Chrome.History": { fields: [{ field: "visit_time", desc: "Page visited" }], message: chrome },
  "Windows.Applications.Edge.History": { fields: [{ field: "visit_time", desc: "Page visited" }], message: chrome },
  "MacOS.Applications.Chrome.History": { fields: [{ field: "last_visit_time", desc: "Page last visited" }], message: chrome },
  "Linux.Sys.LastUserLogin": { fields: [{ field: "login_time", desc: "Logon" }, { field: "logout_time", desc: "Logoff" }], message: (r) => join(r.login_User, "from", r.login_Host || r.login_IpAddr, r.login_Terminal) },
  "MacOS.System.QuarantineEvents": { fields: [{ field: "DownloadTime", desc: "File downloaded" }], message: (r) => join(r.User, r.DownloadURL, r.AgentName ? `by ${s(r.AgentName)}` : "") },
  "MacOS.Detection.InstallHistory/Install History": { fields: [{ field: "InstallDate", desc: "Software installed" }], message: (r) => join(r.DisplayName, r.DisplayVersion, r.ProcessName ? `via ${s(r.ProcessName)}` : "") },
  "MacOS.Detection.Autoruns/LaunchAgentsDaemons": { fields: [{ field: "Mtime", desc: "Launchd plist written" }], message: (r) => join("launchd", r.OSPath, r.Program) },
  "Linux.Sys.Users": { fields: UNTIMED, message: (r) => join("user", r.User, r.Uid) },
  "Linux.Sys.Crontab/CronTabs": { fields: UNTIMED, message: (r) => join("cron", r.User, r.Command, r.Path) },
  "Linux.Sys.Crontab/CronScripts": { fields: [{ field: "Mtime", desc: "Cron script written" }], message: (r) => join("cron script", r.OSPath) },
  "Linux.Sys.BashHistory": { fields: UNTIMED, message: (r) => join(r.OSPath, r.Line) },
  "Linux.Sys.Services": { fields: UNTIMED, message: (r) => join("unit", r.Unit, r.Active, r.Description) },
  "Linux.Forensics.Journal": {
    fields: [{ field: "System.Timestamp", desc: "Journal entry" }],
    message: (r) => {
      const e = (r.EventData ?? {}) as Record<string, unknown>;
      return join(e.SYSLOG_IDENTIFIER, e.MESSAGE);
    },
  },
  "Linux.Ssh.AuthorizedKeys": { fields: UNTIMED, message: (r) => join(r.OSPath, r.keytype, r.comment) },
};

const TIME_NAME = /time|date|_at$|^ts$|timestamp|mtime|atime|ctime|btime|seen|login|logout|created|modified|accessed|written/i;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;
const MIN_US = Date.UTC(1995, 0, 1) * 1000;
const MAX_US = Date.UTC(2100, 0, 1) * 1000;

/** µs since the epoch from RFC 3339 text, epoch s/ms/µs/ns numbers or Windows FILETIME; undefined when not a time. */
export function toMicros(v: unknown): number | undefined {
  // The length test first: RFC 3339 text (20 characters or more) never runs the expression.
  if (typeof v === "number" || (typeof v === "string" && v.length >= 9 && v.length <= 19 && /^\d{9,19}$/.test(v))) {
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
  const fast = rfc3339Fast(v);
  if (fast !== SLOW) return fast;
  const m = RFC3339.exec(v);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8] ? (m[8] === "Z" ? "Z" : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]) : "Z"}`);
  if (Number.isNaN(ms)) return undefined;
  const us = ms * 1000 + Math.floor(Number((m[7] ?? "").padEnd(6, "0").slice(0, 6)));
  return us >= MIN_US && us < MAX_US ? us : undefined;
}

const SLOW = -1;
const DATE_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9];
/** Midnight UTC of "YYYY-MM-DD" in ms, as Date.parse gives it (NaN for a date it refuses), by YYYYMMDD; bounded. */
const days = new Map<number, number>();
const dig = (v: string, i: number) => v.charCodeAt(i) - 48;
const two = (v: string, i: number) => {
  const a = dig(v, i);
  const b = dig(v, i + 1);
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
};

/**
 * The RFC 3339 branch of toMicros without the regular expression and a Date.parse per value (a tenth of a
 * timeline build): the date is parsed once per day by Date.parse and cached, the time of day and offset are added
 * here. Only the forms whose result is certainly the slow path's (hours 0–23, minutes and seconds 0–59, offsets of
 * at most 23:59) are taken; anything else returns SLOW and goes the regular expression and Date.parse way.
 */
function rfc3339Fast(v: string): number | undefined {
  const n = v.length;
  if (v.charCodeAt(4) !== 45 || v.charCodeAt(7) !== 45 || v.charCodeAt(13) !== 58 || v.charCodeAt(16) !== 58) return SLOW;
  const sep = v.charCodeAt(10);
  if (sep !== 84 && sep !== 32) return SLOW; // "T" or " "
  for (const i of DATE_DIGITS) if (dig(v, i) < 0 || dig(v, i) > 9) return SLOW;
  const h = two(v, 11);
  const mi = two(v, 14);
  const se = two(v, 17);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return SLOW;
  let i = 19;
  let frac = 0;
  if (v.charCodeAt(i) === 46) {
    // "." then 1–9 digits; the first six are the µs.
    const from = ++i;
    while (i < n && dig(v, i) >= 0 && dig(v, i) <= 9) i++;
    const len = i - from;
    if (len < 1 || len > 9) return SLOW;
    for (let k = 0; k < 6; k++) frac = frac * 10 + (k < len ? dig(v, from + k) : 0);
  }
  let offsetMin = 0;
  if (i < n) {
    const c = v.charCodeAt(i);
    if (c === 90 && i + 1 === n) i++;
    else if (c === 43 || c === 45) {
      const oh = two(v, i + 1);
      const colon = v.charCodeAt(i + 3) === 58 ? 1 : 0;
      const om = two(v, i + 3 + colon);
      if (oh < 0 || oh > 23 || om < 0 || om > 59 || i + 5 + colon !== n) return SLOW;
      offsetMin = (c === 43 ? 1 : -1) * (oh * 60 + om);
      i = n;
    } else return SLOW;
  }
  if (i !== n) return SLOW;
  // The date's digits (checked above) as a number key: no string per value.
  const date = (dig(v, 0) * 1000 + dig(v, 1) * 100 + dig(v, 2) * 10 + dig(v, 3)) * 10_000 + two(v, 5) * 100 + two(v, 8);
  let day = days.get(date);
  if (day === undefined) {
    if (days.size > 4096) days.clear();
    day = Date.parse(`${v.slice(0, 10)}T00:00:00Z`);
    days.set(date, day);
  }
  if (Number.isNaN(day)) return undefined;
  const ms = day + ((h * 60 + mi) * 60 + se) * 1000 - offsetMin * 60_000;
  const us = ms * 1000 + frac;
  return us >= MIN_US && us < MAX_US ? us : undefined;
}

function getPath(row: Record<string, unknown>, field: string): unknown {
  // A value other than undefined means the key is there: one property read instead of `in` and a read (each a trap
  // on RawRow's view).
  const direct = row[field];
  if (direct !== undefined || field in row) return direct;
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
    // Velociraptor emits no time for these rows; guessing one from another column would misplace them.
    if (!known.fields.length && !override?.length) return [];
    for (const f of known.fields) {
      const v = getPath(row, f.field);
      if (Array.isArray(v))
        for (const x of v) {
          const us = toMicros(x);
          if (us !== undefined) out.push({ us, field: f.field, desc: f.desc });
        }
      else {
        const us = toMicros(v);
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
