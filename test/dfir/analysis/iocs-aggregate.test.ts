/**
 * IocAggregator counts a text's occurrences per distinct value before it touches its tables, keeps provenance as id
 * bits, and its allow-list parses each address once. None of that may change an answer: here it is compared with a
 * straightforward reference (one step per occurrence from extractIndicators, the allow-list rules written out as
 * documentationRange → public address → CIDR / domain suffix) on the inputs where the shortcuts could differ.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import ipaddr from "ipaddr.js";
import { IocAggregator, SUPPRESSED_SAMPLE, type Provenance } from "../../../dfir/analysis/iocs/aggregate.js";
import { AllowMatcher, DEFAULT_ALLOW, mergeAllowLists, type AllowList } from "../../../dfir/analysis/iocs/allowlist.js";
import { documentationRange, extractIndicators, isPublicIp, type Indicator } from "../../../dfir/analysis/iocs/extract.js";
import { spanHash } from "../../../dfir/analysis/iocs/table.js";

/** The allow-list rules in order, each on its own (addresses parsed for every rule). */
function referenceRule(list: AllowList, i: Indicator): string | undefined {
  if (list.values.some((v) => v.toLowerCase() === i.value.toLowerCase())) return `value ${i.value}`;
  const doc = list.include_documentation ? undefined : documentationRange(i);
  if (doc) return doc.replace(/^documentation/, "documentation range");
  if (i.type === "ipv4" || i.type === "ipv6") {
    if (!list.include_private && !isPublicIp(i.value)) return "non-public address";
    const a = ipaddr.parse(i.value);
    const c = list.cidrs.find((r) => {
      const range = ipaddr.parseCIDR(r);
      return range[0].kind() === a.kind() && a.match(range);
    });
    return c ? `cidr ${c}` : undefined;
  }
  let host: string | undefined;
  if (i.type === "domain") host = i.value;
  else if (i.type === "email") host = i.value.split("@")[1];
  else if (i.type === "url") host = URL.canParse(i.value) ? new URL(i.value).hostname : undefined;
  const h = host?.toLowerCase();
  const d = h && list.domains.map((x) => x.toLowerCase().replace(/^\*?\./, "")).find((x) => h === x || h.endsWith(`.${x}`));
  return d ? `domain ${d}` : undefined;
}

interface RefEntry {
  type: string;
  value: string;
  count: number;
  first?: number;
  last?: number;
  clients: Set<string>;
  artifacts: Set<string>;
}

/**
 * One step per occurrence, in extractIndicators' order; Windows paths keyed case-insensitively, so the allow-list's
 * verdict on a path's first spelling holds for its other spellings too (one value, one verdict).
 */
function reference(list: AllowList, texts: [string, Provenance][], cap: number) {
  const entries = new Map<string, RefEntry>();
  const suppressed = new Map<string, number>();
  const samples = new Map<string, Set<string>>();
  const verdicts = new Map<string, string | undefined>();
  let overflow = 0;
  for (const [text, p] of texts)
    for (const i of extractIndicators(text)) {
      const key = `${i.type} ${i.type === "windows_path" ? i.value.toLowerCase() : i.value}`;
      let e = entries.get(key);
      if (!e && !verdicts.has(key)) verdicts.set(key, referenceRule(list, i));
      const rule = e ? undefined : verdicts.get(key);
      if (rule) {
        suppressed.set(rule, (suppressed.get(rule) ?? 0) + 1);
        const s = samples.get(rule) ?? new Set<string>();
        if (s.size < SUPPRESSED_SAMPLE) s.add(i.value);
        samples.set(rule, s);
        continue;
      }
      if (!e) {
        if (entries.size >= cap) {
          overflow++;
          continue;
        }
        entries.set(key, (e = { type: i.type, value: i.value, count: 0, clients: new Set(), artifacts: new Set() }));
      }
      e.count++;
      if (p.timeUs !== undefined) {
        e.first = Math.min(e.first ?? Infinity, p.timeUs);
        e.last = Math.max(e.last ?? -Infinity, p.timeUs);
      }
      if (p.client_id) e.clients.add(p.client_id);
      if (p.artifact) e.artifacts.add(p.artifact);
    }
  const iso = (us?: number) => (us === undefined ? undefined : new Date(us / 1000).toISOString());
  const results = [...entries.values()]
    .sort((a, b) => b.clients.size - a.clients.size || b.count - a.count || a.type.localeCompare(b.type) || a.value.localeCompare(b.value))
    .map((e) => ({ type: e.type, value: e.value, count: e.count, first_seen: iso(e.first), last_seen: iso(e.last), clients: [...e.clients].sort(), artifacts: [...e.artifacts].sort() }));
  return { results, suppressed: Object.fromEntries(suppressed), samples: Object.fromEntries([...samples].map(([k, v]) => [k, [...v]])), overflow };
}

function aggregated(list: AllowList, texts: [string, Provenance][], cap: number) {
  const agg = new IocAggregator(new AllowMatcher(list), { maxIndicators: cap });
  for (const [t, p] of texts) agg.addText(t, p);
  // public and range are computed from the value alone when results are read; the reference leaves them out.
  const results = agg.results().map(({ public: _p, range: _r, ...rest }) => rest);
  return { results, suppressed: Object.fromEntries(agg.suppressed), samples: Object.fromEntries([...agg.suppressedValues].map(([k, v]) => [k, [...v]])), overflow: agg.overflow };
}

// Each line is one of the cases the per-text counting, the id bits or the single parse could get wrong.
const LINES = [
  // Case variants of one Windows path, in one text and across texts: the first spelling seen is the one kept.
  "C:\\Users\\Bob\\AppData\\Local\\Temp\\upd.exe ran c:\\users\\bob\\appdata\\local\\temp\\UPD.EXE then C:\\USERS\\BOB\\APPDATA\\LOCAL\\TEMP\\upd.exe",
  "c:\\users\\bob\\appdata\\local\\temp\\upd.exe and \\Device\\HarddiskVolume3\\Users\\Bob\\x.dll and %APPDATA%\\x\\y.exe",
  // Defanged forms next to their plain spelling: both count towards one value.
  "beacon hxxps://evil-c2[.]example-bad[.]net/gate.php and https://evil-c2.example-bad.net/gate.php from 185[.]220[.]101[.]4 and 185.220.101.4",
  "mail bad[@]evil-mail[.]biz, fxp://files{.}bad(.)ru and evil-c2 [.] example-bad [.] net",
  // Overlapping candidates: a URL holding a path and another scheme, an IPv4-mapped IPv6 address, a hash inside a path.
  "see http://a.evil.biz/r?u=http://b.evil.biz/tmp/x and ::ffff:185.220.101.4 and /tmp/44d88612fea8a8f36de82e1278abb02f/x",
  // Allow-listed values: private, loopback, documentation, Microsoft, an allowed CIDR, an exact value, and a URL host.
  "10.0.0.5 10.0.0.5 127.0.0.1 192.0.2.44 2001:db8::7 fe80::1 https://www.example.com/x update.microsoft.com https://login.live.com/a 91.198.174.9 CVE-2021-44228",
  // Hashes of every length interleaved (one group in the counting, four tables), upper and lower case.
  "44D88612FEA8A8F36DE82E1278ABB02F da39a3ee5e6b4b0d3255bfef95601890afd80709 44d88612fea8a8f36de82e1278abb02f e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  // Registry keys and POSIX paths, repeated in one text.
  "HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\upd HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\upd /etc/passwd /etc/passwd",
  // Addresses and names repeated many times, and a URL whose host is also named bare.
  "45.77.1.9 45.77.1.9 45.77.1.9 2a01:4f8::1 2A01:4F8::1 evil-updates.biz http://evil-updates.biz/a http://EVIL-updates.BIZ/b",
  // Paths outside ASCII, where lower-casing is not ASCII folding: the Kelvin sign lower-cases to "k", "Ä" to "ä".
  "C:\\Temp\\\u212Aey.exe then c:\\temp\\KEY.exe and C:\\Daten\\\u00c4rger\\x.exe vs c:\\daten\\\u00e4rger\\X.EXE and C:\\Temp\\key.exe",
];

describe("values whose hashes collide", () => {
  // Two md5 digests with the same spanHash (found by a birthday search under this process's seed): the table
  // compares every hash hit character by character, so neither can stand in for the other, and an allow-listed one
  // cannot hide the other.
  function collidingDigests(): [string, string] {
    const seen = new Map<number, string>();
    for (let i = 0; ; i++) {
      const v = createHash("md5").update(String(i)).digest("hex");
      if (!/[a-f]/.test(v) || !/\d/.test(v)) continue;
      const h = spanHash(v, 0, v.length, true);
      const other = seen.get(h);
      if (other !== undefined) return [other, v];
      seen.set(h, v);
    }
  }

  it("stay two indicators, counted apart, when one of them is allow-listed", () => {
    const [a, b] = collidingDigests();
    expect(spanHash(a, 0, 32, true)).toBe(spanHash(b, 0, 32, true));
    expect(a).not.toBe(b);
    const kept = new IocAggregator(new AllowMatcher(mergeAllowLists({})));
    kept.addText(`${a} ${b.toUpperCase()} ${b}`);
    expect(kept.results().map((r) => [r.value, r.count])).toEqual([[b, 2], [a, 1]]);
    const allowA = new IocAggregator(new AllowMatcher(mergeAllowLists({ values: [a] })));
    allowA.addText(`${a} ${b} ${a} ${b} ${b}`);
    expect(allowA.results().map((r) => [r.value, r.count])).toEqual([[b, 3]]);
    expect(Object.fromEntries(allowA.suppressed)).toEqual({ [`value ${a}`]: 2 });
  });
});

describe("values that differ only where folding could merge them", () => {
  it("hash apart, so no family of crafted paths becomes one probe chain, and stay apart", () => {
    // 4,096 paths that differ only in "[" or "{" (and "@" or "`") at 12 places: a hash that folded bit 5 of every
    // character, not only of letters, would give them all one hash.
    const paths = Array.from({ length: 4096 }, (_, n) => `C:\\x\\${[...Array(12).keys()].map((k) => ((n >> k) & 1 ? (k % 2 ? "{" : "`") : k % 2 ? "[" : "@")).join("")}.exe`);
    const hashes = new Set(paths.map((p) => spanHash(p, 0, p.length, true)));
    expect(hashes.size).toBeGreaterThan(4090);
    const agg = new IocAggregator(new AllowMatcher(mergeAllowLists({})));
    agg.addText(paths.join("\n"));
    expect(agg.size).toBe(4096);
  });
});

describe("IocAggregator against a per-occurrence reference", () => {
  const lists: [string, AllowList][] = [
    ["the default allow-list", mergeAllowLists(DEFAULT_ALLOW)],
    ["no allow-list", mergeAllowLists({})],
    ["private and documentation kept, CIDRs, values, domains", mergeAllowLists(DEFAULT_ALLOW, { include_private: true, include_documentation: true, cidrs: ["91.198.174.0/24", "2a01::/16"], values: ["CVE-2021-44228", "C:\\USERS\\BOB\\APPDATA\\LOCAL\\TEMP\\UPD.EXE"], domains: [".biz"] })],
  ];
  // Every line alone, all lines as one text, and the whole cut at every 7th character (indicators cut in two are
  // lost to both sides alike); 40 clients so the id bits overflow into their Set; times on some texts only.
  const whole = LINES.join("\n");
  const cuts: string[] = [];
  for (let k = 0; k < whole.length; k += 7) cuts.push(whole.slice(k, k + 7 + (k % 13)));
  const texts: [string, Provenance][] = [...LINES, whole, ...cuts, ...LINES].map((t, i) => [t, { client_id: `C.${i % 40}`, artifact: i % 3 ? "Windows.Network.Netstat" : "text", timeUs: i % 4 ? 1.7e15 + i * 1e6 : undefined }]);

  it.each(lists)("%s: same indicators, counts, spellings, provenance, suppressions and samples", (_name, list) => {
    const want = reference(list, texts, 100_000);
    expect(want.results.length).toBeGreaterThan(20);
    expect(aggregated(list, texts, 100_000)).toEqual(want);
  });

  it.each(lists)("%s: the same overflow at a cap of 9 distinct values", (_name, list) => {
    const want = reference(list, texts, 9);
    expect(want.overflow).toBeGreaterThan(0);
    expect(aggregated(list, texts, 9)).toEqual(want);
  });
});
