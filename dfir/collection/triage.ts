/**
 * What makes a triage row worth looking at first. Rules are deliberately simple and explainable — each notable row
 * carries the reasons — so an analyst can trust or dismiss them quickly; everything else is still in the flow.
 */
import { isPublicIp } from "../analysis/iocs/extract.js";
import { socketEnd } from "../analysis/fields.js";
import { toMicros } from "../analysis/timeline/timestamps.js";

export type Section = "processes" | "network" | "users" | "persistence" | "recent_files" | "dns" | "services" | "scheduled" | "shell_history" | "other";

const SECTION_OF: [RegExp, Section][] = [
  [/Pslist|Pstree/, "processes"],
  [/Netstat/, "network"],
  [/Users|LastUserLogin/, "users"],
  [/StartupItems|AuthorizedKeys|LaunchAgents|PermanentWMI/, "persistence"],
  [/Prefetch|Lnk|RecentApps/, "recent_files"],
  [/DNSCache/, "dns"],
  [/Services/, "services"],
  [/TaskScheduler|Crontab|SystemdTimer/, "scheduled"],
  [/BashHistory|PSReadline/, "shell_history"],
];

export function sectionOf(artifact: string): Section {
  return SECTION_OF.find(([re]) => re.test(artifact))?.[1] ?? "other";
}

const s = (v: unknown) => (typeof v === "string" ? v : v === undefined || v === null ? "" : JSON.stringify(v));
const SUSPICIOUS_DIR = /\\(temp|tmp|appdata\\local\\temp|downloads|users\\public|programdata|perflogs)\\|^\/(tmp|dev\/shm|var\/tmp)\/|\/\.[^/]+\//i;
const LOLBIN_ARGS = /-enc(odedcommand)?\s|frombase64string|iex\s*\(|downloadstring|invoke-webrequest|bitsadmin|certutil\s+-urlcache|mshta\s+http|regsvr32\s+\/s\s+\/i:http|rundll32\s+.*javascript:/i;
const SHELL_BAD = /(curl|wget)\s[^|]*\|\s*(ba)?sh|base64\s+-d|\/dev\/tcp\/|nc\s+-[a-z]*e\s|chmod\s+\+x\s+\/(tmp|dev\/shm)|python[23]?\s+-c\s+['"]import\s+(socket|pty)|history\s+-c|unset\s+HISTFILE|rm\s+-rf\s+\/var\/log/i;
const SYSTEM_PROC = /^(svchost|lsass|csrss|services|winlogon|smss|wininit|explorer)\.exe$/i;
const COMMON_LISTEN = new Set([22, 53, 80, 123, 135, 137, 138, 139, 389, 443, 445, 636, 3268, 3389, 5985, 5986, 8000, 8001, 8889]);

const RECENT_DAYS = Number(process.env.MEGARAPTOR_TRIAGE_RECENT_DAYS ?? 14);
const WHEN: Partial<Record<Section, string[]>> = { services: ["Created"], scheduled: ["Mtime", "Date"], persistence: ["Mtime"], users: ["Mtime"] };

/** "created 2026-11-20 (5 days ago)" when the row's own time is within the recent window before `now`. */
function recent(section: Section, row: Record<string, unknown>, now: number): string | undefined {
  for (const f of WHEN[section] ?? []) {
    const us = toMicros(row[f]);
    if (us === undefined) continue;
    const days = (now - us / 1000) / 86_400_000;
    if (days >= -1 && days <= RECENT_DAYS) return `${section === "services" ? "created" : "changed"} ${new Date(us / 1000).toISOString().slice(0, 10)} (${Math.max(0, Math.round(days))} days ago)`;
  }
  return undefined;
}

/** The reasons a row is notable (empty when it is not); `now` dates "recently created" (tests pin it). */
export function notableReasons(section: Section, row: Record<string, unknown>, now = Date.now()): string[] {
  const r: string[] = [];
  const exe = s(row.Exe ?? row.PathName ?? row.ImagePath ?? row.Executable ?? row.OSPath ?? row.Command);
  const cmd = s(row.CommandLine ?? row.Command ?? row.Arguments ?? row.Line);
  switch (section) {
    case "processes": {
      if (SUSPICIOUS_DIR.test(exe)) r.push(`runs from a user-writable/temp path (${exe})`);
      if (LOLBIN_ARGS.test(cmd)) r.push("command line uses download/encoded-execution tricks");
      const auth = row.Authenticode as { Trusted?: string } | undefined;
      if (auth && auth.Trusted && auth.Trusted !== "trusted") r.push(`binary not signed by a trusted publisher (${auth.Trusted})`);
      if (SYSTEM_PROC.test(s(row.Name)) && exe && !/\\windows\\(system32|syswow64|explorer\.exe)/i.test(exe)) r.push(`system process name outside System32 (${exe})`);
      if (/\(deleted\)$/.test(exe)) r.push("binary deleted from disk while running");
      break;
    }
    case "network": {
      const status = s(row.Status).toUpperCase();
      const lport = socketEnd(row, "Laddr").port;
      const rip = socketEnd(row, "Raddr").ip;
      if (status === "LISTEN" && lport !== undefined && !COMMON_LISTEN.has(lport)) r.push(`listening on uncommon port ${lport}`);
      if (status === "ESTABLISHED" && rip && isPublicIp(rip)) r.push(`connected to public address ${rip}`);
      break;
    }
    case "services":
    case "persistence":
    case "scheduled": {
      const target = `${exe} ${cmd}`;
      if (SUSPICIOUS_DIR.test(target)) r.push("points into a temp or user-writable path");
      if (LOLBIN_ARGS.test(target) || SHELL_BAD.test(target)) r.push("launches an encoded/downloaded payload");
      if (section === "services" && /^"?[a-z]:\\users\\/i.test(exe)) r.push("service binary under a user profile");
      break;
    }
    case "shell_history":
      if (SHELL_BAD.test(cmd)) r.push("command pattern typical of intrusion (download-and-run, reverse shell, log wiping)");
      break;
    case "users":
      if (String(row.Uid) === "0" && s(row.User ?? row.Name) !== "root") r.push("uid 0 account other than root");
      break;
    case "recent_files":
      if (SUSPICIOUS_DIR.test(exe) || /\\(temp|downloads)\\/i.test(s(row.PrefetchFileName))) r.push("executed from a temp/download path");
      break;
    default:
      break;
  }
  const fresh = recent(section, row, now);
  if (fresh) r.push(fresh);
  return r;
}
