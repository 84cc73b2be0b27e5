/**
 * Indicator patterns and refanging. Each pattern finds candidates cheaply; the validators in ./extract.ts decide.
 * Patterns are module-level /g regexes reused with lastIndex reset, so scanning allocates only the matches.
 */

export const IOC_TYPES = ["ipv4", "ipv6", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "windows_path", "posix_path", "registry_key", "cve", "bitcoin"] as const;
export type IocType = (typeof IOC_TYPES)[number];

// Defanged forms seen in reports and tickets: hxxp://, [.] (.) {.} [dot] (dot), [@] [at] (at), [:]//, " dot ". The
// markers are looked for case-sensitively; once one is present, every form below is replaced in any case.
const REFANG_SCHEME = /hxxp(s?)(?:\[:\]\/\/|:\/\/|\[:\/\/\])|fxp(?:\[:\]\/\/|:\/\/)/gi;
const REFANG_BRACKET = /[[({](?:\.|dot|@|at|:|:\/\/)[\])}]/gi;
const MAY_HAVE_SCHEME = /xp/i;
const SPACED = /\s([[({](?:\.|dot|@|at)[\])}])\s?|([[({](?:\.|dot|@|at)[\])}])\s/gi;

const schemeToken = (m: string, s: string): string => ((m.charCodeAt(0) | 32) === 104 /* h */ ? `http${s}://` : "ftp://");

/** What a bracketed token stands for: "[:]" a colon, "[://]" a scheme separator, "@" or "at" inside an "@". */
function bracketToken(m: string): string {
  const l = m.toLowerCase();
  if (l === "[://]") return "://";
  if (l === "[:]") return ":";
  return l.includes("@") || l.includes("at") ? "@" : ".";
}

// The bracketed markers by their opening character.
const BRACKET_MARKERS: Readonly<Record<string, readonly string[]>> = {
  "[": ["[.]", "[dot]", "[@]", "[at]", "[:]", "[://]"],
  "(": ["(.)", "(dot)", "(at)"],
  "{": ["{.}", "{dot}"],
};

const isCloser = (c: number) => c === 93 || c === 41 || c === 125; // ] ) }
const lower = (c: number) => c | 32; // exact for the ASCII letters compared below; /i maps no other character to them

/** The length of the bracketed token REFANG_BRACKET matches at `i` (an opening bracket), or 0. */
function bracketTokenLength(text: string, i: number): number {
  const c = text.charCodeAt(i + 1);
  if (c === 46 /* . */ || c === 64 /* @ */) return isCloser(text.charCodeAt(i + 2)) ? 3 : 0;
  if (lower(c) === 100 /* d */) return lower(text.charCodeAt(i + 2)) === 111 && lower(text.charCodeAt(i + 3)) === 116 && isCloser(text.charCodeAt(i + 4)) ? 5 : 0;
  if (lower(c) === 97 /* a */) return lower(text.charCodeAt(i + 2)) === 116 && isCloser(text.charCodeAt(i + 3)) ? 4 : 0;
  if (c !== 58 /* : */) return 0;
  if (isCloser(text.charCodeAt(i + 2))) return 3;
  return text.charCodeAt(i + 2) === 47 && text.charCodeAt(i + 3) === 47 && isCloser(text.charCodeAt(i + 4)) ? 5 : 0;
}

/**
 * refang's one search for the bracketed forms: from each opening bracket (three indexOf passes; the regex engine
 * cannot skip to a character class and tried every position), whether a case-sensitive marker is there, whether one
 * touches a space, and where REFANG_BRACKET would match (its matches cannot overlap: no token holds an opening
 * bracket after its first character). Positions, ascending, in `at`.
 */
function bracketScan(text: string, at: number[]): { marker: boolean; spaced: boolean } {
  let marker = false;
  let spaced = false;
  for (const open of "[({") {
    for (let i = text.indexOf(open); i !== -1; i = text.indexOf(open, i + 1)) {
      const len = bracketTokenLength(text, i);
      if (!len) continue;
      at.push(i);
      for (const m of BRACKET_MARKERS[open]!) {
        if (!text.startsWith(m, i)) continue;
        marker = true;
        if (text.charCodeAt(i - 1) === 32 || text.charCodeAt(i + m.length) === 32) spaced = true;
      }
    }
  }
  at.sort((x, y) => x - y);
  return { marker, spaced };
}

/** Whether hxxp, HXXP, Hxxp or fxp (case-sensitive) is in `text`, found from each "xp" and "XP". */
function schemeMarker(text: string): boolean {
  for (let i = text.indexOf("xp"); i !== -1; i = text.indexOf("xp", i + 1)) {
    const a = text.charCodeAt(i - 1);
    const b = text.charCodeAt(i - 2);
    if (a === 102 /* f */ || (a === 120 /* x */ && (b === 104 /* h */ || b === 72) /* H */)) return true;
  }
  for (let i = text.indexOf("XP"); i !== -1; i = text.indexOf("XP", i + 1)) if (text.startsWith("HX", i - 2)) return true;
  return false;
}

/**
 * Turns defanged indicators back into their real form (a cheap test first: most text has none). Where one regex
 * alternation of the scheme and the bracketed forms once ran, their matches are found apart and merged: a scheme
 * match holds a bracketed token only inside its own separator ("hxxp[:]//", which it takes whole) and no bracketed
 * token holds an h or an f, so the merged matches, left to right without overlap, are the alternation's
 * (test/dfir/analysis/iocs-scan.test.ts compares the two on random text).
 */
export function refang(text: string): string {
  const at: number[] = [];
  const { marker, spaced } = bracketScan(text, at);
  if (!marker && !schemeMarker(text) && !text.includes(" dot ")) return text;
  let out: string;
  if (spaced) {
    // "evil [.] com": drop the spaces around a bracketed marker first (rare, so by the regexes).
    out = text.replace(SPACED, (_m, a?: string, b?: string) => a ?? b ?? "");
    if (MAY_HAVE_SCHEME.test(out)) out = out.replace(REFANG_SCHEME, schemeToken);
    out = out.replace(REFANG_BRACKET, bracketToken);
  } else {
    const parts: string[] = [];
    let from = 0;
    let b = 0;
    const bracketsBefore = (end: number) => {
      for (; b < at.length && at[b]! < end; b++) {
        const i = at[b]!;
        if (i < from) continue; // inside the scheme match just taken
        const len = bracketTokenLength(text, i);
        parts.push(text.slice(from, i), bracketToken(text.slice(i, i + len)));
        from = i + len;
      }
    };
    if (MAY_HAVE_SCHEME.test(text)) {
      REFANG_SCHEME.lastIndex = 0;
      for (let m = REFANG_SCHEME.exec(text); m; m = REFANG_SCHEME.exec(text)) {
        bracketsBefore(m.index);
        parts.push(text.slice(from, m.index), schemeToken(m[0], m[1]!));
        from = m.index + m[0].length;
      }
    }
    bracketsBefore(text.length);
    parts.push(text.slice(from));
    out = parts.join("");
  }
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
