/**
 * Candidate finders for ./extract.ts: each finds exactly the spans its pattern in ./patterns.ts would (the tests
 * check them against those patterns on randomised text), but jumps between anchor characters with indexOf instead
 * of trying the pattern at every position. A pattern that opens with \b or a lookbehind defeats the regex engine's
 * own skip-ahead, so those passes cost a match attempt per character; on 200 MB that was most of the extraction time.
 */

// Character classes as bits, ASCII only: JavaScript's \w, \d and \b without the u flag are ASCII-only too.
const DIGIT = 1;
const HEX = 2;
const ALPHA = 4;
/** \w: [A-Za-z0-9_] */
const WORD = 8;
/** A host name character: [A-Za-z0-9.-] */
const HOST = 16;
/** A domain label character: [A-Za-z0-9-] */
const LABEL = 32;
/** The Base58 alphabet of legacy Bitcoin addresses: no 0, O, I or l. */
const B58 = 64;
/** A character an email's local part may hold: [A-Za-z0-9._%+-] */
const LOCAL = 128;
/** A character an IPv6 address may hold (with an embedded IPv4 tail): [0-9A-Fa-f:.] */
const V6 = 256;

const CLASS = new Uint16Array(128);
const mark = (chars: string, bit: number) => {
  for (const c of chars) CLASS[c.charCodeAt(0)]! |= bit;
};
const DIGITS = "0123456789";
const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = UPPER.toLowerCase();
mark(DIGITS, DIGIT | WORD | HOST | LABEL | LOCAL | HEX | V6);
mark(UPPER + LOWER, ALPHA | WORD | HOST | LABEL | LOCAL);
mark("abcdefABCDEF", HEX | V6);
mark("_", WORD);
mark(".", HOST | LOCAL | V6);
mark("-", HOST | LABEL | LOCAL);
mark("%+", LOCAL);
mark(":", V6);
mark("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz", B58);

const has = (c: number, bit: number) => c < 128 && (CLASS[c]! & bit) !== 0;
export const isDigit = (c: number) => c >= 48 && c <= 57;
export const isWord = (c: number) => has(c, WORD);
export const isHostChar = (c: number) => has(c, HOST);
export const isLocalChar = (c: number) => has(c, LOCAL);
export const isV6Char = (c: number) => has(c, V6);
export const isAlnum = (c: number) => has(c, DIGIT | ALPHA);
export const isAlpha = (c: number) => has(c, ALPHA);
const isHex = (c: number) => has(c, HEX);

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

/**
 * Receives each span [start, end) a finder found. The finders extract.ts runs call one of these rather than yield:
 * a generator allocates a tuple and an iterator result per span, garbage the collector then spent a sixth of the
 * extraction on. Each finder's generator form below (what the tests compare with the patterns) collects the same.
 */
export type SpanFn = (start: number, end: number) => void;

function* spansOf(find: (text: string, fn: SpanFn) => void, text: string): Generator<[number, number]> {
  const out: [number, number][] = [];
  find(text, (start, end) => out.push([start, end]));
  yield* out;
}

/**
 * Maximal alphanumeric runs of at least `min` characters (bounded by non-alphanumerics), with the same skip-ahead as
 * hexRuns. Hashes and legacy Bitcoin addresses are both such runs, so extract.ts finds them in one pass: a hash is a
 * run that is all hex (hexRuns' runs exactly), an address one that base58Run accepts.
 */
export function alnumRuns(text: string, min: number): Generator<[number, number]> {
  return spansOf((t, fn) => forEachAlnumRun(t, min, fn), text);
}

/** alnumRuns, each given to `fn`. */
export function forEachAlnumRun(text: string, min: number, fn: SpanFn): void {
  // Invariant at the top of the loop: text[i - 1] is not alphanumeric (or i = 0), so a run found at i starts at i.
  let i = 0;
  while (i + min <= text.length) {
    const far = i + min - 1;
    if (!isAlnum(text.charCodeAt(far))) {
      i = far + 1;
      continue;
    }
    let start = far;
    while (start > i && isAlnum(text.charCodeAt(start - 1))) start--;
    if (start > i) {
      i = start;
      continue;
    }
    let end = far + 1;
    while (end < text.length && isAlnum(text.charCodeAt(end))) end++;
    fn(i, end);
    i = end + 1;
  }
}

/** Whether text[start, end) is all hex. */
export function isHexSpan(text: string, start: number, end: number): boolean {
  let k = start;
  while (k < end && isHex(text.charCodeAt(k))) k++;
  return k === end;
}

/** Whether a whole alphanumeric run is a legacy Bitcoin address candidate: 26–35 Base58 characters led by 1 or 3. */
export function base58Run(text: string, start: number, end: number): boolean {
  const first = text.charCodeAt(start);
  if (end - start < 26 || end - start > 35 || (first !== 49 && first !== 51)) return false;
  let k = start + 1;
  while (k < end && has(text.charCodeAt(k), B58)) k++;
  return k === end;
}

/**
 * Legacy (Base58) Bitcoin address spans, as /(?<![0-9A-Za-z])[13][Base58]{25,34}(?![0-9A-Za-z])/g finds them: a
 * maximal alphanumeric run of 26–35 characters, starting with 1 or 3, all Base58. Found with the same skip-ahead as
 * hexRuns over alphanumerics (a digit-led regex with a lookbehind tried every 1 and 3 in the text).
 */
export function* base58Runs(text: string): Generator<[number, number]> {
  for (const [start, end] of alnumRuns(text, 26)) if (base58Run(text, start, end)) yield [start, end];
}

/**
 * Dotted-quad spans as /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)/g finds them. Every octet is a whole digit
 * run (a shorter one would leave a digit before the dot), so each candidate is decided without backtracking, found
 * from the dot after its first octet.
 */
export function ipv4Spans(text: string): Generator<[number, number]> {
  return spansOf(forEachIpv4Span, text);
}

/** ipv4Spans, each given to `fn`. */
export function forEachIpv4Span(text: string, fn: SpanFn): void {
  for (let dot = text.indexOf("."); dot !== -1; ) {
    let start = dot;
    while (start > 0 && isDigit(text.charCodeAt(start - 1))) start--;
    const prev = text.charCodeAt(start - 1);
    const end = dot - start >= 1 && dot - start <= 3 && prev !== 46 && !isDigit(prev) ? dottedQuadEnd(text, start) : -1;
    if (end === -1) dot = text.indexOf(".", dot + 1);
    else {
      fn(start, end);
      dot = text.indexOf(".", end);
    }
  }
}

/** The end of a dotted quad starting at `start`, or -1. */
function dottedQuadEnd(text: string, start: number): number {
  let i = start;
  for (let octet = 0; octet < 4; octet++) {
    const from = i;
    while (i < text.length && isDigit(text.charCodeAt(i))) i++;
    if (i === from || i - from > 3) return -1;
    if (octet < 3) {
      if (text.charCodeAt(i) !== 46) return -1;
      i++;
    }
  }
  // Not the start of a longer dotted number: no digit, and no ".digit", after the last octet.
  if (text.charCodeAt(i) === 46 && isDigit(text.charCodeAt(i + 1))) return -1;
  return i;
}

const lower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);

/** Whether `text` holds the lower-case ASCII `word` at `at`, in any case. */
function wordAt(text: string, at: number, word: string): boolean {
  if (at < 0) return false;
  for (let k = 0; k < word.length; k++) if (lower(text.charCodeAt(at + k)) !== word.charCodeAt(k)) return false;
  return true;
}

// The characters /[^\s"'<>`|\\^{}]/ excludes from a URL, \s being JavaScript's white space (Unicode spaces included).
const URL_STOP = new Set([..." \t\n\v\f\r\"'<>`|\\^{}\u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff"].map((c) => c.charCodeAt(0)));
// The ASCII stops as a table: a Set lookup per character of every URL was a fifth of the URL pass.
const URL_STOP_ASCII = new Uint8Array(128);
for (const c of URL_STOP) if (c < 128) URL_STOP_ASCII[c] = 1;
const isUrlChar = (c: number) => (c < 128 ? URL_STOP_ASCII[c] === 0 : !URL_STOP.has(c) && !(c >= 0x2000 && c <= 0x200a));

/**
 * URL spans as /\b(?:https?|ftp):\/\/[^\s"'<>`|\\^{}]+/gi finds them, found from each "://": a scheme right before
 * it (not glued to a word) and at least one URL character after. A "://" inside a URL already found is part of it.
 */
export function urlSpans(text: string): Generator<[number, number]> {
  return spansOf(forEachUrlSpan, text);
}

/** urlSpans, each given to `fn`. */
export function forEachUrlSpan(text: string, fn: SpanFn): void {
  let from = 0;
  for (let sep = text.indexOf("://"); sep !== -1; sep = text.indexOf("://", from)) {
    const start = wordAt(text, sep - 5, "https") ? sep - 5 : wordAt(text, sep - 4, "http") ? sep - 4 : wordAt(text, sep - 3, "ftp") ? sep - 3 : -1;
    let end = sep + 3;
    while (end < text.length && isUrlChar(text.charCodeAt(end))) end++;
    if (start === -1 || isWord(text.charCodeAt(start - 1)) || end === sep + 3) {
      from = sep + 1;
      continue;
    }
    fn(start, end);
    from = end;
  }
}

/**
 * The last label of each possible domain, as /\.([A-Za-z][A-Za-z0-9-]{1,62})(?![\w-]|\.\w)/g finds them: [dot, end)
 * of a whole label of 2–63 characters starting with a letter, not followed by "_" or by a dot and a word character.
 */
export function* lastLabelSpans(text: string): Generator<[number, number]> {
  for (let dot = text.indexOf("."); dot !== -1; dot = text.indexOf(".", dot + 1)) {
    const end = lastLabelEnd(text, dot);
    if (end === -1) continue;
    yield [dot, end];
    dot = end - 1;
  }
}

/** The end of the last label starting after the dot at `dot`, as lastLabelSpans finds it, or -1 (no tuple made). */
export function lastLabelEnd(text: string, dot: number): number {
  if (!has(text.charCodeAt(dot + 1), ALPHA)) return -1;
  let end = dot + 2;
  while (end < text.length && has(text.charCodeAt(end), LABEL)) end++;
  const len = end - dot - 1;
  if (len < 2 || len > 63) return -1;
  const next = text.charCodeAt(end);
  if (next === 95 || (next === 46 && isWord(text.charCodeAt(end + 1)))) return -1;
  return end;
}

/**
 * Where the sticky regex `re` (a pattern without its leading boundary check) matches, tried only at the positions
 * of `anchor` (a string found with indexOf, a global regex for a case-insensitive prefix, or ascending positions
 * found beforehand) where `boundary` holds for the character before. Matches never overlap: the search resumes
 * after each, as a global regex's would.
 */
export function* anchoredMatches(text: string, anchor: string | RegExp | readonly number[], re: RegExp, boundary: (before: number) => boolean): Generator<RegExpExecArray> {
  let k = 0;
  const next =
    typeof anchor === "string"
      ? (from: number) => text.indexOf(anchor, from)
      : anchor instanceof RegExp
        ? (from: number) => ((anchor.lastIndex = from), anchor.exec(text)?.index ?? -1)
        : (from: number) => {
            while (k < anchor.length && anchor[k]! < from) k++;
            return k < anchor.length ? anchor[k]! : -1;
          };
  for (let at = next(0); at !== -1; ) {
    re.lastIndex = at;
    const m = boundary(text.charCodeAt(at - 1)) ? re.exec(text) : null;
    if (m) yield m;
    at = next(m ? at + m[0].length : at + 1);
  }
}

const CI_ANCHORS = /cve-|hk|bc1/gi;

/**
 * Where /cve-/gi, /hk/gi and /bc1/gi match, found in one pass of their alternation (none of the three can start
 * inside a match of another, so the alternation finds each one's matches exactly). It replaces a lower-cased copy
 * of every text searched three times.
 */
export function caseInsensitiveAnchors(text: string): { cve: number[]; hk: number[]; bc1: number[] } {
  const out = { cve: [] as number[], hk: [] as number[], bc1: [] as number[] };
  CI_ANCHORS.lastIndex = 0;
  for (let m = CI_ANCHORS.exec(text); m; m = CI_ANCHORS.exec(text)) {
    const c = m[0].charCodeAt(0) | 32;
    (c === 99 ? out.cve : c === 104 ? out.hk : out.bc1).push(m.index);
  }
  return out;
}

// Characters a Windows path component cannot hold (RE.windowsPath's [^\\/:*?"<>|\r\n\t ]), and those its last
// component cannot end on either (its [^\\/:*?"<>|\r\n\t ,;')\]]).
const NOT_IN_PATH = new Uint8Array(128);
for (const c of '\\/:*?"<>|\r\n\t ') NOT_IN_PATH[c.charCodeAt(0)] = 1;
const NOT_IN_LAST = NOT_IN_PATH.slice();
for (const c of ",;')]") NOT_IN_LAST[c.charCodeAt(0)] = 1;
const inPath = (c: number) => c >= 128 || (c === c && NOT_IN_PATH[c] === 0);
const inLast = (c: number) => c >= 128 || (c === c && NOT_IN_LAST[c] === 0);
/** [\w.$-], a UNC server or share name character. */
const isShareChar = (c: number) => isWord(c) || c === 46 || c === 36 || c === 45;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** The end of the root RE.windowsPath accepts at `at` (its first alternative that matches), or -1. */
function windowsRootEnd(text: string, at: number): number {
  const c = text.charCodeAt(at);
  if (isLetter(c)) return text.charCodeAt(at + 1) === 58 && text.charCodeAt(at + 2) === 92 ? at + 3 : -1; // C:\
  if (c === 37 /* % */) {
    let k = at + 1;
    while (isLetter(text.charCodeAt(k)) || text.charCodeAt(k) === 95) k++;
    return k > at + 1 && text.charCodeAt(k) === 37 && text.charCodeAt(k + 1) === 92 ? k + 2 : -1; // %VAR%\
  }
  if (c !== 92) return -1;
  if (text.charCodeAt(at + 1) === 92) {
    if (text.startsWith("?\\", at + 2) && isLetter(text.charCodeAt(at + 4)) && text.startsWith(":\\", at + 5)) return at + 7; // \\?\C:\
    let k = at + 2; // \\server\share\
    while (isShareChar(text.charCodeAt(k))) k++;
    if (k === at + 2 || text.charCodeAt(k) !== 92) return -1;
    const share = ++k;
    while (isShareChar(text.charCodeAt(k))) k++;
    return k > share && text.charCodeAt(k) === 92 ? k + 1 : -1;
  }
  if (!text.startsWith("\\Device\\HarddiskVolume", at)) return -1; // \Device\HarddiskVolumeN\
  let k = at + 22;
  while (isDigit(text.charCodeAt(k))) k++;
  return k > at + 22 && text.charCodeAt(k) === 92 ? k + 1 : -1;
}

/**
 * The end of the Windows path RE.windowsPath (without its lookbehind) matches at `at`, or -1, found without the
 * regex: the root, then as many "component\" as follow (a component is path characters with single spaces inside),
 * then the last component. The star over components never gives one back (a component holds no backslash, and the
 * last component may be empty), so each is decided where it ends. test/dfir/analysis/iocs-scan.test.ts compares
 * the two at every position of random text.
 */
export function windowsPathEnd(text: string, at: number): number {
  let p = windowsRootEnd(text, at);
  if (p === -1) return -1;
  for (;;) {
    let q = p;
    for (;;) {
      const c = text.charCodeAt(q);
      if (inPath(c)) q++;
      else if (c === 32 && q > p && inPath(text.charCodeAt(q + 1))) q += 2;
      else break;
    }
    if (q === p || text.charCodeAt(q) !== 92) break;
    p = q + 1;
  }
  while (inLast(text.charCodeAt(p))) p++;
  return p;
}
