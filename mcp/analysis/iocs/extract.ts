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

function validIpv4(s: string, text: string, index: number): boolean {
  const parts = s.split(".");
  if (parts.some((p) => (p.length > 1 && p.startsWith("0")) || Number(p) > 255)) return false;
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

function validDomain(d: string, fileNamesPossible = true): boolean {
  const labels = d.split(".");
  const tld = labels[labels.length - 1]!.toLowerCase();
  if (!TLDS.has(tld) || labels.length < 2) return false;
  if (fileNamesPossible && labels.length === 2 && FILE_LIKE_TLDS.has(tld)) return false;
  // Dotted identifiers from code and Velociraptor itself (System.Net.Http, Generic.Client.Info) are PascalCase.
  if (labels.every((l) => /^[A-Z][a-z0-9]/.test(l))) return false;
  if (labels.some((l) => l.length > 63 || l.startsWith("-") || l.endsWith("-"))) return false;
  return labels.slice(0, -1).some((l) => /[a-z]/i.test(l));
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
  if (text.includes("@") && want("email"))
    for (const m of matches(RE.email, text)) if (validDomain(m[0].split("@")[1]!, false)) out.push({ type: "email", value: m[0].toLowerCase() });
  if (want("ipv4"))
    for (const m of matches(RE.ipv4, text)) if (validIpv4(m[0], text, m.index)) out.push({ type: "ipv4", value: m[0] });
  if (text.includes(":") && want("ipv6"))
    for (const m of matches(RE.ipv6, text)) {
      const v = validIpv6(m[0]);
      if (v) out.push({ type: "ipv6", value: v });
    }
  if (want("domain"))
    for (const m of matches(RE.domain, text)) {
      if (!validDomain(m[0])) continue;
      out.push({ type: "domain", value: m[0].toLowerCase() });
    }
  // Hosts of URLs count as domains too (a URL's domain is the pivot most analysts want).
  if (want("domain")) for (const h of urlHosts) if (!ipaddr.isValid(h) && validDomain(h) && !out.some((i) => i.type === "domain" && i.value === h)) out.push({ type: "domain", value: h });
  if (want("md5") || want("sha1") || want("sha256") || want("sha512"))
    for (const m of matches(RE.hash, text)) {
      const t = hashType(m[0]);
      if (t && want(t)) out.push({ type: t, value: m[0].toLowerCase() });
    }
  if (want("cve") && /cve-/i.test(text)) for (const m of matches(RE.cve, text)) out.push({ type: "cve", value: m[0].toUpperCase() });
  if (want("windows_path") && text.includes("\\"))
    for (const m of matches(RE.windowsPath, text)) {
      const v = m[0].replace(/[.]+$/, "");
      if (v.length > 3) out.push({ type: "windows_path", value: v });
    }
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
