/**
 * Where each netstat result keeps a socket's two ends. The columns differ per artifact (dfir/analysis/columns):
 * Windows.Network.Netstat names them literally `Laddr.IP`/`Raddr.Port`, NetstatEnriched and the macOS artifact
 * flatten them to `Laddr`/`Lport`, and Linux.Network.Netstat parses /proc into `LocalAddr`/`RemotePort`. Timeline
 * messages, triage and correlation pivots all read sockets through here.
 */

export interface SocketEnd {
  ip?: string;
  port?: number;
}

interface SocketColumns {
  localIp: string;
  localPort: string;
  remoteIp: string;
  remotePort: string;
}

const DOTTED: SocketColumns = { localIp: "Laddr.IP", localPort: "Laddr.Port", remoteIp: "Raddr.IP", remotePort: "Raddr.Port" };
const FLAT: SocketColumns = { localIp: "Laddr", localPort: "Lport", remoteIp: "Raddr", remotePort: "Rport" };
const PROC: SocketColumns = { localIp: "LocalAddr", localPort: "LocalPort", remoteIp: "RemoteAddr", remotePort: "RemotePort" };

/** Keyed by result (`Artifact/Source`) or artifact. */
export const SOCKET_COLUMNS: Readonly<Record<string, SocketColumns>> = {
  "Windows.Network.Netstat": DOTTED,
  "Windows.Network.NetstatEnriched/Netstat": FLAT,
  "MacOS.Network.Netstat": FLAT,
  "Linux.Network.Netstat/TCP4": PROC,
  "Linux.Network.Netstat/TCP6": PROC,
};

const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);

/** The columns of a netstat result, by `Artifact/Source` or by artifact; undefined for other results. */
export function socketColumns(result: string): SocketColumns | undefined {
  return SOCKET_COLUMNS[result] ?? Object.entries(SOCKET_COLUMNS).find(([k]) => k.split("/")[0] === result)?.[1];
}

/** One end of a socket row of `result`; empty for results that are not netstat. */
export function socketEnd(result: string, row: Record<string, unknown>, side: "local" | "remote"): SocketEnd {
  const c = socketColumns(result);
  if (!c) return {};
  const portRaw = row[side === "local" ? c.localPort : c.remotePort];
  const port = typeof portRaw === "number" ? portRaw : undefined;
  return { ip: str(row[side === "local" ? c.localIp : c.remoteIp]), port };
}

/**
 * Every string in a result row, nested values included (to depth 6), for scanning a row as text. `numbers` adds
 * numeric values; `skip` leaves out columns by name at any depth (Velociraptor bookkeeping such as ClientId).
 */
export function rowStrings(row: unknown, o: { numbers?: boolean; skip?: ReadonlySet<string> } = {}): string[] {
  const out: string[] = [];
  const walk = (v: unknown, depth: number, key?: string): void => {
    if (depth > 6 || (key !== undefined && o.skip?.has(key))) return;
    if (typeof v === "string") out.push(v);
    else if (typeof v === "number" && o.numbers) out.push(String(v));
    else if (Array.isArray(v)) for (const x of v) walk(x, depth + 1);
    else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, depth + 1, k);
  };
  walk(row, 0);
  return out;
}
