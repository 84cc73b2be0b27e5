/**
 * Indicator extraction from text: candidates from ./patterns.ts, then validation that rejects the near-misses which
 * make naive extractors noisy — version numbers that look like IPs, file names that look like domains, dotted code
 * identifiers, hex runs that are not hashes, Bitcoin strings without a valid checksum.
 */
import ipaddr from "ipaddr.js";
import { validate as validateBitcoin } from "bitcoin-address-validation";
import { createRequire } from "node:module";
import { own } from "./own.js";
import { AT, RE, refang, type IocType } from "./patterns.js";
import { anchoredMatches, base58Run, caseInsensitiveAnchors, forEachAlnumRun, forEachIpv4Span, forEachUrlSpan, isAlpha, isHexSpan, isAlnum, isHostChar, isLocalChar, isV6Char, isWord, lastLabelEnd, windowsPathEnd, type SpanFn } from "./scan.js";

/** /[0-9a-f:]/i */
const isHexOrColon = (c: number) => (c >= 48 && c <= 58) || ((c | 32) >= 97 && (c | 32) <= 102);

export { hexRuns } from "./scan.js";

export interface Indicator {
  type: IocType;
  /** Normalised value (lower-cased where case does not matter, hives expanded, URLs refanged). */
  value: string;
}

// The maintained IANA list (the `tlds` package ships JSON, which ESM cannot import without attributes).
const TLDS = new Set((createRequire(import.meta.url)("tlds") as string[]).map((t) => t.toLowerCase()));
// A label longer than every TLD is not looked up (most dotted tokens in logs are not domains).
const LONGEST_TLD = Math.max(...[...TLDS].map((t) => t.length));

/** A hash of text[start, end) lower-cased (ASCII), or of a whole string: tldHash(t, 0, t.length). */
function tldHash(text: string, start: number, end: number): number {
  let h = 0;
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    h = (Math.imul(h, 31) + (c >= 65 && c <= 90 ? c + 32 : c)) | 0;
  }
  return h;
}
/** A set of lower-case names looked up by a span of a text, found by hash and confirmed exactly. */
function spanSet(names: ReadonlySet<string>): { names: ReadonlySet<string>; byHash: Map<number, string[]> } {
  const byHash = new Map<number, string[]>();
  for (const n of names) {
    const h = tldHash(n, 0, n.length);
    byHash.set(h, [...(byHash.get(h) ?? []), n]);
  }
  return { names, byHash };
}

/**
 * Whether text[start, end), lower-cased, is in `set` (spanSet): without cutting and lower-casing it (most dotted
 * tokens in result rows are file names, versions and times, whose last label is no TLD).
 */
function inSpanSet(set: ReturnType<typeof spanSet>, text: string, start: number, end: number): boolean {
  if (end - start > LONGEST_TLD) return false;
  let h = 0;
  let any = 0;
  for (let k = start; k < end; k++) {
    const c = text.charCodeAt(k);
    any |= c;
    h = (Math.imul(h, 31) + (c >= 65 && c <= 90 ? c + 32 : c)) | 0;
  }
  // Outside ASCII, lower-casing is toLowerCase's to do (the list holds internationalised TLDs), not tldHash's.
  if (any >= 128) return set.names.has(text.slice(start, end).toLowerCase());
  const names = set.byHash.get(h);
  if (!names) return false;
  next: for (const n of names) {
    if (n.length !== end - start) continue;
    for (let k = 0; k < n.length; k++) {
      const c = text.charCodeAt(start + k);
      if ((c >= 65 && c <= 90 ? c + 32 : c) !== n.charCodeAt(k)) continue next;
    }
    return true;
  }
  return false;
}

// TLDs that are also common file extensions: "invoice.zip" or "run.sh" in a log is a file, not a host.
export const FILE_LIKE_TLDS: ReadonlySet<string> = new Set(["zip", "mov", "py", "sh", "pl", "rs", "md", "ps", "so", "cc", "pm", "rb", "cs", "js", "ts", "sys", "lnk", "cat", "bat", "ini", "log", "cab", "exe", "dll", "jar", "bin", "dat", "db", "tmp", "bak", "gz", "xz", "tar", "iso", "img", "vhd", "csv", "txt", "pdf", "doc", "docx", "xls", "xlsx", "ppt", "json", "xml", "yml", "yaml", "conf", "cfg", "service", "plist", "app", "desktop", "run", "mp", "mp3", "mp4", "kim", "ink", "ai", "ml", "gl"]);
const TLD_SET = spanSet(TLDS);
const FILE_LIKE_SET = spanSet(FILE_LIKE_TLDS);

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
const DOC_SUFFIXES = DOC_DOMAINS.map((d) => `.${d}`);
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
    const a = parseAddress(i.value);
    return a && addressDocumentationRange(a);
  }
  return hostDocumentationRange(hostOfIndicator(i));
}

/** ipaddr.parse, undefined for what is not an address. */
export function parseAddress(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | undefined {
  try {
    return ipaddr.parse(ip);
  } catch {
    return undefined;
  }
}

/** documentationRange of a parsed address (the allow-list parses each address once for all its checks). */
export function addressDocumentationRange(a: ipaddr.IPv4 | ipaddr.IPv6): string | undefined {
  return DOC_CIDRS.find((d) => d.range[0].kind() === a.kind() && a.match(d.range))?.label;
}

/** documentationRange of a host name (of a domain, an email or a URL). */
export function hostDocumentationRange(hostName: string | undefined): string | undefined {
  const host = hostName?.toLowerCase();
  if (!host) return undefined;
  // Asked for every new name, URL and email: the last label is cut, not split out of an array of all of them.
  if (DOC_DOMAINS.some((d, k) => host === d || host.endsWith(DOC_SUFFIXES[k]!)) || DOC_TLDS.includes(host.slice(host.lastIndexOf(".") + 1))) return "documentation (RFC 2606)";
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

/** Octets of text[start, end) with no leading zero and at most 255; a bit per octet that is 0 (bit 0 = the first). */
function octets(text: string, start: number, end: number): number {
  let zeros = 0;
  let octet = 0;
  let value = 0;
  let len = 0;
  for (let k = start; k <= end; k++) {
    const c = k < end ? text.charCodeAt(k) : 46;
    if (c !== 46) {
      if (len === 1 && value === 0) return -1; // a leading zero
      value = value * 10 + c - 48;
      len++;
      continue;
    }
    if (value > 255) return -1;
    if (value === 0) zeros |= 1 << octet;
    octet++;
    value = 0;
    len = 0;
  }
  return zeros;
}

// What the version and glued-word tests below look at: the text before the address, back over white space, ":",
// "=" and "." to the first other character.
const VERSION_SKIP = new Set([32, 9, 10, 11, 12, 13, 58, 61, 46]);
const VERSION_LAST = new Set([..."vnrde"].map((c) => c.charCodeAt(0)));

/**
 * Whether the version and glued-word tests can match at all: each needs the text before the address to end in a
 * letter, or in one of v/n/r/d/e ("v", "version", "ver", "build", "release", "rev") and then white space, ":", "=" or
 * ".". Most addresses follow a column value or a space after another word, so the slice, lower-casing and regexes
 * run only for the few that might be versions.
 */
function mayBeVersion(text: string, index: number): boolean {
  let k = index - 1;
  while (k >= 0 && index - k <= 12 && VERSION_SKIP.has(text.charCodeAt(k))) k--;
  if (k < 0 || index - k > 12) return false;
  const c = text.charCodeAt(k);
  if (c >= 128) return true; // lower-casing or Unicode white space: leave it to the regexes
  const l = c >= 65 && c <= 90 ? c + 32 : c;
  if (l < 97 || l > 122) return false;
  return k === index - 1 || VERSION_LAST.has(l);
}

/** Whether the dotted quad text[index, end) is an address. */
function validIpv4(text: string, index: number, end: number): boolean {
  // 0.0.0.0 is "any address" (a listening socket, a sinkhole entry), never an indicator.
  if (end - index === 7 && text.startsWith("0.0.0.0", index)) return false;
  const zeros = octets(text, index, end);
  if (zeros === -1) return false;
  if ((zeros & 12) === 12 && text.charCodeAt(end) !== 47 /* / */ && PRODUCT_BEFORE.test(text.slice(Math.max(0, index - 40), index))) return false;
  if (!mayBeVersion(text, index)) return true;
  // "version 1.2.3.4", "v10.0.0.1", "build 6.1.0.0": dotted numbers introduced as versions are not addresses.
  const before = text.slice(Math.max(0, index - 12), index).toLowerCase();
  if (/(?:\bv|version[\s:=]*|ver[\s:=.]*|build[\s:=]*|release[\s:=]*|rev[\s:=.]*)$/.test(before)) return false;
  if (/^[=\s]*$/.test(before) === false && /[a-z]$/.test(before)) return false; // glued to a word: "pkg1.2.3.4"
  return true;
}

// Checksum verdicts of recent Bitcoin candidates: about one hex digest in sixty is also a Base58 run led by 1 or 3,
// and the same digests recur; bounded and with detached keys like V6_SEEN below.
const BTC_SEEN = new Map<string, boolean>();

function bitcoinChecksum(a: string): boolean {
  let ok = BTC_SEEN.get(a);
  if (ok === undefined) {
    ok = validateBitcoin(a);
    if (BTC_SEEN.size >= 4096) BTC_SEEN.clear();
    BTC_SEEN.set(own(a), ok);
  }
  return ok;
}

// The canonical form of recently seen IPv6 candidates (null: not an address). Hosts talk to the same few peers, and
// ipaddr.js validation, parsing and RFC 5952 printing cost microseconds each; keys are copies (./own.ts), the cache
// is emptied when full, so it stays small whatever the input.
const V6_SEEN = new Map<string, string | null>();
const V6_SEEN_MAX = 4096;

function validIpv6(s: string): string | undefined {
  let v = V6_SEEN.get(s);
  if (v === undefined) {
    v = parseIpv6(s) ?? null;
    if (V6_SEEN.size >= V6_SEEN_MAX) V6_SEEN.clear();
    V6_SEEN.set(own(s), v);
  }
  return v ?? undefined;
}

function parseIpv6(s: string): string | undefined {
  const addr = s.split("%")[0]!;
  if (!/\d/.test(addr) || !/::|(?:[0-9a-f]{1,4}:){7}/i.test(addr)) return undefined; // times and MACs have neither
  if (addr === "::" || !ipaddr.IPv6.isValid(addr)) return undefined;
  return ipaddr.IPv6.parse(addr).toString();
}

// Prefetch files are named EXECUTABLE-PATHHASH.pf (8 hex digits of the path hash), and .pf is also a TLD: validDomain
// rejects them.

/**
 * Whether `d` is a domain name worth reporting. Called for every name that ends in a TLD, so it reads the labels in
 * place rather than splitting them and testing each with regexes (the tests keep that form as the reference).
 */
export function validDomain(d: string, fileNamesPossible = true): boolean {
  return validDomainSpan(d, 0, d.length, fileNamesPossible);
}

/** validDomain of text[start, end), without cutting it out. */
function validDomainSpan(text: string, start: number, end: number, fileNamesPossible = true): boolean {
  // A Prefetch file name: -[0-9a-f]{8}\.pf at the end, in any case.
  if (end - start >= 12 && text.charCodeAt(end - 12) === 45 && text.charCodeAt(end - 3) === 46 && (text.charCodeAt(end - 2) | 32) === 112 && (text.charCodeAt(end - 1) | 32) === 102 && isHexSpan(text, end - 11, end - 3)) return false;
  let lastDot = end - 1;
  while (lastDot >= start && text.charCodeAt(lastDot) !== 46) lastDot--;
  if (lastDot < start) return false;
  if (!inSpanSet(TLD_SET, text, lastDot + 1, end)) return false;
  if (fileNamesPossible && text.indexOf(".", start) === lastDot && inSpanSet(FILE_LIKE_SET, text, lastDot + 1, end)) return false;
  // Dotted identifiers from code and Velociraptor itself (System.Net.Http, Generic.Client.Info) are PascalCase: every
  // label an upper-case letter then a lower-case letter or digit. No label over 63 characters or with an outer "-",
  // and a letter in some label before the TLD. (Characters past `end` are never read: each test is guarded.)
  let pascal = true;
  let letter = false;
  for (let from = start; from <= end; ) {
    let to = text.indexOf(".", from);
    if (to === -1 || to > end) to = end;
    const first = text.charCodeAt(from);
    const second = text.charCodeAt(from + 1);
    if (pascal && !(to - from >= 2 && first >= 65 && first <= 90 && ((second >= 97 && second <= 122) || (second >= 48 && second <= 57)))) pascal = false;
    if (to - from > 63 || (to > from && (first === 45 || text.charCodeAt(to - 1) === 45))) return false;
    if (!letter && to < end) for (let k = from; k < to && !letter; k++) letter = isAlpha(text.charCodeAt(k));
    from = to + 1;
  }
  return !pascal && letter;
}

const DIGEST_TYPES: Readonly<Record<number, IocType>> = { 32: "md5", 40: "sha1", 64: "sha256", 128: "sha512" };

/** The digest type of the run of hex digits text[start, end), or undefined. */
function hashType(text: string, start: number, end: number): IocType | undefined {
  // A real digest has both letters and digits (and so is not a run of one character).
  let letter = false;
  let digit = false;
  for (let k = start; k < end && !(letter && digit); k++) {
    const c = text.charCodeAt(k);
    if (c >= 48 && c <= 57) digit = true;
    else letter = true;
  }
  return letter && digit ? DIGEST_TYPES[end - start] : undefined;
}

// What trimUrl drops from a URL's end: /[.,;:!?'"]+$/.
const URL_TRAIL = new Set([...".,;:!?'\""].map((c) => c.charCodeAt(0)));

function trimUrl(u: string): string {
  // Most URLs end in none of these or a bracket: then there is nothing to trim (the end-anchored regex tried every
  // position of every URL).
  const lastChar = u.charCodeAt(u.length - 1);
  if (!URL_TRAIL.has(lastChar) && lastChar !== 41 && lastChar !== 93) return u;
  let out = u.replace(/[.,;:!?'"]+$/, "");
  // Drop a closing bracket that belongs to the surrounding prose, not the URL.
  while (/[)\]]$/.test(out) && (out.match(/[([]/g)?.length ?? 0) < (out.match(/[)\]]/g)?.length ?? 0)) out = out.slice(0, -1);
  return out;
}

/**
 * The host name of a URL found by urlSpans, as the WHATWG parser (new URL) gives it, without its IPv6 brackets.
 * Most hosts are plain names: ASCII letters, digits, dots and inner hyphens, ending in a label that starts with a
 * letter (so the parser's IPv4 reading does not apply) and followed by the path, query, fragment or the end. For
 * those the parser only lower-cases, so that is done here; every other host (a port, user info, "%", "[", a
 * punycode label, an empty or long label, anything not ASCII) goes to the parser. The per-URL parse was a tenth of
 * the extraction time on result rows full of URLs; test/dfir/analysis/iocs-scan.test.ts compares the two.
 */
export function hostOf(url: string): string | undefined {
  const sep = url.indexOf("://");
  const start = sep + 3;
  let end = start;
  let label = start;
  let upper = false;
  for (; end < url.length; end++) {
    const c = url.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break; // / ? #
    if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57)) continue;
    if (c >= 65 && c <= 90) upper = true;
    else if (c === 46 /* . */ && end > label && url.charCodeAt(end - 1) !== 45) label = end + 1;
    else if (c !== 45 /* - */ || end === label) return hostOfParsed(url);
  }
  const last = url.charCodeAt(label) | 32;
  if (sep === -1 || end === label || url.charCodeAt(end - 1) === 45 || last < 97 || last > 122 || end - start > 253 || !plainLabels(url, start, end)) return hostOfParsed(url);
  const host = url.slice(start, end);
  return upper ? host.toLowerCase() : host;
}

/** No label longer than 63 characters and none a punycode ("xn--") label: both are the IDNA mapping's to judge. */
function plainLabels(url: string, start: number, end: number): boolean {
  for (let from = start; from < end; ) {
    let dot = url.indexOf(".", from);
    if (dot === -1 || dot > end) dot = end;
    if (dot - from > 63 || ((url.charCodeAt(from) | 32) === 120 && (url.charCodeAt(from + 1) | 32) === 110 && url.charCodeAt(from + 2) === 45 && url.charCodeAt(from + 3) === 45)) return false;
    from = dot + 1;
  }
  return true;
}

/** hostOf through the WHATWG parser. */
export function hostOfParsed(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, "");
  } catch {
    return undefined;
  }
}

const notWord = (c: number) => !isWord(c);
// A POSIX path is not one when glued to a word, a dotted name, a drive or URL ("c:/", "://"), "~" or "-".
const notPathChar = (c: number) => !isWord(c) && c !== 46 && c !== 58 && c !== 47 && c !== 126 && c !== 45;

/**
 * Windows paths (RE.windowsPath, matched by ./scan.ts windowsPathEnd), tried only where a root can start. Every root holds a backslash,
 * so one pass over the backslashes finds them all: a drive (C:\ or \\?\C:\), a UNC share (\\), %VAR%\ or \Device\.
 */
function windowsPaths(text: string, fn: SpanFn): void {
  // Roots in the order found: almost always ascending (then no sort), a duplicate right after its twin.
  const starts: number[] = [];
  let ascending = true;
  const add = (start: number) => {
    const last = starts.length ? starts[starts.length - 1]! : -Infinity;
    if (start === last) return;
    if (start < last) ascending = false;
    starts.push(start);
  };
  for (let k = text.indexOf("\\"); k !== -1; k = text.indexOf("\\", k + 1)) {
    const before = text.charCodeAt(k - 1);
    if (before === 58 /* : */) add(k >= 6 && text.startsWith("\\\\?\\", k - 6) ? k - 6 : k - 2);
    else if (before === 37 /* % */) {
      const p = text.lastIndexOf("%", k - 2);
      if (p !== -1 && k - 1 - p < 40) add(p);
    }
    const next = text.charCodeAt(k + 1);
    if (next === 92 /* \ */ || (next === 68 /* D */ && text.startsWith("\\Device\\", k))) add(k);
  }
  if (!ascending) starts.sort((a, b) => a - b);
  let coveredTo = -1;
  let previous = NaN;
  for (const start of starts) {
    if (start === previous) continue;
    previous = start;
    if (start < 0 || start < coveredTo || (start > 0 && isWord(text.charCodeAt(start - 1)))) continue;
    const pathEnd = windowsPathEnd(text, start);
    if (pathEnd === -1) continue;
    coveredTo = pathEnd;
    // Trailing dots end the sentence, not the path.
    let end = coveredTo;
    while (end > start && text.charCodeAt(end - 1) === 46) end--;
    if (end - start > 3) fn(start, end);
  }
}

/** Emails found from each "@": the local part by walking left, the domain with a sticky pattern; [start, end). */
function emails(text: string, fn: SpanFn): void {
  for (let at = text.indexOf("@"); at !== -1; at = text.indexOf("@", at + 1)) {
    let start = at;
    while (start > 0 && at - start < 64 && isLocalChar(text.charCodeAt(start - 1))) start--;
    while (start < at && !isAlnum(text.charCodeAt(start))) start++; // no leading dot or symbol
    if (start === at) continue;
    RE.emailDomain.lastIndex = at + 1;
    const m = RE.emailDomain.exec(text);
    if (m && validDomainSpan(text, at + 1, at + 1 + m[0].length, false)) fn(start, at + 1 + m[0].length);
  }
}

/** /[\w@/\\%]/: a character that makes a dotted name before it part of something else. */
const isDomainStop = (c: number) => isWord(c) || c === 64 || c === 47 || c === 92 || c === 37;

/** Domains found from their last label (only a real TLD makes it worth walking left for the rest); [start, end). */
function domains(text: string, fn: SpanFn): void {
  // lastLabelSpans without a tuple per dot: most dots in result rows end a file name, a version or a time.
  for (let dot = text.indexOf("."), end = 0; dot !== -1; dot = text.indexOf(".", end === -1 ? dot + 1 : end)) {
    end = lastLabelEnd(text, dot);
    if (end === -1) continue;
    if (!inSpanSet(TLD_SET, text, dot + 1, end)) continue;
    let start = dot;
    while (start > 0 && isHostChar(text.charCodeAt(start - 1))) start--;
    // Preceded by these, it is part of an email, a path, a URL-encoded value (%40 = @) or a longer token.
    if (start > 0 && isDomainStop(text.charCodeAt(start - 1))) continue;
    // Leading dots and hyphens are not part of the name; a name holds a dot but no two in a row.
    while (start < dot && (text.charCodeAt(start) === 46 || text.charCodeAt(start) === 45)) start++;
    if (start === dot) continue;
    let k = start + 1;
    while (k <= dot && !(text.charCodeAt(k) === 46 && text.charCodeAt(k - 1) === 46)) k++;
    if (k <= dot) continue;
    if (validDomainSpan(text, start, end)) fn(start, end);
  }
}

/** IPv6: every "::"-compressed candidate (expanded around the "::") and every full eight-group form. */
function* ipv6s(text: string): Generator<string> {
  let lastEnd = -1;
  for (let i = text.indexOf("::"); i !== -1; i = text.indexOf("::", Math.max(i + 2, lastEnd))) {
    let start = i;
    let end = i + 2;
    while (start > 0 && isV6Char(text.charCodeAt(start - 1))) start--;
    while (end < text.length && isV6Char(text.charCodeAt(end))) end++;
    lastEnd = end;
    if ((start > 0 && isWord(text.charCodeAt(start - 1))) || (end < text.length && isWord(text.charCodeAt(end)) && text[end] !== "%")) continue;
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

/**
 * Receives each indicator occurrence as found, as the span text[start, end) of a text (the scanned one, or a string
 * of its own for a value that is not a plain span: an IPv6 address in its canonical form, an expanded registry
 * hive). Its value is indicatorValue(type, text, start, end); `text` may be the scanned text (copy what you keep).
 * Spans spare the aggregator a string per occurrence: most occurrences are of values it has seen.
 */
export type IndicatorSink = (type: IocType, text: string, start: number, end: number) => void;

// Types whose value is reported lower-cased (hosts, hex digests) or upper-cased (CVE ids).
const LOWER_CASE: ReadonlySet<IocType> = new Set(["domain", "email", "md5", "sha1", "sha256", "sha512"]);

/** The value of an occurrence given to an IndicatorSink. */
export function indicatorValue(type: IocType, text: string, start: number, end: number): string {
  const v = text.slice(start, end);
  return LOWER_CASE.has(type) ? v.toLowerCase() : type === "cve" ? v.toUpperCase() : v;
}

/**
 * Whether two values of `type` that differ only in case are one indicator: those reported in one case, and Windows
 * paths (NTFS and the Win32 API are case-insensitive: C:\Users\Bob\upd.exe and c:\users\bob\UPD.EXE are one,
 * shown in the first spelling seen).
 */
export function caseInsensitive(type: IocType): boolean {
  return LOWER_CASE.has(type) || type === "cve" || type === "windows_path";
}

/** Every indicator in `text`, in order of type then position; duplicates are kept (the aggregator counts them). */
export function extractIndicators(input: string, opts: ExtractOptions = {}): Indicator[] {
  const out: Indicator[] = [];
  scanIndicators(input, opts, (type, text, start, end) => out.push({ type, value: indicatorValue(type, text, start, end) }));
  return out;
}

/**
 * extractIndicators without an object per occurrence: `emit` gets each one, in the same order (type, then position).
 * The aggregator counts through this, so the common case (a value seen before) allocates nothing for the indicator.
 */
export function scanIndicators(input: string, opts: ExtractOptions, emit: IndicatorSink): void {
  const text = refang(input);
  const want = (t: IocType) => !opts.types || opts.types.has(t);
  const urlHosts = new Set<string>();
  const domainsFound = new Set<string>();

  if (want("url"))
    forEachUrlSpan(text, (start, end) => {
      const url = trimUrl(text.slice(start, end));
      const host = hostOf(url);
      if (!host) return;
      emit("url", text, start, start + url.length);
      urlHosts.add(host.toLowerCase());
    });
  if (want("email")) emails(text, (start, end) => emit("email", text, start, end));
  if (want("ipv4"))
    forEachIpv4Span(text, (start, end) => {
      // The tail of an IPv4-mapped IPv6 address (::ffff:192.0.2.1) belongs to that address.
      if (text.charCodeAt(start - 1) === 58 && isHexOrColon(text.charCodeAt(start - 2))) return;
      if (validIpv4(text, start, end)) emit("ipv4", text, start, end);
    });
  if (want("ipv6")) for (const v of ipv6s(text)) emit("ipv6", v, 0, v.length);
  if (want("domain"))
    domains(text, (start, end) => {
      emit("domain", text, start, end);
      if (urlHosts.size) domainsFound.add(text.slice(start, end).toLowerCase());
    });
  // Hosts of URLs count as domains too (a URL's domain is the pivot most analysts want).
  if (want("domain") && urlHosts.size) {
    // No address passes validDomain (its last label must be a TLD, which starts with a letter; every ipaddr.js
    // IPv4 part and IPv6 tail starts with a digit or holds a colon), so address hosts need no parse here.
    for (const h of urlHosts) if (validDomain(h) && !domainsFound.has(h)) emit("domain", h, 0, h.length);
  }
  // Hashes and legacy Bitcoin addresses are both whole alphanumeric runs: one pass finds both, and the addresses
  // (checksummed, rare) wait until their turn in the order of types.
  const wantHash = want("md5") || want("sha1") || want("sha256") || want("sha512");
  const wantBitcoin = want("bitcoin");
  const legacy: string[] = [];
  if (wantHash || wantBitcoin)
    forEachAlnumRun(text, wantBitcoin ? 26 : 32, (start, end) => {
      const len = end - start;
      // hashType accepts only these lengths, so a run of another length (or with a non-hex letter) is not a hash.
      if (wantHash && (len === 32 || len === 40 || len === 64 || len === 128) && isHexSpan(text, start, end)) {
        const t = hashType(text, start, end);
        if (t && want(t)) emit(t, text, start, end);
      }
      if (wantBitcoin && base58Run(text, start, end)) legacy.push(text.slice(start, end));
    });
  const anchors = want("cve") || want("registry_key") || want("bitcoin") ? caseInsensitiveAnchors(text) : undefined;
  if (want("cve")) for (const m of anchoredMatches(text, anchors!.cve, AT.cve, notWord)) emit("cve", text, m.index, m.index + m[0].length);
  if (want("windows_path") && text.includes("\\")) windowsPaths(text, (start, end) => emit("windows_path", text, start, end));
  if (want("posix_path"))
    for (const m of anchoredMatches(text, "/", AT.posixPath, notPathChar)) {
      const before = text.slice(Math.max(0, m.index - 3), m.index);
      if (before.endsWith(":/") || before.endsWith("//")) continue; // inside a URL
      let end = m.index + m[0].length;
      while (text.charCodeAt(end - 1) === 46) end--; // trailing dots end the sentence
      emit("posix_path", text, m.index, end);
    }
  if (want("registry_key"))
    for (const m of anchoredMatches(text, anchors!.hk, AT.registry, notWord)) {
      // The pattern puts a backslash right after the hive: the hive is expanded, the rest kept as written.
      const cut = m[0].indexOf("\\");
      const hive = m[0].slice(0, cut).toUpperCase();
      const key = (HIVES[hive] ?? hive) + m[0].slice(cut);
      emit("registry_key", key, 0, key.length);
    }
  if (want("bitcoin")) {
    for (const a of legacy) if (bitcoinChecksum(a)) emit("bitcoin", a, 0, a.length);
    for (const m of anchoredMatches(text, anchors!.bc1, AT.bitcoinBech32, (c) => !isAlnum(c))) {
      const a = m[0].toLowerCase();
      if (bitcoinChecksum(a)) emit("bitcoin", a, 0, a.length);
    }
  }
}
