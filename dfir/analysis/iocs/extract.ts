/**
 * Indicator extraction from text: candidates from ./patterns.ts, then validation that rejects the near-misses which
 * make naive extractors noisy — version numbers that look like IPs, file names that look like domains, dotted code
 * identifiers, hex runs that are not hashes, Bitcoin strings without a valid checksum.
 */
import ipaddr from "ipaddr.js";
import { validate as validateBitcoin } from "bitcoin-address-validation";
import { createRequire } from "node:module";
import { RE, refang, type IocType } from "./patterns.js";

export interface Indicator {
  type: IocType;
  /** Normalised value (lower-cased where case does not matter, hives expanded, URLs refanged). */
  value: string;
}

// The maintained IANA list (the `tlds` package ships JSON, which ESM cannot import without attributes).
const TLDS = new Set((createRequire(import.meta.url)("tlds") as string[]).map((t) => t.toLowerCase()));

// TLDs that are also common file extensions: "invoice.zip" or "run.sh" in a log is a file, not a host.
const FILE_LIKE_TLDS = new Set(["zip", "mov", "py", "sh", "pl", "rs", "md", "ps", "so", "cc", "pm", "rb", "cs", "js", "ts", "sys", "lnk", "cat", "bat", "ini", "log", "cab", "exe", "dll", "jar", "bin", "dat", "db", "tmp", "bak", "gz", "xz", "tar", "iso", "img", "vhd", "csv", "txt", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "json", "xml", "yml", "yaml", "conf", "cfg", "service", "plist", "app", "desktop", "run", "mp", "mp3", "mp4", "kim", "ink", "ai", "ml", "gl"]);

const HIVES: Record<string, string> = { HKLM: "HKEY_LOCAL_MACHINE", HKCU: "HKEY_CURRENT_USER", HKU: "HKEY_USERS", HKCR: "HKEY_CLASSES_ROOT", HKCC: "HKEY_CURRENT_CONFIG" };

export function isPublicIp(ip: string): boolean {
  try {
    return ipaddr.parse(ip).range() === "unicast";
  } catch {
    return false;
  }
}

// Address blocks reserved for documentation and testing: ipaddr.js files them under "reserved" with others.
const DOCUMENTATION_RANGES: [string, string][] = [
  ["192.0.2.0/24", "documentation (RFC 5737)"],
  ["198.51.100.0/24", "documentation (RFC 5737)"],
  ["203.0.113.0/24", "documentation (RFC 5737)"],
  ["2001:db8::/32", "documentation (RFC 3849)"],
  ["198.18.0.0/15", "benchmarking (RFC 2544)"],
];
const DOC_CIDRS = DOCUMENTATION_RANGES.map(([c, label]) => ({ range: ipaddr.parseCIDR(c), label }));
// Names reserved for documentation and tests (RFC 2606, RFC 6761).
const DOC_DOMAINS = ["example.com", "example.net", "example.org"];
const DOC_TLDS = ["example", "test", "invalid", "localhost"];

function hostOfIndicator(i: Indicator): string | undefined {
  if (i.type === "domain") return i.value;
  if (i.type === "email") return i.value.split("@")[1];
  if (i.type === "url") return hostOf(i.value);
  return undefined;
}

/** A documentation/test label for addresses and names reserved for examples, else undefined. */
export function documentationRange(i: Indicator): string | undefined {
  if (i.type === "ipv4" || i.type === "ipv6") {
    try {
      const a = ipaddr.parse(i.value);
      return DOC_CIDRS.find((d) => d.range[0].kind() === a.kind() && a.match(d.range))?.label;
    } catch {
      return undefined;
    }
  }
  const host = hostOfIndicator(i)?.toLowerCase();
  if (!host) return undefined;
  if (DOC_DOMAINS.some((d) => host === d || host.endsWith(`.${d}`)) || DOC_TLDS.includes(host.split(".").pop()!)) return "documentation (RFC 2606)";
  return undefined;
}

/**
 * Why an indicator is not a public address or name: "documentation (RFC 5737)", "private", "loopback",
 * "linkLocal"… (ipaddr.js range names); undefined for public addresses and ordinary names.
 */
export function rangeOf(i: Indicator): string | undefined {
  const doc = documentationRange(i);
  if (doc) return doc;
  if (i.type !== "ipv4" && i.type !== "ipv6") return undefined;
  try {
    const r = ipaddr.parse(i.value).range();
    return r === "unicast" ? undefined : r;
  } catch {
    return undefined;
  }
}

// "Sysmon 15.14.0.0", "VMware Tools 12.3.0.0": a product name then a dotted quad ending in .0.0 (not a CIDR) is a
// version; "Subnet 192.168.1.0" and "Network 10.0.0.0/8" stay addresses.
const PRODUCT_BEFORE = /(?:^|[\s("'=:,])[A-Z][A-Za-z]*[a-z][A-Za-z0-9+_-]* $/;

function validIpv4(s: string, text: string, index: number): boolean {
  // 0.0.0.0 is "any address" (a listening socket, a sinkhole entry), never an indicator.
  if (s === "0.0.0.0") return false;
  const parts = s.split(".");
  if (parts.some((p) => (p.length > 1 && p.startsWith("0")) || Number(p) > 255)) return false;
  if (parts[2] === "0" && parts[3] === "0" && text[index + s.length] !== "/" && PRODUCT_BEFORE.test(text.slice(Math.max(0, index - 40), index))) return false;
  // "version 1.2.3.4", "v10.0.0.1", "build 6.1.0.0": dotted numbers introduced as versions are not addresses.
  const before = text.slice(Math.max(0, index - 12), index).toLowerCase();
  if (/(?:\bv|version[\s:=]*|ver[\s:=.]*|build[\s:=]*|release[\s:=]*|rev[\s:=.]*)$/.test(before)) return false;
  if (/^[=\s]*$/.test(before) === false && /[a-z]$/.test(before)) return false; // glued to a word: "pkg1.2.3.4"
  return true;
}

function validIpv6(s: string): string | undefined {
  const addr = s.split("%")[0]!;
  if (!/\d/.test(addr) || !/::|(?:[0-9a-f]{1,4}:){7}/i.test(addr)) return undefined; // times and MACs have neither
  if (addr === "::" || !ipaddr.IPv6.isValid(addr)) return undefined;
  return ipaddr.IPv6.parse(addr).toString();
}

// Prefetch files are named EXECUTABLE-PATHHASH.pf (8 hex digits of the path hash), and .pf is also a TLD.
const PREFETCH_NAME = /-[0-9a-f]{8}\.pf$/i;

function validDomain(d: string, fileNamesPossible = true): boolean {
  if (PREFETCH_NAME.test(d)) return false;
  const labels = d.split(".");
  const tld = labels[labels.length - 1]!.toLowerCase();
  if (!TLDS.has(tld) || labels.length < 2) return false;
  if (fileNamesPossible && labels.length === 2 && FILE_LIKE_TLDS.has(tld)) return false;
  // Dotted identifiers from code and Velociraptor itself (System.Net.Http, Generic.Client.Info) are PascalCase.
  if (labels.every((l) => /^[A-Z][a-z0-9]/.test(l))) return false;
  if (labels.some((l) => l.length > 63 || l.startsWith("-") || l.endsWith("-"))) return false;
  return labels.slice(0, -1).some((l) => /[a-z]/i.test(l));
}

const HEX = new Uint8Array(128);
for (const c of "0123456789abcdefABCDEF") HEX[c.charCodeAt(0)] = 1;
const isHex = (c: number) => c < 128 && HEX[c] === 1;

/**
 * Maximal runs of at least `min` hex characters bounded by non-alphanumerics. Skips ahead `min` characters whenever
 * the far end of the window is not hex (no run of `min` can cover it), so prose costs about n/min steps.
 */
export function* hexRuns(text: string, min: number): Generator<[number, number]> {
  // Invariant at the top of the loop: text[i - 1] is not hex (or i = 0), so a run found at i starts at i.
  let i = 0;
  while (i + min <= text.length) {
    const far = i + min - 1;
    if (!isHex(text.charCodeAt(far))) {
      i = far + 1;
      continue;
    }
    let start = far;
    while (start > i && isHex(text.charCodeAt(start - 1))) start--;
    if (start > i) {
      i = start;
      continue;
    }
    let end = far + 1;
    while (end < text.length && isHex(text.charCodeAt(end))) end++;
    if (!isAlnum(text.charCodeAt(i - 1)) && !isAlnum(text.charCodeAt(end))) yield [i, end];
    i = end + 1;
  }
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function hashType(h: string): IocType | undefined {
  // A real digest has both letters and digits and is not a run of one character.
  if (!/[a-f]/i.test(h) || !/\d/.test(h) || /^(.)\1+$/.test(h)) return undefined;
  return ({ 32: "md5", 40: "sha1", 64: "sha256", 128: "sha512" } as Record<number, IocType>)[h.length];
}

function trimUrl(u: string): string {
  let out = u.replace(/[.,;:!?'"]+$/, "");
  // Drop a closing bracket that belongs to the surrounding prose, not the URL.
  while (/[)\]]$/.test(out) && (out.match(/[([]/g)?.length ?? 0) < (out.match(/[)\]]/g)?.length ?? 0)) out = out.slice(0, -1);
  return out;
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return undefined;
  }
}

function* matches(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) yield m;
}

const LOCAL_CHAR = /[A-Za-z0-9._%+-]/;
const HOST_CHAR = /[A-Za-z0-9.-]/;
const V6_CHAR = /[0-9A-Fa-f:.]/;

const WINDOWS_PATH_AT = new RegExp(RE.windowsPath.source, "y");
const WINDOWS_ROOTS = [":\\", "\\\\", "%\\", "\\Device\\"];

/** Windows paths, matched only where a root can start (drive, UNC, %VAR%, \Device) instead of at every character. */
function* windowsPaths(text: string): Generator<string> {
  const starts = new Set<number>();
  for (const root of WINDOWS_ROOTS)
    for (let j = text.indexOf(root); j !== -1; j = text.indexOf(root, j + 1)) {
      if (root === ":\\") starts.add(j >= 5 && text.startsWith("\\\\?\\", j - 5) ? j - 5 : j - 1);
      else if (root === "%\\") {
        const p = text.lastIndexOf("%", j - 1);
        if (p !== -1 && j - p < 40) starts.add(p);
      } else starts.add(j);
    }
  let coveredTo = -1;
  for (const start of [...starts].sort((a, b) => a - b)) {
    if (start < 0 || start < coveredTo || (start > 0 && /\w/.test(text[start - 1]!))) continue;
    WINDOWS_PATH_AT.lastIndex = start;
    const m = WINDOWS_PATH_AT.exec(text);
    if (!m) continue;
    coveredTo = start + m[0].length;
    const v = m[0].replace(/[.]+$/, "");
    if (v.length > 3) yield v;
  }
}

/** Emails found from each "@": the local part by walking left, the domain with a sticky pattern. */
function* emails(text: string): Generator<string> {
  for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64 && LOCAL_CHAR.test(text[start - 1]!)) start--;
    while (start < at && !/[A-Za-z0-9]/.test(text[start]!)) start++; // no leading dot or symbol
    if (start === at) continue;
    RE.emailDomain.lastIndex = at + 1;
    const m = RE.emailDomain.exec(text);
    if (m && validDomain(m[0], false)) yield `${text.slice(start, at)}@${m[0]}`.toLowerCase();
  }
}

/** Domains found from their last label: only a real TLD makes it worth walking left for the rest. */
function* domains(text: string): Generator<string> {
  for (const m of matches(RE.tldCandidate, text)) {
    if (!TLDS.has(m[1]!.toLowerCase())) continue;
    let start = m.index;
    while (start > 0 && HOST_CHAR.test(text[start - 1]!)) start--;
    // Preceded by these, it is part of an email, a path, a URL-encoded value (%40 = @) or a longer token.
    if (start > 0 && /[\w@/\\%]/.test(text[start - 1]!)) continue;
    const candidate = text.slice(start, m.index + m[0].length).replace(/^[.-]+/, "");
    if (/\.\./.test(candidate) || !candidate.includes(".")) continue;
    if (validDomain(candidate)) yield candidate.toLowerCase();
  }
}

/** IPv6: every "::"-compressed candidate (expanded around the "::") and every full eight-group form. */
function* ipv6s(text: string): Generator<string> {
  let lastEnd = -1;
  for (let i = text.indexOf("::"); i !== -1; i = text.indexOf("::", Math.max(i + 2, lastEnd))) {
    let start = i;
    let end = i + 2;
    while (start > 0 && V6_CHAR.test(text[start - 1]!)) start--;
    while (end < text.length && V6_CHAR.test(text[end]!)) end++;
    lastEnd = end;
    if ((start > 0 && /\w/.test(text[start - 1]!)) || (end < text.length && /\w/.test(text[end]!) && text[end] !== "%")) continue;
    const v = validIpv6(text.slice(start, end).replace(/[.:]+$/, (x) => (x.startsWith("::") ? "::" : "")));
    if (v) yield v;
  }
  // Full eight-group form: only where seven colons come close together (timestamps have two).
  let run = 0;
  let prev = -10;
  for (let i = text.indexOf(":"); i !== -1; i = text.indexOf(":", i + 1)) {
    run = i - prev <= 5 ? run + 1 : 1;
    prev = i;
    if (run === 7) {
      RE.ipv6Full.lastIndex = Math.max(0, i - 40);
      const m = RE.ipv6Full.exec(text);
      if (m && m.index <= i) {
        const v = validIpv6(m[0]);
        if (v) yield v;
      }
    }
  }
}

export interface ExtractOptions {
  /** Only these types (default: all). */
  types?: ReadonlySet<IocType>;
}

/** Every indicator in `text`, in order of type then position; duplicates are kept (the aggregator counts them). */
export function extractIndicators(input: string, opts: ExtractOptions = {}): Indicator[] {
  const text = refang(input);
  const want = (t: IocType) => !opts.types || opts.types.has(t);
  const out: Indicator[] = [];
  const urlHosts = new Set<string>();

  if (text.includes("://") && want("url"))
    for (const m of matches(RE.url, text)) {
      const url = trimUrl(m[0]);
      const host = hostOf(url);
      if (!host) continue;
      out.push({ type: "url", value: url });
      urlHosts.add(host.toLowerCase());
    }
  if (want("email")) for (const e of emails(text)) out.push({ type: "email", value: e });
  if (want("ipv4"))
    for (const m of matches(RE.ipv4, text)) {
      // The tail of an IPv4-mapped IPv6 address (::ffff:192.0.2.1) belongs to that address.
      if (text[m.index - 1] === ":" && /[0-9a-f:]/i.test(text[m.index - 2] ?? "")) continue;
      if (validIpv4(m[0], text, m.index)) out.push({ type: "ipv4", value: m[0] });
    }
  if (want("ipv6")) for (const v of ipv6s(text)) out.push({ type: "ipv6", value: v });
  if (want("domain")) for (const d of domains(text)) out.push({ type: "domain", value: d });
  // Hosts of URLs count as domains too (a URL's domain is the pivot most analysts want).
  if (want("domain")) for (const h of urlHosts) if (!ipaddr.isValid(h) && validDomain(h) && !out.some((i) => i.type === "domain" && i.value === h)) out.push({ type: "domain", value: h });
  if (want("md5") || want("sha1") || want("sha256") || want("sha512"))
    for (const [start, end] of hexRuns(text, 32)) {
      const h = text.slice(start, end);
      const t = hashType(h);
      if (t && want(t)) out.push({ type: t, value: h.toLowerCase() });
    }
  if (want("cve") && /cve-/i.test(text)) for (const m of matches(RE.cve, text)) out.push({ type: "cve", value: m[0].toUpperCase() });
  if (want("windows_path") && text.includes("\\")) for (const v of windowsPaths(text)) out.push({ type: "windows_path", value: v });
  if (want("posix_path") && text.includes("/"))
    for (const m of matches(RE.posixPath, text)) {
      const before = text.slice(Math.max(0, m.index - 3), m.index);
      if (before.endsWith(":/") || before.endsWith("//")) continue; // inside a URL
      out.push({ type: "posix_path", value: m[0].replace(/[.]+$/, "") });
    }
  if (want("registry_key") && /HK/i.test(text))
    for (const m of matches(RE.registry, text)) {
      const [hive, ...rest] = m[0].split("\\");
      const full = HIVES[hive!.toUpperCase()] ?? hive!.toUpperCase();
      out.push({ type: "registry_key", value: [full, ...rest].join("\\") });
    }
  if (want("bitcoin")) {
    for (const m of matches(RE.bitcoinLegacy, text)) if (validateBitcoin(m[0])) out.push({ type: "bitcoin", value: m[0] });
    if (/bc1/i.test(text)) for (const m of matches(RE.bitcoinBech32, text)) if (validateBitcoin(m[0].toLowerCase())) out.push({ type: "bitcoin", value: m[0].toLowerCase() });
  }
  return out;
}
