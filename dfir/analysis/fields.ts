/**
 * Reading the columns Velociraptor artifacts name differently across versions: netstat's addresses are `Raddr.IP`
 * (a dotted column name) in current releases, `RaddrIP` in older ones, and a nested `Raddr: {IP, Port}` in custom
 * artifacts. Timeline messages, triage rules and correlation pivots all read them through here.
 */

export interface SocketEnd {
  ip?: string;
  port?: number;
}

const str = (v: unknown) => (typeof v === "string" && v ? v : undefined);

export function socketEnd(row: Record<string, unknown>, side: "Laddr" | "Raddr"): SocketEnd {
  const nested = row[side];
  const obj = nested && typeof nested === "object" ? (nested as { IP?: unknown; Port?: unknown }) : undefined;
  const ip = str(row[`${side}.IP`]) ?? str(row[`${side}IP`]) ?? str(obj?.IP) ?? str(nested) ?? str(row[side === "Laddr" ? "LocalAddress" : "RemoteAddress"]);
  const portRaw = row[`${side}.Port`] ?? row[`${side}Port`] ?? obj?.Port ?? row[side === "Laddr" ? "LocalPort" : "RemotePort"];
  const port = portRaw === undefined || portRaw === null || portRaw === "" ? undefined : Number(portRaw);
  return { ip, port: Number.isFinite(port) ? port : undefined };
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
