/** Timeline: time parsing, known fields and detection, ordering across sources, external sort, filters, formats. */
import { describe, expect, it } from "vitest";
import { buildTimeline, isoMicros, newStats, parseBound } from "../../../dfir/analysis/timeline/build.js";
import { timelineLines } from "../../../dfir/analysis/timeline/lines.js";
import { csvCell, formatTimeline, timesketchRecord } from "../../../dfir/analysis/timeline/format.js";
import { externalSort, mergeSorted } from "../../../dfir/analysis/timeline/merge.js";
import { detectTimestamp, rowTimes, toMicros } from "../../../dfir/analysis/timeline/timestamps.js";

const collect = async <T>(it: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
};

describe("time values", () => {
  it("reads RFC 3339 (with µs and offsets), epoch s/ms/µs/ns and FILETIME to the same instant", () => {
    const us = Date.UTC(2026, 10, 20, 8, 14, 3) * 1000;
    expect(toMicros("2026-11-20T08:14:03Z")).toBe(us);
    expect(toMicros("2026-11-20T09:14:03+01:00")).toBe(us);
    expect(toMicros("2026-11-20 08:14:03.123456Z")).toBe(us + 123456);
    expect(toMicros(us / 1e6)).toBe(us);
    expect(toMicros(us / 1000)).toBe(us);
    expect(toMicros(us)).toBe(us);
    expect(toMicros(us * 1000)).toBe(us);
    expect(toMicros((us + 11_644_473_600_000_000) * 10)).toBe(us);
  });

  it("reads RFC 3339 text on many days, offsets and fractions as Date.parse of the same instant does (days cached by their digits)", () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const p2 = (n: number) => String(n).padStart(2, "0");
    for (let i = 0; i < 3000; i++) {
      const [y, mo, d, h, mi, s] = [1996 + rnd(100), 1 + rnd(12), 1 + rnd(31), rnd(24), rnd(60), rnd(60)];
      const digits = rnd(10);
      const frac = digits ? String(rnd(10 ** Math.min(digits, 9))).padStart(digits, "0") : "";
      const off = rnd(3) === 0 ? 0 : (rnd(2) ? 1 : -1) * rnd(14 * 60);
      const zone = off === 0 && rnd(2) ? "Z" : `${off < 0 ? "-" : "+"}${p2(Math.floor(Math.abs(off) / 60))}${rnd(2) ? ":" : ""}${p2(Math.abs(off) % 60)}`;
      const date = `${y}-${p2(mo)}-${p2(d)}`;
      const text = `${date}${rnd(2) ? "T" : " "}${p2(h)}:${p2(mi)}:${p2(s)}${frac ? `.${frac}` : ""}${zone}`;
      const ms = Date.parse(`${date}T${p2(h)}:${p2(mi)}:${p2(s)}Z`) - off * 60_000;
      const want = Number.isNaN(ms) ? undefined : ms * 1000 + Number(frac.padEnd(6, "0").slice(0, 6));
      expect(toMicros(text), text).toBe(want);
    }
  });

  it("refuses what is not a time: PIDs, sizes, words, dates outside 1995–2100", () => {
    for (const v of [5012, 220160, "hello", "1970-01-01T00:00:00Z", "2150-01-01T00:00:00Z", null, true]) expect(toMicros(v)).toBeUndefined();
  });

  it("uses an artifact's known fields, one event per MACB time and per prefetch run", () => {
    const mft = rowTimes({ Created0x10: "2026-11-20T08:14:01Z", LastModified0x10: "2026-11-20T08:14:02Z", LastAccess0x10: "2026-11-20T08:14:03Z", FileSize: 220160 }, "Windows.NTFS.MFT");
    expect(mft.map((t) => t.desc)).toEqual(["File created ($SI)", "File modified ($SI)", "File accessed ($SI)"]);
    const pf = rowTimes({ LastRunTimes: ["2026-11-20T08:14:03Z", "2026-11-21T08:00:00Z"], CreationTime: "2026-11-20T08:14:13Z" }, "Windows.Forensics.Prefetch");
    expect(pf.map((t) => t.field)).toEqual(["LastRunTimes", "LastRunTimes", "CreationTime"]);
  });

  it("detects a time column in unknown artifacts, preferring time-named columns and ignoring bare numbers elsewhere", () => {
    expect(detectTimestamp({ Pid: 1700000000, When: "2026-11-20T08:14:03Z" })).toEqual({ field: "When", us: Date.UTC(2026, 10, 20, 8, 14, 3) * 1000 });
    expect(detectTimestamp({ Pid: 1700000000, Size: 1700000001 })).toBeUndefined();
    expect(detectTimestamp({ EventTime: 1763626443 })?.field).toBe("EventTime");
  });

  it("parses bounds and names the field when a bound is not a time", () => {
    expect(parseBound("start", "1763626443")).toBe(1763626443e6);
    expect(() => parseBound("end", "yesterday-ish")).toThrow(/end: "yesterday-ish" is not a time/);
  });
});

describe("merge", () => {
  it("k-way merges sorted streams stably", async () => {
    const a = [1, 4, 4, 9].map((k) => ({ k, s: "a" }));
    const b = [2, 4, 10].map((k) => ({ k, s: "b" }));
    const out = await collect(mergeSorted([a, b], (x) => x.k));
    expect(out.map((x) => `${x.k}${x.s}`)).toEqual(["1a", "2b", "4a", "4a", "4b", "9a", "10b"]);
  });

  it("sorts a shuffled stream larger than one run through spilled runs, and removes its temp files", async () => {
    const n = 25_000;
    const keys = Array.from({ length: n }, (_, i) => (i * 7919) % n);
    const out = await collect(externalSort(keys.map((k) => ({ k })), (x) => x.k, 1000));
    expect(out).toHaveLength(n);
    expect(out.every((x, i) => x.k === i)).toBe(true);
  });
});

describe("memory budget", () => {
  it("spills short streams to disk once the shared budget is used, and still merges them in order", async () => {
    const budget = { limit: 150, held: 0 };
    const streams = [0, 1, 2].map((s) => externalSort(Array.from({ length: 100 }, (_, i) => ({ k: (i * 37 + s) % 100, s })), (x) => x.k, 1000, budget));
    const out = await collect(mergeSorted(streams, (x) => x.k));
    expect(out).toHaveLength(300);
    expect(out.every((x, i) => i === 0 || out[i - 1]!.k <= x.k)).toBe(true);
    expect(budget.held).toBe(100); // only the first stream fitted; the other two went to disk
  });
});

describe("buildTimeline", () => {
  const pslist = [
    { Pid: 5012, Name: "upd.exe", Exe: "C:\\Temp\\upd.exe", CommandLine: "upd.exe --beacon", CreateTime: "2026-11-20T08:14:03Z" },
    { Pid: 4410, Name: "powershell.exe", CommandLine: "powershell -enc X", CreateTime: "2026-11-20T08:13:55Z" },
    { Pid: 9, Name: "notime" },
  ];
  const netstat = [{ Pid: 5012, Name: "upd.exe", Status: "ESTABLISHED", "Raddr.IP": "185.220.101.4", "Raddr.Port": 443, Timestamp: "2026-11-20T08:14:09Z" }];
  const custom = [{ Note: "analyst marker", When: "2026-11-20T08:14:00Z" }];
  const sources = () => [
    { artifact: "Windows.System.Pslist", client_id: "C.1", flow_id: "F.1", rows: pslist },
    { artifact: "Windows.Network.Netstat", client_id: "C.1", flow_id: "F.2", rows: netstat },
    { artifact: "Custom.Notes", client_id: "C.1", flow_id: "F.3", rows: custom },
  ];

  it("orders events across sources with source, field, description, message and the original row", async () => {
    const stats = newStats();
    const events = await collect(buildTimeline(sources(), {}, stats));
    expect(events.map((e) => [e.datetime, e.source, e.field])).toEqual([
      ["2026-11-20T08:13:55.000000Z", "Windows.System.Pslist", "CreateTime"],
      ["2026-11-20T08:14:00.000000Z", "Custom.Notes", "When"],
      ["2026-11-20T08:14:03.000000Z", "Windows.System.Pslist", "CreateTime"],
      ["2026-11-20T08:14:09.000000Z", "Windows.Network.Netstat", "Timestamp"],
    ]);
    expect(events[0]).toMatchObject({ timestamp_desc: "Process started", message: "powershell.exe (pid 4410) powershell -enc X", client_id: "C.1", flow_id: "F.1" });
    expect(events[3]!.message).toContain("185.220.101.4:443");
    expect(events[2]!.row).toBe(pslist[0]);
    expect(stats).toMatchObject({ rows: 5, events: 4, untimed: 1 });
  });

  it("filters by window and text, and caps per source with a count of what was left out", async () => {
    const stats = newStats();
    const w = await collect(buildTimeline(sources(), { startUs: toMicros("2026-11-20T08:14:00Z"), endUs: toMicros("2026-11-20T08:14:05Z") }, stats));
    expect(w.map((e) => e.source)).toEqual(["Custom.Notes", "Windows.System.Pslist"]);
    expect(stats.filtered).toBe(2);
    const t = await collect(buildTimeline(sources(), { text: "185.220" }));
    expect(t.map((e) => e.source)).toEqual(["Windows.Network.Netstat"]);
    const capStats = newStats();
    const c = await collect(buildTimeline(sources(), { perSourceCap: 1 }, capStats));
    expect(c).toHaveLength(3);
    expect(capStats.capped).toEqual({ "C.1:Windows.System.Pslist": 1 });
  });

  it("writes CSV (formula-safe), JSON Lines and Timesketch records with the mandatory fields", async () => {
    const csv = (await collect(formatTimeline(buildTimeline([{ artifact: "X", rows: [{ Cmd: "a,b", T: "2026-11-20T08:14:00Z" }] }]), "csv"))).join("").split("\n");
    expect(csv[0]).toBe("datetime,timestamp_desc,source,field,client_id,hostname,flow_id,message,row");
    expect(csv[1]).toBe('2026-11-20T08:14:00.000000Z,T,X,T,,,,"Cmd=a,b","{""Cmd"":""a,b"",""T"":""2026-11-20T08:14:00Z""}"');
    expect(csvCell('=HYPERLINK("http://x")')).toBe(`"'=HYPERLINK(""http://x"")"`);
    expect(csvCell("-2+3")).toBe("'-2+3");
    const [ev] = await collect(buildTimeline(sources()));
    const ts = timesketchRecord({ ...ev!, hostname: "WKS-FIN-01" });
    expect(ts).toMatchObject({ hostname: "WKS-FIN-01", client_id: "C.1" });
    expect(ts).toMatchObject({ message: expect.any(String), datetime: "2026-11-20T08:13:55.000000Z", timestamp_desc: "Process started", artifact: "Windows.System.Pslist", vr_Pid: 4410 });
    const lines = (await collect(formatTimeline(buildTimeline(sources()), "timesketch"))).map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    for (const l of lines) for (const k of ["message", "datetime", "timestamp_desc"]) expect(l[k]).toBeTruthy();
  });
});

describe("timelineLines (the JSON Lines path of files and the page cache)", () => {
  // Shuffled times with ties across sources, a hunt-style source without client_id (ids from the rows), text that
  // needs escaping and multi-byte UTF-8 — spilled in many small runs so the merge across files is exercised.
  // Names whose message JSON needs no escape and ones that do: a quote, a control character, a lone surrogate
  // (JSON.stringify writes \ud800, the UTF-8 encoder U+FFFD), U+FFFD itself, a private-use character, an emoji.
  const NAMES = [(i: number) => `n"é${i % 7}`, (i: number) => `plain-${i}`, (i: number) => `ü ✓ 😀 ${i}`, (i: number) => `lone \ud800 ${i}`, (i: number) => `fffd \ufffd ${i}`, (i: number) => `pu \uf8ff\t${i}`];
  const sources = () =>
    [0, 1, 2].map((s) => ({
      artifact: s === 2 ? "Custom.X" : "Linux.Sys.Pslist",
      client_id: s === 1 ? undefined : `C.${s}`,
      flow_id: `F.${s}`,
      rows: Array.from({ length: 3000 }, (_, i) => ({ Pid: String(i), Name: NAMES[i % NAMES.length]!(i), CommandLine: "x\u2028y", ClientId: "C.h", CreateTime: new Date(1_763_900_000_000 + ((i * 7919 + s) % 3000) * 1000 + (i % 3) * 123).toISOString(), When: new Date(1_763_900_000_000 + i * 10).toISOString() })),
    }));
  const hosts = new Map([["C.0", "host-0"], ["C.h", "hh"]]);

  it("gives exactly JSON.stringify of buildTimeline's events with host names, in the same order, through spilled runs", async () => {
    const want: string[] = [];
    for await (const e of buildTimeline(sources())) want.push(JSON.stringify(e.client_id && hosts.get(e.client_id) ? { ...e, hostname: hosts.get(e.client_id) } : e));
    const stats = newStats();
    const got: string[] = [];
    let chunks = 0;
    for await (const c of timelineLines(sources(), { hostnames: hosts, runBytes: 200_000 }, stats, 64 * 1024)) {
      chunks++;
      const text = c.bytes.toString();
      expect(c.starts.map((s) => c.bytes[s - 1] ?? 10)).toEqual(c.starts.map(() => 10)); // each start follows a newline
      got.push(...text.split("\n").slice(0, -1));
    }
    expect(chunks).toBeGreaterThan(10);
    expect(got).toHaveLength(want.length);
    expect(got).toEqual(want);
    expect(stats).toMatchObject({ rows: 9000, events: want.length });
  });

  it("formats µs like isoMicros, and keeps rows larger than a run and than a run file's read block whole", async () => {
    expect(isoMicros(1763900000000001)).toBe("2025-11-23T12:13:20.000001Z");
    // Rows of 300 KB and 5 KB between small ones, with runs of 64 KB: records larger than a run and than the 256 KB
    // block a spilled run is read in, on several days and at times that need every digit of the time of day.
    const big = (i: number) => ({ Pid: String(i), Name: `p${i}`, CommandLine: (i % 5 === 0 ? "z" : "y").repeat(i % 5 === 0 ? 300_000 : 5_000), CreateTime: new Date(Date.UTC(2025, 0, 1 + (i % 4), 23, 59, 59) + i).toISOString() });
    const src = () => [{ artifact: "Linux.Sys.Pslist", client_id: "C.0", flow_id: "F.0", rows: Array.from({ length: 40 }, (_, i) => big((i * 17) % 40)) }];
    const want: string[] = [];
    for await (const e of buildTimeline(src())) want.push(JSON.stringify({ ...e, hostname: "host-0" }));
    const got: string[] = [];
    for await (const c of timelineLines(src(), { hostnames: hosts, runBytes: 64 * 1024 }, newStats(), 64 * 1024)) got.push(...c.bytes.toString().split("\n").slice(0, -1));
    expect(got).toEqual(want);
  });
});
