/**
 * The IOC candidate finders (dfir/analysis/iocs/scan.ts) against the patterns they replace (patterns.ts RE): on
 * randomised text built from the tokens that sit on each pattern's edges, every finder returns exactly the spans its
 * global regex returns. Then the edges of the fast paths themselves: indicators at the very start and end of a text,
 * and defanged forms that only become findable after refanging.
 */
import { describe, expect, it } from "vitest";
import { createRequire } from "node:module";
import { extractIndicators, FILE_LIKE_TLDS, hostOf, hostOfParsed, validDomain } from "../../../dfir/analysis/iocs/extract.js";
import { AT, RE, refang } from "../../../dfir/analysis/iocs/patterns.js";
import { alnumRuns, anchoredMatches, base58Runs, caseInsensitiveAnchors, isHexSpan, ipv4Spans, lastLabelSpans, urlSpans, windowsPathEnd } from "../../../dfir/analysis/iocs/scan.js";

const TOKENS = [
  "1", "3", "0", "9", "12", "255", "256", "1234", ".", "..", ":", "::", "/", "//", "\\", "_", "-", "~", "@", "%", "=", " ", "\n", "\t", "\"", "'", "(", ")", "[", "]", "{", "}", "<", ">", "`", "|", "^", ",", "\u00a0", "\u2003", "é",
  "a", "Z", "x", "ab", "com", "Com", "COM", "exe", "info", "io", "-net", "pf", ".com_", ".io.x", ".net-", "evil.com", ".Info.", ".c0m", "a".repeat(62), "b".repeat(64),
  "http", "https", "HTTPS", "ftp", "sftp", "xhttp", "://", "http://", "https://a.b/c?d=e", "ftp://x",
  "cve-", "CVE-2021-44228", "CVE-2021-12345678", "cve-1999-0001", "xCVE-2020-1234",
  "hk", "HKLM", "hkcu", "HKEY_LOCAL_MACHINE", "HKU", "\\Software\\Run", "\\Run Once\\x", " HKLM\\Software\\x", " hkcu\\Run\\y", "xHKCU\\a\\b",
  "/tmp", "/etc/passwd", "/dev/shm/x", "/Users/bob", "/var/log/", "/usr", "/opt/a b",
  "bc1", "BC1", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7k",
  "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2x", "3J98t1WpEZ73CNmQviecrnyiWrnqRhWN0y", "1abcdefghijkmnopqrstuvwxyz",
  "192.168.", "10.0.0.1", "0.0.0.0", "1.2.3.4.5", "v1.2.3.4",
  "44d88612fea8a8f36de82e1278abb02f", "DA39A3EE5E6B4B0D3255BFEF95601890AFD80709", "3adf",
  // Lower-case to ASCII (the Kelvin sign) or to two characters (İ): non-ASCII letters that case folding could confuse.
  "H\u212aLM\\x\\y", "\u0130",
];

/** A deterministic 32-bit LCG (Math.imul: a float product would lose the low bits), read from its better high bits. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) >>> 8;
}

/** 1 to `most` of `parts`, drawn with `rnd` and joined. */
function joinedParts(rnd: () => number, parts: readonly string[], most: number): string {
  let t = "";
  for (let k = 1 + (rnd() % most); k > 0; k--) t += parts[rnd() % parts.length];
  return t;
}

function randomTexts(rounds: number, seed: number): string[] {
  const rnd = lcg(seed);
  return Array.from({ length: rounds }, () => joinedParts(rnd, TOKENS, 40));
}

const regexSpans = (re: RegExp, text: string) => [...text.matchAll(re)].map((m) => [m.index, m.index + m[0].length]);
const anchored = (text: string, anchor: string | RegExp | readonly number[], re: RegExp, boundary: (c: number) => boolean) => [...anchoredMatches(text, anchor, re, boundary)].map((m) => [m.index, m.index + m[0].length]);
// As extract.ts looks for case-insensitive anchors: all three kinds in one pass, before the patterns are tried.
const listed = (text: string, kind: "cve" | "hk" | "bc1", re: RegExp, boundary: (c: number) => boolean) => anchored(text, caseInsensitiveAnchors(text)[kind], re, boundary);
const notWord = (c: number) => !/\w/.test(String.fromCharCode(c)) || Number.isNaN(c);
const notAlnum = (c: number) => !/[0-9A-Za-z]/.test(String.fromCharCode(c)) || Number.isNaN(c);
const notPathChar = (c: number) => !/[\w.:/~-]/.test(String.fromCharCode(c)) || Number.isNaN(c);

describe("Windows paths are matched as their pattern matches them (randomised)", () => {
  const PATH_TOKENS = [
    "C:", "c:\\", "Z:\\", "1:\\", ":\\", "\\", "\\\\", "\\\\?\\", "\\\\?\\C:\\", "\\\\srv\\share\\", "\\\\a.b$-c\\", "%APPDATA%\\", "%a_b%", "%%\\", "%1%\\",
    "\\Device\\HarddiskVolume3\\", "\\Device\\HarddiskVolume\\", "\\Device\\", "Program Files", "Users", "x.exe", "a b", " ", "  ", ".", "..", "$", "_", "-",
    ",", ";", "'", ")", "]", "(", "[", "/", ":", "*", "?", "\"", "<", ">", "|", "\r", "\n", "\t", "\u00e9", "\u212a", "\ud83d\ude00", "x", "7",
  ];
  const sticky = new RegExp(RE.windowsPath.source, "y");

  it("windowsPathEnd ends where the sticky pattern's match ends, at every position", () => {
    const rnd = lcg(29);
    let matched = 0;
    const wrong: string[] = [];
    for (let round = 0; round < 3000; round++) {
      const t = joinedParts(rnd, PATH_TOKENS, 30);
      for (let at = 0; at < t.length; at++) {
        sticky.lastIndex = at;
        const m = sticky.exec(t);
        // The lookbehind (no word character before the root) is checked by the caller, as by the pattern.
        if (at > 0 && /\w/.test(t[at - 1]!)) continue;
        if (m) matched++;
        const want = m ? at + m[0].length : -1;
        if (windowsPathEnd(t, at) !== want) wrong.push(`${JSON.stringify(t)} at ${at}: pattern ends at ${want}, windowsPathEnd at ${windowsPathEnd(t, at)}`);
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(matched).toBeGreaterThan(1000);
  });
});

describe("candidate finders find exactly what their patterns find (randomised)", () => {
  const texts = randomTexts(3000, 17);

  it.each([
    ["ipv4Spans", RE.ipv4, (t: string) => [...ipv4Spans(t)]],
    ["urlSpans", RE.url, (t: string) => [...urlSpans(t)]],
    ["lastLabelSpans", RE.tldCandidate, (t: string) => [...lastLabelSpans(t)]],
    ["base58Runs", RE.bitcoinLegacy, (t: string) => [...base58Runs(t)]],
    // extract.ts finds hashes among the alphanumeric runs it also reads addresses from: the all-hex ones.
    ["hash runs", /(?<![0-9A-Za-z])[0-9A-Fa-f]{32,}(?![0-9A-Za-z])/g, (t: string) => [...alnumRuns(t, 26)].filter(([a, b]) => b - a >= 32 && isHexSpan(t, a, b))],
    ["anchored cve", RE.cve, (t: string) => anchored(t, /cve-/gi, AT.cve, notWord)],
    ["anchored registry", RE.registry, (t: string) => anchored(t, /hk/gi, AT.registry, notWord)],
    ["anchored posix path", RE.posixPath, (t: string) => anchored(t, "/", AT.posixPath, notPathChar)],
    ["anchored bech32", RE.bitcoinBech32, (t: string) => anchored(t, /bc1/gi, AT.bitcoinBech32, notAlnum)],
    ["listed cve", RE.cve, (t: string) => listed(t, "cve", AT.cve, notWord)],
    ["listed registry", RE.registry, (t: string) => listed(t, "hk", AT.registry, notWord)],
    ["listed bech32", RE.bitcoinBech32, (t: string) => listed(t, "bc1", AT.bitcoinBech32, notAlnum)],
  ] as const)("%s", (_name, re, find) => {
    let nonEmpty = 0;
    for (const t of texts) {
      const expected = regexSpans(re, t);
      if (expected.length) nonEmpty++;
      expect(find(t), JSON.stringify(t)).toEqual(expected);
    }
    // The random texts must exercise the pattern, not only agree on finding nothing.
    expect(nonEmpty).toBeGreaterThan(30);
  });
});

/** refang as it was before its marker search and its two passes: sixteen searches and one alternation of all forms. */
function refangReference(text: string): string {
  const markers = ["hxxp", "HXXP", "Hxxp", "fxp", "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", "[@]", "[at]", "(at)", "[:]", "[://]", " dot "];
  const found = markers.filter((m) => text.includes(m));
  if (!found.length) return text;
  let out = text;
  if (found.some((m) => /^[[({]/.test(m) && (text.includes(` ${m}`) || text.includes(`${m} `))))
    out = out.replace(/\s([[({](?:\.|dot|@|at)[\])}])\s?|([[({](?:\.|dot|@|at)[\])}])\s/gi, (_m, a?: string, b?: string) => a ?? b ?? "");
  out = out.replace(/hxxp(s?)(?:\[:\]\/\/|:\/\/|\[:\/\/\])|fxp(?:\[:\]\/\/|:\/\/)|[[({](?:\.|dot|@|at|:|:\/\/)[\])}]/gi, (m: string, s?: string) => {
    const l = m.toLowerCase();
    if (l.startsWith("hxxp")) return `http${s ?? ""}://`;
    if (l.startsWith("fxp")) return "ftp://";
    if (l === "[://]") return "://";
    if (l === "[:]") return ":";
    return l.includes("@") || l.includes("at") ? "@" : ".";
  });
  if (out.includes(" dot ")) out = out.replace(/([a-z0-9]) dot (?=[a-z0-9]+\b)/gi, "$1.");
  return out;
}

describe("refang", () => {
  it("gives what one alternation of every defanged form gave (randomised)", () => {
    const parts = ["hxxp", "HXXP", "Hxxp", "hXxP", "fxp", "FXP", "Fxp", "xp", "XP", "h", "x", "p", "s", "S", "[:]//", "[:]", "://", "[://]", "(://)", "{:}", "//", "[", "]", "(", ")", "{", "}", "[[", "]]", ".", "dot", "DOT", "Dot", "@", "at", "AT", ":", " ", "  ", "\t", "\n", "\u00a0", "evil", "com", " dot ", "a", "1", "é", "[.]", "(.)", "{.}", "[dot]", "(dot)", "{dot}", "[@]", "[at]", "(at)", "{at}", "(@)"];
    const rnd = lcg(29);
    let changed = 0;
    let spaced = 0;
    for (let round = 0; round < 20000; round++) {
      const t = joinedParts(rnd, parts, 14);
      const want = refangReference(t);
      if (want !== t) changed++;
      if (/\s[[({](?:\.|dot|@|at)[\])}]|[[({](?:\.|dot|@|at)[\])}]\s/i.test(t) && want !== t) spaced++;
      expect(refang(t), JSON.stringify(t)).toBe(want);
    }
    // The random texts must be refanged often, spaced forms included, not only left alone.
    expect(changed).toBeGreaterThan(5000);
    expect(spaced).toBeGreaterThan(500);
  });
});

describe("domain candidates", () => {
  it("are what the last-label pattern, a walk left and the regex checks found (randomised)", () => {
    const tlds = new Set((createRequire(import.meta.url)("tlds") as string[]).map((t) => t.toLowerCase()));
    // The form domains() had before its checks were written as character tests: the candidate cut, then regexes.
    const reference = (input: string) => {
      const text = refang(input);
      const out: string[] = [];
      for (const m of text.matchAll(RE.tldCandidate)) {
        if (!tlds.has(m[1]!.toLowerCase())) continue;
        let start = m.index;
        while (start > 0 && /[A-Za-z0-9.-]/.test(text[start - 1]!)) start--;
        if (start > 0 && /[\w@/\\%]/.test(text[start - 1]!)) continue;
        const candidate = text.slice(start, m.index + m[0].length).replace(/^[.-]+/, "");
        if (/\.\./.test(candidate) || !candidate.includes(".")) continue;
        if (validDomain(candidate)) out.push(candidate.toLowerCase());
      }
      return out;
    };
    const parts = ["evil", "Evil", "c2", "a", "x-y", "-", "--", ".", "..", "...", "com", "COM", "io", "biz", "pf", "exe", "zip", "Net", "System", "1", "42", " ", "\n", "@", "/", "\\", "%", "_", ":", "é", "\u00a0", "[.]", "-1a2b3c4d.pf", "q".repeat(63)];
    const rnd = lcg(53);
    let found = 0;
    for (let round = 0; round < 20000; round++) {
      const t = joinedParts(rnd, parts, 12);
      const want = reference(t);
      found += want.length;
      expect(extractIndicators(t, { types: new Set(["domain"]) }).map((i) => i.value), JSON.stringify(t)).toEqual(want);
    }
    expect(found).toBeGreaterThan(500);
  });
});

describe("the fast paths' edges", () => {
  it("finds indicators that touch the start or the end of the text", () => {
    const at = (t: string) => extractIndicators(t).map((i) => `${i.type} ${i.value}`);
    expect(at("185.220.101.4")).toEqual(["ipv4 185.220.101.4"]);
    expect(at("http://evil.biz")).toEqual(["url http://evil.biz", "domain evil.biz"]);
    expect(at("evil.biz")).toEqual(["domain evil.biz"]);
    expect(at("CVE-2021-44228")).toEqual(["cve CVE-2021-44228"]);
    expect(at("/tmp/x")).toEqual(["posix_path /tmp/x"]);
    expect(at("HKLM\\Software\\Run\\x")).toEqual(["registry_key HKEY_LOCAL_MACHINE\\Software\\Run\\x"]);
    expect(at("C:\\x\\y.exe")).toEqual(["windows_path C:\\x\\y.exe"]);
    expect(at("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2")).toEqual(["bitcoin 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"]);
    expect(at("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")).toEqual(["bitcoin bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"]);
  });

  it("finds defanged indicators whose dot or scheme only appears after refanging", () => {
    const got = extractIndicators("beacon hxxps://evil-c2[.]example-bad[.]net/gate.php to 185[.]220[.]101[.]4 and fxp://files{.}bad(.)ru").map((i) => `${i.type} ${i.value}`);
    expect(got).toEqual(["url https://evil-c2.example-bad.net/gate.php", "url ftp://files.bad.ru", "ipv4 185.220.101.4", "domain evil-c2.example-bad.net", "domain files.bad.ru"]);
  });

  it("keeps every version rule where the address check skips its regexes (only words ending v/n/r/d/e can introduce a version)", () => {
    const ips = (t: string) => extractIndicators(t).filter((i) => i.type === "ipv4").map((i) => i.value);
    expect(ips("build:1.2.3.4 release=2.3.4.5 ver.3.4.5.6 rev 4.5.6.7 Version\t5.6.7.8 v6.7.8.9 pkg7.8.9.10 BUILD  8.9.10.11")).toEqual([]);
    expect(ips("ESTAB\n185.1.2.3 peer 91.2.3.4 from: 45.6.7.8 x=77.1.2.3 (64.1.2.3) \u00a012.1.2.3")).toEqual(["185.1.2.3", "91.2.3.4", "45.6.7.8", "77.1.2.3", "64.1.2.3", "12.1.2.3"]);
    expect(ips("010.1.2.3 1.2.3.256 8.8.0.0 Tools 8.8.0.0")).toEqual(["8.8.0.0"]);
  });

  it("does not let a URL's inner scheme or a path inside a URL start a second indicator", () => {
    const got = extractIndicators("see http://a.evil.biz/r?u=http://b.evil.biz/tmp/x").map((i) => `${i.type} ${i.value}`);
    expect(got).toEqual(["url http://a.evil.biz/r?u=http://b.evil.biz/tmp/x", "domain a.evil.biz"]);
  });

  it("reads a URL's host as the WHATWG parser does, parsing only the hosts the plain-name path leaves to it (randomised)", () => {
    const parts = ["a", "Evil", "c2", "x", "0", "12", "-", "--", "xn--", "xn--p1ai", ".", "..", "com", "COM", "io", "1", "0x1f", "_", "%41", "@", ":", ":8080", ":99999", "[", "]", "::1", "é", "\u00a0", "q".repeat(64)];
    const tails = ["", "/", "/x?y=1", "?q", "#f", "/a.b/c"];
    const rnd = lcg(23);
    let fast = 0;
    for (let round = 0; round < 4000; round++) {
      const host = joinedParts(rnd, parts, 8);
      const url = `${["http", "HTTPS", "ftp"][rnd() % 3]}://${host}${tails[rnd() % tails.length]}`;
      expect(hostOf(url), url).toBe(hostOfParsed(url));
      if (!/[^A-Za-z0-9.-]/.test(host)) fast++;
    }
    // Plain names must be common among the random hosts, or the fast path would go untested.
    expect(fast).toBeGreaterThan(500);
    for (const url of ["http://www.microsoft.com/windows", "https://UPDATE0.cdn-1a2b.XYZ/a?q=1", "http://a-.com/", "http://-a.com/", "http://a..com/", "http://a.com./", "http://1.2.3.4/", "http://a.0x1f/", "http://a.b1/", "http://xn--p1ai.ru/", "http://user@host.com/", "http://host.com:80/", "http:///x.com/"])
      expect(hostOf(url), url).toBe(hostOfParsed(url));
  });

  it("judges domain names as the split-and-regex form did (randomised)", () => {
    const tlds = new Set((createRequire(import.meta.url)("tlds") as string[]).map((t) => t.toLowerCase()));
    // The form validDomain had before it read labels in place.
    const reference = (d: string, fileNamesPossible: boolean) => {
      if (/-[0-9a-f]{8}\.pf$/i.test(d)) return false;
      const labels = d.split(".");
      const tld = labels[labels.length - 1]!.toLowerCase();
      if (!tlds.has(tld) || labels.length < 2) return false;
      if (fileNamesPossible && labels.length === 2 && FILE_LIKE_TLDS.has(tld)) return false;
      if (labels.every((l) => /^[A-Z][a-z0-9]/.test(l))) return false;
      if (labels.some((l) => l.length > 63 || l.startsWith("-") || l.endsWith("-"))) return false;
      return labels.slice(0, -1).some((l) => /[a-z]/i.test(l));
    };
    const parts = ["a", "Ab", "A1", "AB", "ab", "x-y", "-a", "a-", "-", "1", "42", "Sys", "System", "Net", "evil", "c".repeat(63), "d".repeat(64), "CMD", "EXE-1A2B3C4D", "x-1a2b3c4d", "", "é"];
    const ends = ["com", "COM", "Com", "pf", "PF", "zip", "sh", "io", "Http", "exe", "notatld", "", "1"];
    const rnd = lcg(41);
    let valid = 0;
    for (let round = 0; round < 6000; round++) {
      const labels: string[] = [];
      for (let k = rnd() % 4; k >= 0; k--) labels.push(parts[rnd() % parts.length]!);
      labels.push(ends[rnd() % ends.length]!);
      const d = labels.join(".");
      for (const fileNamesPossible of [true, false]) {
        const want = reference(d, fileNamesPossible);
        if (want) valid++;
        expect(validDomain(d, fileNamesPossible), `${d} ${fileNamesPossible}`).toBe(want);
      }
    }
    expect(valid).toBeGreaterThan(300);
  });
});

