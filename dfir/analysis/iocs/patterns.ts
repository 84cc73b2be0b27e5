/**
 * Indicator patterns and refanging. Each pattern finds candidates cheaply; the validators in ./extract.ts decide.
 * Patterns are module-level /g regexes reused with lastIndex reset, so scanning allocates only the matches.
 */

export const IOC_TYPES = ["ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "windows_path", "posix_path", "registry_key", "cve", "bitcoin"] as const;
export type IocType = (typeof IOC_TYPES)[number];

// Defanged forms seen in reports and tickets: hxxp://, [.] (.) {.} [dot] (dot), [@] [at] (at), [:]//, " dot ".
const DEFANG_MARKERS = ["hxxp", "HXXP", "Hxxp", "fxp", "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", "[@]", "[at]", "(at)", "[:]", "[://]", " dot "];
// Every alternative starts with a distinctive character so the engine can skip ahead (a leading optional space or a
// lookbehind alternative made one pass over a large text the slowest step of extraction).
const REFANG = /hxxp(s?)(?:\[:\]\/\/|:\/\/|\[:\/\/\])|fxp(?:\[:\]\/\/|:\/\/)|[[({](?:\.|dot|@|at|:|:\/\/)[\])}]/gi;
const SPACED = /\s([[({](?:\.|dot|@|at)[\])}])\s?|([[({](?:\.|dot|@|at)[\])}])\s/gi;

function refangToken(m: string, s?: string): string {
  const l = m.toLowerCase();
  if (l.startsWith("hxxp")) return `http${s ?? ""}://`;
  if (l.startsWith("fxp")) return "ftp://";
  if (l === "[://]") return "://";
  if (l === "[:]") return ":";
  return l.includes("@") || l.includes("at") ? "@" : ".";
}

/** Turns defanged indicators back into their real form (a cheap test first: most text has none). */
export function refang(text: string): string {
  const found = DEFANG_MARKERS.filter((m) => text.includes(m));
  if (!found.length) return text;
  let out = text;
  // "evil [.] com": drop the spaces around a bracketed marker first (rare, so only when present).
  if (found.some((m) => /^[[({]/.test(m) && (text.includes(` ${m}`) || text.includes(`${m} `))))
    out = out.replace(SPACED, (_m, a?: string, b?: string) => a ?? b ?? "");
  out = out.replace(REFANG, refangToken);
  if (out.includes(" dot ")) out = out.replace(/([a-z0-9]) dot (?=[a-z0-9]+\b)/gi, "$1.");
  return out;
}

// The bodies of the patterns whose leading boundary (\b or a lookbehind) is checked in code by ./scan.ts: the global
// form below stays the specification (the tests compare the scanners with it), the sticky form in AT is what runs.
const POSIX_PATH = String.raw`\/(?:etc|tmp|var|usr|home|root|opt|bin|sbin|lib|lib64|dev\/shm|proc|Users|Library|Applications|System|private|boot|srv|mnt|media|run|Volumes)(?:\/[\w.@+~-]+)+\/?`;
const REGISTRY = String.raw`(?:HKEY_LOCAL_MACHINE|HKLM|HKEY_CURRENT_USER|HKCU|HKEY_USERS|HKU|HKEY_CLASSES_ROOT|HKCR|HKEY_CURRENT_CONFIG|HKCC)(?:\\(?:[^\\\r\n\t": ]+ )*[^\\\r\n\t": ]+(?=\\))*(?:\\[^\\\r\n\t" ,;')\]]+)`;
const CVE = String.raw`CVE-\d{4}-\d{4,7}\b`;
const BECH32 = String.raw`bc1[02-9ac-hj-np-z]{11,71}(?![0-9A-Za-z])`;

export const RE = {
  url: /\b(?:https?|ftp):\/\/[^\s"'<>`|\\^{}]+/gi,
  /** The domain part after an "@" (sticky: matched at each "@" found by indexOf). */
  emailDomain: /(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}\b/y,
  // Bounded by anything that would make it part of a longer dotted number (versions, OIDs).
  ipv4: /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)/g,
  /** Uncompressed IPv6 (eight groups); compressed forms are found around each "::" (see extract.ts). */
  ipv6Full: /(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])/g,
  /** The last ".label" of a possible domain; the rest is found by walking left (most text has few real TLDs). */
  tldCandidate: /\.([A-Za-z][A-Za-z0-9-]{1,62})(?![\w-]|\.\w)/g,
  /** Hex runs; boundaries are checked in code (a lookbehind here made every hex letter in prose expensive). */
  hash: /[0-9A-Fa-f]{32,}/g,
  cve: new RegExp(String.raw`\b${CVE}`, "gi"),
  // Directory components may contain single spaces ("Program Files"); the last component may not.
  windowsPath: /(?<![\w])(?:[A-Za-z]:\\|\\\\\?\\[A-Za-z]:\\|\\\\[\w.$-]+\\[\w.$-]+\\|%[A-Za-z_]+%\\|\\Device\\HarddiskVolume\d+\\)(?:[^\\/:*?"<>|\r\n\t ]+(?: [^\\/:*?"<>|\r\n\t ]+)*\\)*[^\\/:*?"<>|\r\n\t ,;')\]]*/g,
  posixPath: new RegExp(String.raw`(?<![\w.:/~-])${POSIX_PATH}`, "g"),
  registry: new RegExp(String.raw`\b${REGISTRY}`, "gi"),
  bitcoinLegacy: /(?<![0-9A-Za-z])[13][1-9A-HJ-NP-Za-km-z]{25,34}(?![0-9A-Za-z])/g,
  bitcoinBech32: new RegExp(String.raw`(?<![0-9A-Za-z])${BECH32}`, "gi"),
} as const;

/** The same patterns without their leading boundary, matched at one position (see ./scan.ts anchoredMatches). */
export const AT = {
  posixPath: new RegExp(POSIX_PATH, "y"),
  registry: new RegExp(REGISTRY, "iy"),
  cve: new RegExp(CVE, "iy"),
  bitcoinBech32: new RegExp(BECH32, "iy"),
} as const;
