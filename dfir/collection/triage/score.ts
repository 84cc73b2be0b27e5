/**
 * Triage that ranks like an analyst: every row of one host's triage collection gets a score from weighted,
 * explained signals — unsigned or untrusted binaries, temp and user-writable folders, recent creation, odd parents,
 * encoded or downloaded commands, connections to public addresses, logins from them — and the rows scoring at least
 * NOTABLE come first, across sections, highest first. Evidence corroborates across artifacts: a connection inherits
 * its process's signals, a prefetch or Run entry borrows the signature Pslist saw for the same file, a DNS entry
 * resolving to an address a suspicious process talks to is raised. Validly signed software in its publisher's own
 * folder is not held against its folder, and the Velociraptor client's own activity is set aside.
 */
import { numericSetting } from "../../../core/settings.js";
import { isPublicIp } from "../../analysis/iocs/extract.js";
import { baseName, classifyPath, inPublisherFolder, isSystemOrProgramFolder, normaliseWindowsPath, pathsIn } from "./paths.js";
import { ABUSED_SERVICES, DOCUMENT_APPS, PROXY_EXECUTORS, SERVER_APPS, SHELLS, SYSTEM_NAMES, commandFindings, publicIpsIn, type Finding } from "./patterns.js";
import { SECTIONS, readerFor, type Row, type Section, type Signature, type Subject } from "./subjects.js";

/** Rows scoring this much or more are notable. */
export const NOTABLE = 3;

const COMMON_LISTEN = new Set([22, 25, 53, 80, 88, 111, 123, 135, 137, 138, 139, 389, 443, 445, 464, 587, 631, 636, 993, 995, 1433, 3268, 3269, 3306, 3389, 5353, 5355, 5432, 5985, 5986, 8000, 8080, 8443, 8889]);
/** Ports that should never be reached from the internet: RDP, SMB, RPC, WinRM. */
const REMOTE_ADMIN = new Map([
  [3389, "RDP"],
  [445, "SMB"],
  [135, "RPC"],
  [5985, "WinRM"],
  [5986, "WinRM"],
]);

export interface HostResults {
  hostname: string;
  client_id?: string;
  /** Result name (`Artifact` or `Artifact/Source`) → rows. */
  results: Record<string, Row[]>;
}

export interface Scored {
  hostname: string;
  client_id?: string;
  section: Section;
  artifact: string;
  kind: string;
  identity: string;
  score: number;
  reasons: string[];
  row: Row;
  /** Index of the row in its result, to find it again. */
  index: number;
}

export interface HostTriage {
  hostname: string;
  client_id?: string;
  /** Notable rows of every section, highest score first. */
  notable: Scored[];
  /** Every scored row (notable or not), in the same order. */
  all: Scored[];
  sections: { section: Section; artifact: string; rows: number; notable: number }[];
  /** Results the triage has no reader for (their rows are not scored). */
  unread: string[];
}

interface Item {
  s: Subject;
  artifact: string;
  row: Row;
  index: number;
  findings: Finding[];
  /** Set aside: the Velociraptor client's own work. */
  own?: string;
}

const add = (it: Item, weight: number, reason: string) => it.findings.push({ weight, reason });
const total = (it: Item) => (it.own ? 0 : it.findings.reduce((a, f) => a + f.weight, 0));
const lower = (p: string | undefined) => (p ? (/^[a-z]:\\|^\\/i.test(p) ? normaliseWindowsPath(p) : p) : "");
const days = (now: number, us: number) => (now - us / 1000) / 86_400_000;

/** Points a binary's location earns, weighed against what is known of its signature. */
function locationFindings(path: string | undefined, sig: Signature | undefined, what = "runs"): Finding[] {
  if (!path || isSystemOrProgramFolder(path)) return [];
  const c = classifyPath(path);
  const where = c.temp ? "a temp folder" : c.hidden ? "a hidden folder" : c.userWritable ? "a user-writable folder" : undefined;
  if (!where) return [];
  if (sig?.trusted && inPublisherFolder(path, sig.subject)) return [];
  // Without code signing to tell them apart, home-directory binaries (tool managers, CI runners) are commonplace on
  // Linux and macOS; on Windows an AppData binary must at least be signed.
  const unixHome = !/^[a-z]:\\|^\\|^%|^\$env:/i.test(path) && c.userWritable && !c.hidden && !c.temp;
  let weight = c.temp ? 3 : unixHome ? 1 : 2;
  if (c.hidden && (c.temp || c.userWritable)) weight += 1;
  if (sig?.trusted) weight = 1;
  return [{ weight: Math.min(weight, 4), reason: `${what} from ${where} (${path})` }];
}

function signatureFindings(sig: Signature | undefined): Finding[] {
  if (!sig || sig.trusted) return [];
  return [{ weight: 2, reason: `not signed by a trusted publisher (authenticode: ${sig.status})` }];
}

function recentFinding(created: Subject["created"], now: number): Finding[] {
  if (!created) return [];
  const d = days(now, created.us);
  // "Recently" created or registered: within MEGARAPTOR_TRIAGE_RECENT_DAYS days before the collection.
  if (d < -1 || d > numericSetting("MEGARAPTOR_TRIAGE_RECENT_DAYS")) return [];
  return [{ weight: 1, reason: `${created.what} ${new Date(created.us / 1000).toISOString().slice(0, 10)} (${Math.max(0, Math.round(d))} days before collection)` }];
}

/** Scores every row of one host; `now` (ms) is the collection time that "recent" counts back from. */
export function triageHost(host: HostResults, now = Date.now()): HostTriage {
  const items: Item[] = [];
  const unread: string[] = [];
  for (const [artifact, rows] of Object.entries(host.results)) {
    const reader = readerFor(artifact);
    if (!reader) {
      unread.push(artifact);
      continue;
    }
    rows.forEach((row, index) => items.push({ s: reader.read(row), artifact, row, index, findings: [] }));
  }

  // Signatures seen anywhere (Pslist, services, tasks) vouch for the same file wherever else it appears.
  const sigByPath = new Map<string, Signature>();
  for (const it of items) if (it.s.exe && it.s.signature) sigByPath.set(lower(it.s.exe), it.s.signature);
  const sigOf = (s: Subject) => s.signature ?? (s.exe ? sigByPath.get(lower(s.exe)) : undefined);

  const procs = new Map<string, Item>();
  for (const it of items) if (it.s.kind === "process" && it.s.pid) procs.set(it.s.pid, it);
  const ancestors = (it: Item): Item[] => {
    const out: Item[] = [];
    for (let p = procs.get(it.s.ppid ?? ""); p && out.length < 16 && !out.includes(p); p = procs.get(p.s.ppid ?? "")) out.push(p);
    return out;
  };

  // 1. What each row says on its own.
  for (const it of items) {
    const s = it.s;
    const sig = sigOf(s);
    if (s.kind === "process") {
      const v = ancestors(it).find((a) => /^velociraptor/i.test(a.s.name ?? ""));
      if (v) it.own = `started by the Velociraptor client (pid ${v.s.pid}): the collection itself`;
    }
    for (const f of signatureFindings(sig)) add(it, f.weight, f.reason);
    for (const f of locationFindings(s.exe, sig, s.section === "execution" ? "executed" : "runs")) add(it, f.weight, f.reason);
    for (const f of commandFindings(s.command)) add(it, f.weight, f.reason);
    for (const f of recentFinding(s.section === "logons" || s.kind === "process" ? undefined : s.created, now)) add(it, f.weight, f.reason);
    if (s.deleted) add(it, 4, "its binary was deleted from disk while it runs");

    const name = baseName(s.exe) || (s.name ?? "").toLowerCase();
    if (s.kind === "process") {
      if (SYSTEM_NAMES.has(name) && s.exe && !/^c:\\windows\\(system32|syswow64)\\|^c:\\windows\\explorer\.exe$/.test(lower(s.exe))) add(it, 4, `Windows system process name outside System32 (${s.exe})`);
      const parent = procs.get(s.ppid ?? "");
      const pname = (parent?.s.name ?? "").toLowerCase();
      if (parent && SHELLS.has(name) && (DOCUMENT_APPS.has(pname) || SERVER_APPS.test(pname))) add(it, 3, `${name} started by ${parent.s.name} (pid ${parent.s.pid})`);
    }
    // A signed system binary that runs a payload named on its command line (rundll32 x.dll,Start).
    if (PROXY_EXECUTORS.has(name) && s.command) {
      const payload = pathsIn(s.command).find((p) => !/\.exe$/i.test(p) && (classifyPath(p).temp || classifyPath(p).userWritable));
      if (payload) add(it, 3, `${name} runs a payload from a user-writable folder (${payload})`);
    }
    // A task, service or autorun whose arguments start a binary from a temp or user-writable folder.
    if (["services", "scheduled", "persistence"].includes(s.section) && s.command) {
      const seen = new Set([lower(s.exe)]);
      for (const p of pathsIn(s.command)) {
        if (seen.has(lower(p))) continue;
        seen.add(lower(p));
        const f = locationFindings(p, sigByPath.get(lower(p)), "starts a binary")[0];
        if (f) {
          add(it, f.weight, f.reason);
          for (const g of signatureFindings(sigByPath.get(lower(p)))) add(it, g.weight, g.reason);
          break;
        }
      }
    }
    if (s.label && /^com\.apple\./i.test(s.label) && !/^\/system\//i.test(String(it.row.OSPath ?? ""))) add(it, 2, `launchd job named like Apple's (${s.label}) outside /System`);
    if (s.kind === "process" && s.exe && /com\.apple\./i.test(s.exe) && !/^\/(system|usr|library\/apple)\//i.test(s.exe)) add(it, 2, `Apple-like name outside Apple's folders (${s.exe})`);
    if (s.account && s.account.uid === "0" && s.account.user !== "root") add(it, 4, `second uid-0 account (${s.account.user})`);
    if (s.login) {
      const ip = s.login.ip ?? "";
      if (s.login.rdp && s.login.success && /^(127\.|::1$)/.test(ip)) add(it, 4, `RDP logon from loopback (${ip}): RDP tunnelled through a process on the host`);
      else if (isPublicIp(ip)) {
        if (s.login.rdp && s.login.success) add(it, 4, `RDP logon from the public address ${ip}`);
        else if (s.login.success) add(it, 2, `${s.kind} from the public address ${ip}`);
        else add(it, 1, `failed logon from the public address ${ip}`);
      }
    }
    if (s.download?.url) {
      if (/^http:\/\//i.test(s.download.url) && /\.(dmg|pkg|zip|app|exe|msi|sh)(\?|$)/i.test(s.download.url)) add(it, 2, "installer or archive downloaded over plain HTTP");
    }
    if (s.dns && ABUSED_SERVICES.test(s.dns.name)) add(it, 3, `lookup of a paste, file-drop, tunnel or dynamic-DNS service (${s.dns.name})`);
  }

  // 2. Connections carry their process's signals; network-specific ones are added on top.
  const listening = new Set(items.filter((i) => i.s.connection?.listening).map((i) => i.s.connection!.localPort));
  const notableIps = new Map<string, string>();
  for (const it of items) {
    const c = it.s.connection;
    if (!c) continue;
    const owner = c.pid ? procs.get(c.pid) : undefined;
    if (owner?.own) it.own = owner.own;
    const ownerScore = owner ? total(owner) : 0;
    if (owner && ownerScore > 0) add(it, ownerScore, `owned by ${owner.s.name} (pid ${owner.s.pid}), which scores ${ownerScore}: ${owner.findings.map((f) => f.reason).join("; ")}`);
    const rip = c.remoteIp ?? "";
    if (c.established && isPublicIp(rip)) {
      const inbound = c.localPort !== undefined && listening.has(c.localPort);
      const service = inbound ? REMOTE_ADMIN.get(c.localPort!) : undefined;
      if (service) add(it, 3, `inbound ${service} session from the public address ${rip}`);
      else if (!inbound) add(it, 1, `connected to the public address ${rip}:${c.remotePort}`);
    }
    if (c.listening && c.localPort !== undefined && c.localPort < 49152 && !COMMON_LISTEN.has(c.localPort) && !/^(127\.|::1$)/.test(c.localIp ?? "")) add(it, 1, `listening on uncommon port ${c.localPort}`);
    if (total(it) >= NOTABLE && c.established && isPublicIp(rip)) notableIps.set(rip, `${owner?.s.name ?? "a process"} (pid ${c.pid})`);
  }
  // Addresses named by notable commands (download-and-run lines, cron jobs) corroborate too.
  for (const it of items) if (total(it) >= NOTABLE) for (const ip of publicIpsIn(it.s.command)) if (!notableIps.has(ip)) notableIps.set(ip, `a notable ${it.s.kind}`);

  // 3. Corroboration: DNS answers, accounts and logins tied to notable evidence.
  const notableAccounts = new Set(items.filter((i) => i.s.account && total(i) >= NOTABLE).map((i) => i.s.account!.user));
  for (const it of items) {
    if (it.s.dns?.record && notableIps.has(it.s.dns.record)) add(it, 3, `resolves to ${it.s.dns.record}, which ${notableIps.get(it.s.dns.record)} talks to`);
    if (it.s.login && notableAccounts.has(it.s.login.user)) add(it, 2, `by the suspicious account ${it.s.login.user}`);
    if (it.s.login?.ip && notableIps.has(it.s.login.ip)) add(it, 2, `from ${it.s.login.ip}, which ${notableIps.get(it.s.login.ip)} also talks to`);
  }
  const notableLogins = new Set(items.filter((i) => i.s.login && total(i) >= NOTABLE).map((i) => i.s.login!.user.toLowerCase()));
  for (const it of items) if (it.s.profile && notableLogins.has(it.s.profile.toLowerCase())) add(it, 3, `profile of ${it.s.profile}, the account of a notable logon`);

  const order = (x: Scored, y: Scored) => y.score - x.score || SECTIONS.indexOf(x.section) - SECTIONS.indexOf(y.section) || x.identity.localeCompare(y.identity);
  const all: Scored[] = items
    .map((it) => ({
      hostname: host.hostname,
      client_id: host.client_id,
      section: it.s.section,
      artifact: it.artifact,
      kind: it.s.kind,
      identity: it.s.identity,
      score: total(it),
      reasons: it.own ? [it.own] : [...it.findings].sort((a, b) => b.weight - a.weight).map((f) => f.reason),
      row: it.row,
      index: it.index,
    }))
    .sort(order);
  const sections = Object.entries(host.results).map(([artifact, rows]) => ({
    section: readerFor(artifact)?.section ?? ("other" as Section),
    artifact,
    rows: rows.length,
    notable: all.filter((x) => x.artifact === artifact && x.score >= NOTABLE).length,
  }));
  return { hostname: host.hostname, client_id: host.client_id, notable: all.filter((x) => x.score >= NOTABLE), all, sections, unread };
}

/** Identities longer than this are shortened in text lines, saying so (the structured row keeps everything). */
const IDENTITY_MAX = 240;

/** One line per notable row: score, host, what the row is (service name, process and command line) and why. */
export function notableLine(n: Scored): string {
  const id = n.identity.length > IDENTITY_MAX ? `${n.identity.slice(0, IDENTITY_MAX)}… (${n.identity.length - IDENTITY_MAX} more characters)` : n.identity;
  return `[${n.score}] ${n.hostname} ${n.section}: ${n.kind} ${id} — ${n.reasons.join("; ")}`;
}
