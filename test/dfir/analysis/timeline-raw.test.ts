/**
 * Witness for the raw-row timeline path (dfir/analysis/timeline/raw-row.ts and the `lines` branch of lines.ts): the
 * same rows fed as the server's bytes and as parsed objects give the same timeline — the same events in the same
 * order with the same stats (untimed, filtered, capped, fields). Lines are byte-equal where the object path's
 * JSON.stringify reproduces the row's bytes; where it cannot (Velociraptor's \u003c-style escapes, uint64 above 2^53,
 * integer-like keys that JSON.parse moves first, duplicate keys) the raw line keeps the server's bytes for `row`, and
 * both lines parse to the same event.
 *
 * Row shapes follow the columns Velociraptor v0.77.2's artifact definitions emit (as dfir/analysis/columns records
 * them): Linux.Sys.Pslist, Windows.EventLogs.Evtx, Windows.Forensics.Prefetch (LastRunTimes array),
 * Windows.NTFS.MFT (MACB), Windows.Forensics.Lnk (SourceFile.Mtime), Linux.Forensics.Journal (System.Timestamp),
 * a hunt_results source (ClientId/FlowId in the rows) and an artifact with no known fields (column detection).
 */
import { describe, expect, it } from "vitest";
import { newStats, type TimelineOptions, type TimelineSource } from "../../../dfir/analysis/timeline/build.js";
import { timelineLines } from "../../../dfir/analysis/timeline/lines.js";
import { RawRow } from "../../../dfir/analysis/timeline/raw-row.js";
import { jsonArrayToLines } from "../../../velociraptor/json-lines.js";
import { RowIndex } from "../../../velociraptor/row-index.js";

const T = "2025-11-23T09:59:50";

/** Rows as Velociraptor's encoder writes them (raw JSON text), per source. */
const RAW: { artifact: string; client_id?: string; flow_id?: string; rows: string[] }[] = [
  {
    artifact: "Linux.Sys.Pslist",
    client_id: "C.1",
    flow_id: "F.1",
    rows: [
      `{"Pid":"1234","Ppid":"1","Name":"sshd","CommandLine":"/usr/sbin/sshd -D \\u003e /dev/null \\u0026","Exe":"/usr/sbin/sshd","Hash":{"MD5":"d41d8cd98f00b204e9800998ecf8427e"},"Username":"root","CreateTime":"${T}+01:00","RSS":18446744073709551615,"Deleted":false}`,
      `{"Pid":"99","Ppid":"1234","Name":"Zürich ✓ 日本","CommandLine":"bash -c \\"echo hi\\"\\n\\ttab \\u2028","Exe":"/bin/bash","Username":"svc","CreateTime":"${T}Z","RSS":4096,"Deleted":false}`,
      `{"Pid":"7","Ppid":"1","Name":"tie","CreateTime":"${T}Z"}`,
      `{"Pid":"8","Name":"no time","CreateTime":""}`,
      `{"Pid":"9","Name":"null time","CreateTime":null}`,
      `{"Pid":"10","Name":"bad date","CreateTime":"2025-02-30T00:00:00Z"}`,
      `{"Pid":"11","Name":"words","CreateTime":"not a time"}`,
      `{"Pid":"12","Name":"micro","CreateTime":"2025-11-23 09:59:50.123456789-05:30"}`,
      `{"Pid":"13","Name":"no offset colon","CreateTime":"2025-11-23T09:59:50.5+0200"}`,
      `{"Pid":"14","Name":"first","Name":"duplicate key","CreateTime":"${T}Z"}`,
      `{"1":"integer-like key","Pid":"15","Name":"int key","CreateTime":"${T}.000001Z"}`,
      `{"Pi\\u0064":"16","Name":"escaped key","CreateTime":"${T}Z"}`,
      `{"Größe":1,"Pid":"17","Name":"non-ASCII key","CreateTime":"${T}Z"}`,
      `{ "Pid" : "18" , "Name" : "spaced" , "CreateTime" : "${T}Z" , "Hash" : { "a" : [ 1 , "}" ] } }`,
      `{"Pid":"19","Name":"old","CreateTime":"1970-01-01T00:00:00Z"}`,
      `{}`,
      `{"__proto__":{"x":1},"Pid":"20","Name":"proto","CreateTime":"${T}Z","constructor":"c"}`,
      // Messages whose JSON needs escapes the UTF-8 encoder would not write: a lone surrogate (U+FFFD from the encoder, \ud800
      // from JSON.stringify), beside U+FFFD itself, a private-use character (lead byte 0xEF) and a character outside the BMP.
      `{"Pid":"21","Ppid":"1","Name":"lone \\ud800 surrogate","CommandLine":"emoji 😀 and \\ufffd and \uf8ff","Username":"x\\u0001y","CreateTime":"${T}Z"}`,
    ],
  },
  {
    artifact: "Windows.EventLogs.Evtx",
    client_id: "C.2",
    flow_id: "F.2",
    rows: [
      `{"TimeCreated":"${T}.123456789Z","Channel":"Security","EventID":4624,"EventRecordID":18446744073709551000,"EventData":{"TargetUserName":"jdoe","IpAddress":"10.0.0.5"},"Message":"An account was successfully logged on \\u003cscript\\u003e","Provider":"Microsoft-Windows-Security-Auditing"}`,
      `{"TimeCreated":1763891990,"Channel":"System","EventID":7045,"EventData":{"ServiceName":"evil"},"Message":null}`,
      `{"TimeCreated":"1763891990123","Channel":"System","EventID":1,"Message":"epoch ms as text"}`,
      `{"TimeCreated":"${T}Z","Channel":"Security","EventID":4625,"Message":"tie across sources"}`,
    ],
  },
  {
    artifact: "Windows.Forensics.Prefetch",
    client_id: "C.2",
    flow_id: "F.3",
    rows: [
      `{"Executable":"EVIL.EXE","ExecutableDosPath":"C:\\\\Temp\\\\evil.exe","RunCount":3,"PrefetchFileName":"EVIL.EXE-1234.pf","LastRunTimes":["${T}Z","2025-11-22T08:00:00Z","junk"],"CreationTime":"${T}Z"}`,
      `{"Executable":"NOTIME.EXE","LastRunTimes":[],"CreationTime":null}`,
    ],
  },
  {
    artifact: "Windows.NTFS.MFT",
    client_id: "C.2",
    flow_id: "F.4",
    rows: [
      `{"OSPath":"C:\\\\Users\\\\jdoe\\\\ä.txt","FileSize":220160,"Created0x10":"${T}Z","LastModified0x10":"2025-11-23T10:00:00Z","LastAccess0x10":133456789012345678,"LastRecordChange0x10":"133456789012345678","Created0x30":"${T}Z","LastModified0x30":"bogus"}`,
    ],
  },
  {
    artifact: "Windows.Forensics.Lnk",
    client_id: "C.2",
    flow_id: "F.5",
    rows: [`{"SourceFile":{"OSPath":"C:\\\\Users\\\\jdoe\\\\Recent\\\\x.lnk","Mtime":"${T}Z"},"LinkTarget":{"LinkTarget":"C:\\\\x.exe"}}`],
  },
  {
    artifact: "Linux.Forensics.Journal",
    client_id: "C.1",
    flow_id: "F.6",
    rows: [`{"System":{"Timestamp":"${T}.5Z"},"EventData":{"SYSLOG_IDENTIFIER":"sshd","MESSAGE":"Accepted publickey for root from 10.0.0.9 \\u003c\\u003e"}}`],
  },
  {
    // A hunt's results: no client or flow on the source; they come from each row.
    artifact: "Linux.Sys.Pslist",
    rows: [`{"ClientId":"C.1","FlowId":"F.H1","Pid":"1","Name":"init","CreateTime":"${T}Z","Fqdn":"h"}`, `{"ClientId":7,"FlowId":null,"Pid":"2","Name":"odd ids","CreateTime":"${T}Z"}`],
  },
  {
    artifact: "Custom.Unknown.Artifact",
    client_id: "C.3",
    rows: [
      `{"Path":"/tmp/x","When":"${T}Z","Size":10}`,
      `{"Path":"/tmp/y","seen":1763891990000,"Note":"ms epoch in a time-named column"}`,
      `{"Pid":1763891990,"Label":"bare number is not a time"}`,
      `{"_ts":1763891990,"Other":"${T}Z"}`,
    ],
  },
];

/** Rows as objects (false), as JSON Lines chunks (true) or as indexed batches ("batches", as the client reads flows). */
function sources(raw: boolean | "batches", chunkRows = 3): TimelineSource[] {
  return RAW.map((s) => ({
    artifact: s.artifact,
    client_id: s.client_id,
    flow_id: s.flow_id,
    rows: s.rows.map((r) => JSON.parse(r) as Record<string, unknown>),
    ...(raw === "batches"
      ? {
          batches: async function* () {
            const ix = new RowIndex();
            for (let i = 0; i < s.rows.length; i += chunkRows) yield ix.index(Buffer.from(`[${s.rows.slice(i, i + chunkRows).join(",")}]`));
          },
        }
      : raw
      ? {
          lines: async function* () {
            // Several chunks per source, as batches arrive.
            for (let i = 0; i < s.rows.length; i += chunkRows) yield Buffer.from(s.rows.slice(i, i + chunkRows).join("\n") + "\n");
          },
        }
      : {}),
  }));
}

async function build(raw: boolean | "batches", o: TimelineOptions) {
  const stats = newStats();
  const lines: string[] = [];
  for await (const c of timelineLines(sources(raw), { ...o, hostnames: new Map([["C.1", "web-01"], ["C.2", "ws-ü"]]), runBytes: 2048 }, stats, 1024)) lines.push(...c.bytes.toString("utf8").split("\n").slice(0, -1));
  return { lines, stats };
}

/** Rows whose bytes JSON.stringify(JSON.parse(·)) does not give back. */
const reencoded = (r: string) => JSON.stringify(JSON.parse(r)) !== r;

describe("the raw-row timeline path against the object path", () => {
  it.each<[string, TimelineOptions]>([
    ["everything", {}],
    ["a window", { startUs: Date.parse(`${T}Z`) * 1000, endUs: Date.parse("2025-11-23T10:00:00Z") * 1000 }],
    ["a text filter on the message", { text: "ZÜRICH" }],
    ["a text filter found only in the row", { text: "10.0.0.5" }],
    ["a text filter on an escaped character", { text: "<script>" }],
    ["a per-source cap", { perSourceCap: 2 }],
    ["time_fields overrides", { timeFields: { "Linux.Sys.Pslist": ["RSS", "CreateTime"], "Custom.Unknown.Artifact": ["Size"] } }],
  ])("%s: same events, order and stats; byte-equal lines where the row re-encodes the same", async (_name, o) => {
    const want = await build(false, o);
    const got = await build(true, o);
    expect(got.stats).toEqual(want.stats);
    // Indexed batches (one pass per batch) give the JSON Lines path's lines, byte for byte.
    expect(await build("batches", o)).toEqual(got);
    expect(got.lines).toHaveLength(want.lines.length);
    const rawRows = new Set(RAW.flatMap((s) => s.rows));
    let bytesEqual = 0;
    let parsedEqual = 0;
    for (let i = 0; i < want.lines.length; i++) {
      const g = JSON.parse(got.lines[i]!) as { row: unknown };
      const w = JSON.parse(want.lines[i]!) as { row: unknown };
      // The raw line carries the row exactly as received.
      const host = (g as { hostname?: string }).hostname;
      const suffix = host ? `,"hostname":${JSON.stringify(host)}}` : "}";
      const rowText = got.lines[i]!.slice(got.lines[i]!.indexOf(',"row":') + 7, got.lines[i]!.length - suffix.length);
      expect(rawRows.has(rowText)).toBe(true);
      if (!reencoded(rowText)) {
        expect(got.lines[i]).toBe(want.lines[i]);
        bytesEqual++;
      } else {
        expect(g).toEqual(w);
        expect(got.lines[i]!.replace(rowText, "")).toBe(want.lines[i]!.replace(JSON.stringify(JSON.parse(rowText)), ""));
        parsedEqual++;
      }
    }
    expect(bytesEqual + parsedEqual).toBe(want.lines.length);
    if (!o.text && !o.perSourceCap && !o.startUs) expect(parsedEqual).toBeGreaterThan(3);
  });

  it("counts the same rows untimed and keeps ties in source then row order", async () => {
    const got = await build(true, {});
    const want = await build(false, {});
    expect(got.stats.untimed).toBe(want.stats.untimed);
    expect(got.stats.untimed).toBeGreaterThanOrEqual(6);
    const tie = got.lines.filter((l) => l.startsWith(`{"timestamp_us":${Date.parse(`${T}Z`) * 1000},`)).map((l) => (JSON.parse(l) as { source: string; row: { Pid?: string } }).source);
    expect(tie.length).toBeGreaterThan(5);
    expect(tie).toEqual(want.lines.filter((l) => l.startsWith(`{"timestamp_us":${Date.parse(`${T}Z`) * 1000},`)).map((l) => (JSON.parse(l) as { source: string }).source));
  });

  it("takes an indented batch (line breaks inside rows) the JSON Lines way, re-serialised as jsonArrayToLines does", async () => {
    const rows = [
      { Pid: "1", Name: "a \u003c", CreateTime: `${T}Z`, Hash: { MD5: "x" } },
      { Pid: "2", Name: "b", CreateTime: `${T}.5Z` },
    ];
    const text = JSON.stringify(rows, null, 2);
    const src = (how: "batches" | "lines"): TimelineSource[] => [
      {
        artifact: "Linux.Sys.Pslist",
        client_id: "C.1",
        rows: [],
        ...(how === "batches"
          ? { batches: async function* () { yield new RowIndex().index(Buffer.from(text)); } }
          : { lines: async function* () { yield jsonArrayToLines(Buffer.from(text)).lines; } }),
      },
    ];
    const read = async (how: "batches" | "lines") => {
      const out: string[] = [];
      for await (const c of timelineLines(src(how), {})) out.push(c.bytes.toString("utf8"));
      return out.join("");
    };
    const got = await read("batches");
    expect(got.split("\n")).toHaveLength(3);
    expect(got).toBe(await read("lines"));
  });

  it("refuses a malformed row as JSON.parse does", async () => {
    const bad = [{ artifact: "Linux.Sys.Pslist", client_id: "C.1", rows: [], lines: async function* () { yield Buffer.from('{"Pid":"1","CreateTime":"2025-11-23T09:59:50Z",}\n'); } }];
    await expect(async () => {
      for await (const _ of timelineLines(bad, {})) void _;
    }).rejects.toThrow(SyntaxError);
  });
});

describe("RawRow", () => {
  it("reads like the parsed row: values, `in`, missing keys, enumeration and JSON.stringify", () => {
    const r = new RawRow();
    for (const text of RAW.flatMap((s) => s.rows)) {
      const b = Buffer.from(`xx${text}yy`);
      r.reset(b, 2, b.length - 2);
      const o = JSON.parse(text) as Record<string, unknown>;
      for (const k of [...Object.keys(o), "Missing", "toString", "constructor"]) {
        expect(r.view[k]).toEqual(o[k]);
        expect(k in r.view).toBe(k in o);
      }
      expect(Object.entries(r.view)).toEqual(Object.entries(o));
      expect(JSON.stringify(r.view)).toBe(JSON.stringify(o));
    }
  });
});

describe("toMicros on RFC 3339 text", () => {
  // The implementation before the fast path: the regular expression and one Date.parse per value.
  const RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/;
  const oracle = (v: string): number | undefined => {
    const m = RE.exec(v);
    if (!m) return undefined;
    const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[8] ? (m[8] === "Z" ? "Z" : m[8].length === 5 ? `${m[8].slice(0, 3)}:${m[8].slice(3)}` : m[8]) : "Z"}`);
    if (Number.isNaN(ms)) return undefined;
    const us = ms * 1000 + Math.floor(Number((m[7] ?? "").padEnd(6, "0").slice(0, 6)));
    return us >= Date.UTC(1995, 0, 1) * 1000 && us < Date.UTC(2100, 0, 1) * 1000 ? us : undefined;
  };

  it("gives what the regular expression and Date.parse give, for every form and edge it accepts or refuses", async () => {
    const { toMicros } = await import("../../../dfir/analysis/timeline/timestamps.js");
    const dates = ["2025-11-23", "2024-02-29", "2025-02-29", "2025-02-30", "2025-13-01", "2025-00-10", "2025-04-31", "1994-12-31", "1995-01-01", "2099-12-31", "2100-01-01", "0000-01-01", "9999-12-31", "2025-1-230", "20a5-11-23"];
    const times = ["00:00:00", "09:59:50", "23:59:59", "24:00:00", "23:60:00", "23:59:60", "9:59:500", "0a:00:00"];
    const fracs = ["", ".", ".1", ".123456", ".1234567", ".123456789", ".1234567890", ".12a"];
    const zones = ["", "Z", "z", "+01:00", "-05:30", "+0200", "-0000", "+23:59", "+24:00", "+05:60", "+1:00", "+01:0", "Z ", " "];
    let n = 0;
    for (const d of dates)
      for (const sep of ["T", " ", "t"])
        for (const t of times)
          for (const f of fracs)
            for (const z of zones) {
              const v = `${d}${sep}${t}${f}${z}`;
              if (v.length < 19 || v.length > 40) continue;
              expect([v, toMicros(v)]).toEqual([v, oracle(v)]);
              n++;
            }
    expect(n).toBeGreaterThan(20_000);
  });
});
