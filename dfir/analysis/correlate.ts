/**
 * Cross-endpoint correlation. Given indicators, which clients' results contain them (a client × indicator matrix
 * with first-seen times); or, given a pivot, which clients share a process hash, a parent → child pair or a remote
 * address, rarest first — the values on one or two hosts are the ones worth a look.
 */
import { rowStrings, socketColumns, socketEnd } from "./fields.js";
import { detectTimestamp } from "./timeline/timestamps.js";

export interface CorrelationCell {
  client_id: string;
  indicator: string;
  count: number;
  first_seen?: string;
  artifacts: string[];
}

export interface RowSource {
  artifact: string;
  client_id?: string;
  rows: AsyncIterable<Record<string, unknown>> | Iterable<Record<string, unknown>>;
}

function clientOf(src: RowSource, row: Record<string, unknown>): string {
  return src.client_id ?? (typeof row.ClientId === "string" ? row.ClientId : "unknown");
}


const alnum = (c: string | undefined) => c !== undefined && /[a-z0-9]/i.test(c);
const digit = (c: string | undefined) => c !== undefined && c >= "0" && c <= "9";

/**
 * `needle` occurs in `text` as a whole token: not inside a longer word, hash or number — 1.2.3.4 is not found in
 * 11.2.3.45 or 10.1.2.3.4, an MD5 is not found inside a SHA-256.
 */
export function containsToken(text: string, needle: string): boolean {
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + 1)) {
    const before = text[i - 1];
    const after = text[i + needle.length];
    if (alnum(before) && alnum(needle[0])) continue;
    if (alnum(after) && alnum(needle[needle.length - 1])) continue;
    if (before === "." && digit(text[i - 2]) && digit(needle[0])) continue;
    if (after === "." && digit(text[i + needle.length + 1]) && digit(needle[needle.length - 1])) continue;
    return true;
  }
  return false;
}

/** Case-insensitive whole-token matching of each indicator in each row; refanged values should be passed in. */
export async function correlateIndicators(sources: RowSource[], indicators: string[]) {
  const wanted = [...new Set(indicators.map((i) => i.trim()).filter(Boolean))];
  const lower = wanted.map((w) => w.toLowerCase());
  const cells = new Map<string, { count: number; first?: number; artifacts: Set<string> }>();
  let rows = 0;
  for (const src of sources)
    for await (const row of src.rows as AsyncIterable<Record<string, unknown>>) {
      rows++;
      const text = rowStrings(row, { numbers: true }).join("\n").toLowerCase();
      let ts: number | undefined | null = null;
      for (let i = 0; i < lower.length; i++) {
        if (!containsToken(text, lower[i]!)) continue;
        if (ts === null) ts = detectTimestamp(row)?.us;
        const key = `${clientOf(src, row)}\u0000${wanted[i]}`;
        const c = cells.get(key) ?? { count: 0, artifacts: new Set<string>() };
        c.count++;
        if (ts !== undefined && (c.first === undefined || ts < c.first)) c.first = ts;
        c.artifacts.add(src.artifact);
        cells.set(key, c);
      }
    }
  const out: CorrelationCell[] = [...cells.entries()].map(([k, c]) => {
    const [client_id, indicator] = k.split("\u0000") as [string, string];
    return { client_id, indicator, count: c.count, first_seen: c.first === undefined ? undefined : new Date(c.first / 1000).toISOString(), artifacts: [...c.artifacts].sort() };
  });
  const clients = [...new Set(out.map((c) => c.client_id))].sort();
  const byIndicator = wanted.map((indicator) => ({ indicator, clients: out.filter((c) => c.indicator === indicator).length }));
  return { clients, indicators: wanted, cells: out.sort((a, b) => a.indicator.localeCompare(b.indicator) || a.client_id.localeCompare(b.client_id)), by_indicator: byIndicator, rows_scanned: rows };
}

export const PIVOTS = ["process_hash", "parent_child", "remote_ip", "column"] as const;
export type Pivot = (typeof PIVOTS)[number];

// Velociraptor columns may themselves contain dots ("Raddr.IP"): try the flat name before walking the path.
const get = (row: Record<string, unknown>, path: string): unknown => (path in row ? row[path] : path.split(".").reduce<unknown>((v, p) => (v && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined), row));
const first = (row: Record<string, unknown>, paths: string[]) => {
  for (const p of paths) {
    const v = get(row, p);
    if (v !== undefined && v !== null && v !== "") return String(v);
  }
  return undefined;
};

/** Which column holds a binary's hash in each result (dfir/analysis/columns); other results have none. */
export const HASH_COLUMNS: Readonly<Record<string, string>> = {
  "Windows.System.Pslist": "Hash.SHA256",
  "Linux.Sys.Pslist": "Hash.SHA256",
  "Windows.Network.NetstatEnriched/Netstat": "Hash.SHA256",
  "Windows.System.Services": "HashServiceExe.SHA256",
  "MacOS.Detection.Autoruns/LaunchAgentsDaemons": "Hash.SHA256",
  "Windows.Detection.Amcache": "SHA1",
};
/** Remote addresses outside netstat (see ./fields.ts for sockets): where logons came from. */
export const REMOTE_COLUMNS: Readonly<Record<string, string>> = {
  "Windows.EventLogs.RDPAuth": "SourceIP",
  "Linux.Sys.LastUserLogin": "login_IpAddr",
  "Linux.Syslog.SSHLogin": "IP",
};
/** Process listings: their Pid, Ppid and Name make parent → child pairs. */
export const PROCESS_RESULTS: ReadonlySet<string> = new Set(["Windows.System.Pslist", "Linux.Sys.Pslist", "Generic.System.Pstree"]);

/** A per-result table entry for a source named `Artifact/Source` or just `Artifact`. */
function forResult<T>(table: Readonly<Record<string, T>>, artifact: string): T | undefined {
  return table[artifact] ?? Object.entries(table).find(([k]) => k.split("/")[0] === artifact)?.[1];
}

/** Groups values of the pivot across clients; parent → child pairs use each client's own PID table. */
export async function sharedValues(sources: RowSource[], pivot: Pivot, column?: string) {
  const groups = new Map<string, { clients: Set<string>; count: number }>();
  const add = (value: string | undefined, client: string) => {
    if (!value) return;
    const g = groups.get(value) ?? { clients: new Set<string>(), count: 0 };
    g.clients.add(client);
    g.count++;
    groups.set(value, g);
  };
  for (const src of sources) {
    if (pivot === "parent_child") {
      if (!PROCESS_RESULTS.has(src.artifact)) continue;
      // PIDs are only meaningful per client (and per collection), so build each source's table first.
      const perClient = new Map<string, { pid: string; ppid: string; name: string }[]>();
      for await (const row of src.rows as AsyncIterable<Record<string, unknown>>) {
        const c = clientOf(src, row);
        const list = perClient.get(c) ?? [];
        list.push({ pid: String(row.Pid ?? ""), ppid: String(row.Ppid ?? ""), name: String(row.Name ?? row.Exe ?? "") });
        perClient.set(c, list);
      }
      for (const [c, procs] of perClient) {
        const byPid = new Map(procs.map((p) => [p.pid, p.name]));
        for (const p of procs) {
          const parent = byPid.get(p.ppid);
          if (parent && p.name) add(`${parent} → ${p.name}`, c);
        }
      }
      continue;
    }
    const hash = forResult(HASH_COLUMNS, src.artifact);
    const remote = socketColumns(src.artifact) ? undefined : forResult(REMOTE_COLUMNS, src.artifact);
    if (pivot === "process_hash" && !hash) continue;
    if (pivot === "remote_ip" && !remote && !socketColumns(src.artifact)) continue;
    for await (const row of src.rows as AsyncIterable<Record<string, unknown>>) {
      const c = clientOf(src, row);
      if (pivot === "process_hash") add(first(row, [hash!])?.toLowerCase(), c);
      else if (pivot === "remote_ip") {
        const ip = remote ? first(row, [remote]) : socketEnd(src.artifact, row, "remote").ip;
        // Listening sockets have no peer; RDPAuth writes the string "null" when there is no address.
        if (ip && ip !== "0.0.0.0" && ip !== "::" && ip !== "null" && ip !== "-") add(ip, c);
      } else if (column) add(first(row, [column]), c);
    }
  }
  return [...groups.entries()]
    .map(([value, g]) => ({ value, clients: [...g.clients].sort(), client_count: g.clients.size, count: g.count }))
    .sort((a, b) => a.client_count - b.client_count || a.count - b.count || a.value.localeCompare(b.value));
}
