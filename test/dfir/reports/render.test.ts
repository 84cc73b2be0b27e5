import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import type { ReportData } from "../../../dfir/reports/model.js";
import { findChromium, htmlToPdf } from "../../../dfir/reports/pdf.js";
import { binTimeline, renderHtml, renderMarkdown, REPORT_FORMATS } from "../../../dfir/reports/render.js";

const run = promisify(execFile);

const XSS = "<script>alert(1)</script>";
const XSS_ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;";
const SOURCES = ["Windows.EventLogs.Evtx", "Windows.Forensics.Prefetch", "Windows.Network.Netstat"];
const HOSTS: Record<string, string> = { "C.1a2b3c4d5e6f7a8b": "WS-FIN-014", "C.9f8e7d6c5b4a3921": "WS-FIN-022", "C.0badc0ffee123456": "DC-01" };
const CLIENTS = Object.keys(HOSTS);

function timelineEvent(i: number): ReportData["timeline"][number] {
  const source = SOURCES[i % SOURCES.length];
  const client_id = CLIENTS[i % CLIENTS.length];
  // Ten bursts of three events (one per source, 10 minutes apart), bursts 4h45m apart: 2024-03-01 08:00Z to 2024-03-03 03:05Z.
  const minutes = Math.floor(i / 3) * 285 + (i % 3) * 10;
  const datetime = new Date(Date.parse("2024-03-01T08:00:00Z") + minutes * 60_000).toISOString();
  const message =
    source === "Windows.EventLogs.Evtx"
      ? `EventID 4624 logon type 10 from 203.0.113.${i} user FIN\\svc_backup`
      : source === "Windows.Forensics.Prefetch"
        ? `C:\\Users\\Public\\rclone.exe run count ${i}`
        : `TCP ${HOSTS[client_id]}:49${i.toString().padStart(3, "0")} -> 198.51.100.7:443 ESTABLISHED`;
  const what = source === "Windows.Forensics.Prefetch" ? "Last run" : source === "Windows.Network.Netstat" ? "Connection seen" : "Event logged";
  return { datetime, source, timestamp_desc: what, message: i === 7 ? `${message} ${XSS}` : message, client_id };
}

function fixture(): ReportData {
  return {
    case_id: "IR-2024-0117",
    title: "Suspected data exfiltration from finance workstations",
    generated_at: "2024-03-04T09:15:00Z",
    author: "alice@example.org",
    summary: "Two finance workstations ran rclone and sent ~4 GB to 198.51.100.7 over HTTPS.\nThe domain controller shows RDP logons from the same external range.",
    scope: {
      clients: CLIENTS.map((client_id) => ({ client_id, hostname: HOSTS[client_id], os: client_id.startsWith("C.0bad") ? "Windows Server 2019" : "Windows 10" })),
      hunts: [{ hunt_id: "H.CN7QK2M4", description: "Prefetch sweep for rclone", artifacts: ["Windows.Forensics.Prefetch"] }],
      flows: [
        { client_id: CLIENTS[0], flow_id: "F.CN7QL0A1", artifacts: ["Windows.EventLogs.Evtx"], created: "2024-03-03T10:00:00Z", state: "FINISHED" },
        { client_id: CLIENTS[1], flow_id: "F.CN7QL0B2", artifacts: ["Windows.Network.Netstat"], created: "2024-03-03T10:02:00Z", state: "FINISHED" },
        { client_id: CLIENTS[2], flow_id: "F.CN7QL0C3", artifacts: ["Windows.EventLogs.Evtx", "Windows.Forensics.Prefetch"], created: "2024-03-03T10:05:00Z", state: "ERROR" },
      ],
    },
    findings: [
      { title: "RDP logons from external range", severity: "medium", detail: "Logon type 10 from 203.0.113.0/24.", clients: [CLIENTS[2]], evidence: ["F.CN7QL0A1"] },
      { title: `rclone exfiltration ${XSS}`, severity: "critical", detail: "rclone.exe ran from C:\\Users\\Public.", clients: CLIENTS.slice(0, 2), evidence: ["F.CN7QL0B2", "2024-03-01T15:35:00Z"] },
      { title: "Stale local admin account", severity: "low", detail: "", clients: [CLIENTS[0]], evidence: [] },
    ],
    indicators: [
      { type: "ipv4", value: "198.51.100.7", count: 10, clients: CLIENTS.slice(0, 2), first_seen: "2024-03-01T11:10:00Z", last_seen: "2024-03-03T04:20:00Z" },
      { type: "ipv4", value: "203.0.113.0", count: 10, clients: [CLIENTS[2]], first_seen: "2024-03-01T08:00:00Z" },
      { type: "sha256", value: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", count: 2, clients: CLIENTS.slice(0, 2) },
      { type: "path", value: "C:\\Users\\Public\\rclone.exe", count: 10, clients: CLIENTS },
      { type: "domain", value: "files.example-exfil.test", count: 3, clients: [CLIENTS[1]] },
      { type: "user", value: "FIN\\svc_backup", count: 10, clients: [CLIENTS[2]] },
      { type: "commandline", value: "rclone.exe copy C:\\Finance remote:|bucket\n--transfers 8 `quoted`", count: 1, clients: [CLIENTS[0]] },
      { type: "url", value: "https://files.example-exfil.test/upload", count: 1, clients: [CLIENTS[1]] },
    ],
    timeline: Array.from({ length: 30 }, (_, i) => timelineEvent(i)),
    actions: [
      { time: "2024-03-03T10:00:00Z", tool: "collect_artifact", principal: "alice", outcome: "ok", summary: "Evtx collection on DC-01" },
      { time: "2024-03-03T11:30:00Z", tool: "quarantine_client", principal: "alice", outcome: "ok", summary: "Quarantined WS-FIN-014" },
    ],
    changes: [
      { seq: 1, time: "2024-03-03T11:30:00Z", action: "quarantine", client_id: CLIENTS[0], target: "network", result: "applied", rollback: "unquarantine_client", reason: "Active exfiltration" },
      { seq: 2, time: "2024-03-03T11:45:00Z", action: "kill_process", client_id: CLIENTS[1], target: "rclone.exe (pid 4412)", result: "applied", reason: "Stop transfer" },
    ],
    appendix: {
      flows: [
        { flow_id: "F.CN7QL0A1", client_id: CLIENTS[0], artifacts: ["Windows.EventLogs.Evtx"], parameters: { EvtxGlob: "%SystemRoot%\\System32\\winevt\\Logs\\*.evtx" } },
        { flow_id: "F.CN7QL0B2", client_id: CLIENTS[1], artifacts: ["Windows.Network.Netstat"] },
      ],
      queries: [
        { description: "rclone prefetch hits", vql: "SELECT * FROM source(artifact='Windows.Forensics.Prefetch')\nWHERE Executable =~ 'rclone'", env: { HuntId: "H.CN7QK2M4" } },
        { description: "Connections to exfil host", vql: "SELECT * FROM netstat() WHERE Raddr.IP = RemoteIP", env: { RemoteIP: "198.51.100.7" } },
      ],
    },
    caveats: ["Flow F.CN7QL0C3 on DC-01 failed; its prefetch results are missing.", "Timeline excerpt truncated to 30 of 11,482 events."],
  };
}

function empty(): ReportData {
  return {
    case_id: "IR-EMPTY",
    title: "Nothing yet",
    generated_at: "2024-03-04T09:15:00Z",
    author: "bob",
    scope: { clients: [], hunts: [], flows: [] },
    findings: [],
    indicators: [],
    timeline: [],
    actions: [],
    changes: [],
    appendix: { flows: [], queries: [] },
    caveats: [],
  };
}

const MD_SECTIONS = [
  "## Summary",
  "## Scope",
  "## Key findings",
  "## Indicators",
  "## Timeline excerpt",
  "## Actions taken",
  "## Remediation ledger changes",
  "## Deployments",
  "## Caveats",
  "## Appendix: reproducibility",
];

/** Index of each needle in order, failing if one is missing or out of order. */
function positions(text: string, needles: string[]): number[] {
  let from = 0;
  return needles.map((n) => {
    const at = text.indexOf(n, from);
    expect(at, `"${n}" after offset ${from}`).toBeGreaterThanOrEqual(0);
    from = at + n.length;
    return at;
  });
}

const barRects = (markup: string) => markup.match(/<rect class="bar"/g)?.length ?? 0;
/** Bars drawn per source: one per non-empty time bin. */
const expectedBars = (r: ReportData) => binTimeline(r.timeline).counts.reduce((sum, c) => sum + c.filter((n) => n > 0).length, 0);

describe("renderMarkdown", () => {
  it("opens with title, case id, time and author, then every section in order", () => {
    const md = renderMarkdown(fixture());
    expect(md.startsWith("# Suspected data exfiltration from finance workstations\n")).toBe(true);
    expect(md).toContain("**Case:** IR-2024-0117");
    expect(md).toContain("2024-03-04T09:15:00Z by alice@example.org");
    positions(md, MD_SECTIONS);
  });

  it("lists findings from critical to low regardless of input order", () => {
    const md = renderMarkdown(fixture());
    positions(md, ["**Severity:** CRITICAL", "**Severity:** MEDIUM", "**Severity:** LOW"]);
    positions(md, ["### 1. rclone exfiltration", "### 2. RDP logons", "### 3. Stale local admin"]);
  });

  it("escapes pipes, newlines, backticks and HTML in table cells so a row stays one row", () => {
    const md = renderMarkdown(fixture());
    const row = md.split("\n").find((l) => l.startsWith("| commandline |"));
    expect(row).toBe("| commandline | rclone.exe copy C:\\Finance remote:\\|bucket<br>--transfers 8 \\`quoted\\` | 1 | C.1a2b3c4d5e6f7a8b |  |  |");
    expect(md).toContain(`| C:\\Users\\Public\\rclone.exe run count 7 &lt;script>alert(1)&lt;/script> |`);
    expect(md).not.toContain(XSS);
  });

  it("puts each flow's parameters in JSON blocks and each query's VQL in sql blocks with its env", () => {
    const md = renderMarkdown(fixture());
    const appendix = md.slice(md.indexOf("## Appendix: reproducibility"));
    expect(appendix).toContain('```json\n{\n  "artifacts": [\n    "Windows.EventLogs.Evtx"\n  ],\n  "parameters": {\n    "EvtxGlob"');
    expect(appendix).toContain("```sql\nSELECT * FROM source(artifact='Windows.Forensics.Prefetch')\nWHERE Executable =~ 'rclone'\n```");
    expect(appendix).toContain('"RemoteIP": "198.51.100.7"');
  });

  it("lengthens a code fence when the VQL itself contains backticks", () => {
    const r = empty();
    r.appendix.queries.push({ description: "odd", vql: "SELECT '```' AS x FROM scope()" });
    expect(renderMarkdown(r)).toContain("````sql\nSELECT '```' AS x FROM scope()\n````");
  });

  it("keeps every section of an empty report, each saying None recorded.", () => {
    const md = renderMarkdown(empty());
    positions(md, MD_SECTIONS);
    // Summary, 3 scope tables, findings, indicators, suppressed, timeline, actions, changes, deployments, caveats, 2 appendix parts.
    expect(md.match(/None recorded\./g)).toHaveLength(14);
  });
});

describe("renderHtml", () => {
  it("is a standalone document: no scripts, no external resources, a restrictive CSP and print CSS", () => {
    const page = renderHtml(fixture());
    expect(page.startsWith("<!DOCTYPE html>")).toBe(true);
    // Indicator values quote URLs as text; what must be absent is anything that makes the browser fetch or run.
    expect(page).not.toMatch(/<script|<link|<img|<iframe|<object|\b(src|href)=|@import|url\(/i);
    expect(page).toContain(`content="default-src &#39;none&#39;; style-src &#39;unsafe-inline&#39;; img-src data:"`);
    expect(page).toContain("@media print");
  });

  it("escapes markup in a finding title and in a timeline message", () => {
    const page = renderHtml(fixture());
    expect(page).not.toContain(XSS);
    expect(page).toContain(`rclone exfiltration ${XSS_ESCAPED}</h3>`);
    expect(page).toContain(`<td>C:\\Users\\Public\\rclone.exe run count 7 ${XSS_ESCAPED}</td>`);
  });

  it("has the section ids in order and orders findings by severity with coloured badges", () => {
    const page = renderHtml(fixture());
    positions(page, ['id="findings"', 'id="indicators"', 'id="timeline"', 'id="actions"', 'id="changes"', 'id="appendix"']);
    positions(page, ['<span class="badge sev-critical">', '<span class="badge sev-medium">', '<span class="badge sev-low">']);
    expect(page).toMatch(/\.sev-critical \{ background: #8b0000; \}/);
  });

  it("charts the timeline as inline SVG with one bar group and one legend entry per source", () => {
    const page = renderHtml(fixture());
    const svg = page.slice(page.indexOf('<svg id="timeline-chart"'), page.indexOf("</svg>"));
    expect(svg.match(/<g class="series" data-source="[^"]+"/g)).toEqual(SOURCES.map((s) => `<g class="series" data-source="${s}"`));
    expect(svg.match(/<g class="legend-entry" data-source="[^"]+"/g)).toEqual(SOURCES.map((s) => `<g class="legend-entry" data-source="${s}"`));
    expect(svg).toContain(">2024-03-01 08:00:00Z</text>");
    expect(svg).toContain(">2024-03-03 03:05:00Z</text>");
    const charted = [...svg.matchAll(/: (\d+) events? from/g)].reduce((sum, m) => sum + Number(m[1]), 0);
    expect(charted).toBe(30);
    expect(barRects(svg)).toBe(expectedBars(fixture()));
  });

  it("keeps every section of an empty report, each saying None recorded., and draws no chart", () => {
    const page = renderHtml(empty());
    positions(page, ['id="summary"', 'id="scope"', 'id="findings"', 'id="indicators"', 'id="timeline"', 'id="actions"', 'id="changes"', 'id="deployments"', 'id="caveats"', 'id="appendix"']);
    expect(page.match(/None recorded\./g)).toHaveLength(14);
    expect(page).not.toContain("<svg");
  });
});

describe("host names beside client ids", () => {
  it("every table that names a client also names its host (scope flows, indicators, timeline, ledger changes)", () => {
    const f = fixture();
    const host = (c: string) => HOSTS[c]!;
    const r: ReportData = {
      ...f,
      scope: { ...f.scope, flows: f.scope.flows.map((x) => ({ ...x, hostname: host(x.client_id), status: x.state === "ERROR" ? "Query timed out after 600 seconds" : undefined })) },
      indicators: f.indicators.map((i) => ({ ...i, hosts: i.clients.map(host) })),
      timeline: f.timeline.map((e) => ({ ...e, hostname: host(e.client_id!) })),
      changes: f.changes.map((c) => ({ ...c, hostname: host(c.client_id) })),
    };
    const md = renderMarkdown(r);
    const page = renderHtml(r);
    for (const c of CLIENTS) {
      expect(md).toContain(`${host(c)} (${c})`);
      expect(page).toContain(`${host(c)} (${c})`);
    }
    expect(md).toContain(`| ${host(CLIENTS[2]!)} (${CLIENTS[2]}) | F.CN7QL0C3 | Windows.EventLogs.Evtx, Windows.Forensics.Prefetch | 2024-03-03T10:05:00Z | ERROR: Query timed out after 600 seconds |`);
    expect(md).toContain(`| 2 | 2024-03-03T11:45:00Z | kill_process | ${host(CLIENTS[1]!)} (${CLIENTS[1]}) |`);
    expect(md).toContain(`| 198.51.100.7 | 10 | ${host(CLIENTS[0]!)} (${CLIENTS[0]}), ${host(CLIENTS[1]!)} (${CLIENTS[1]}) |`);
  });
});

describe("binTimeline", () => {
  it("splits the span into 48 bins, clamps the last event into the final bin and counts unparseable times", () => {
    const at = (iso: string, source = "A") => ({ datetime: iso, source, timestamp_desc: "", message: "" });
    const b = binTimeline([at("2024-03-01T00:00:00Z"), at("2024-03-01T01:30:00Z", "B"), at("2024-03-03T00:00:00Z"), at("not a time")]);
    expect(b.binCount).toBe(48);
    expect(b.sources).toEqual(["A", "B"]);
    expect(b.counts[0].flatMap((n, i) => (n ? [i] : []))).toEqual([0, 47]);
    expect(b.counts[1].flatMap((n, i) => (n ? [i] : []))).toEqual([1]);
    expect(b.unplaced).toBe(1);
  });

  it("uses a single bin when every event has the same time", () => {
    const b = binTimeline([{ datetime: "2024-03-01T00:00:00Z", source: "A", timestamp_desc: "", message: "" }]);
    expect(b.binCount).toBe(1);
    expect(b.counts).toEqual([[1]]);
  });

  it("focuses on where events are dense: stray events 21 months away do not squeeze the activity into 2 of 48 bins", () => {
    const at = (iso: string, source = "A") => ({ datetime: iso, source, timestamp_desc: "", message: "" });
    // An intrusion's day (46 events over 9 hours) plus an install time and a stale prefetch entry 21 months earlier.
    const day = Array.from({ length: 46 }, (_, i) => at(new Date(Date.parse("2026-11-20T08:00:00Z") + i * 12 * 60_000).toISOString(), i % 2 ? "B" : "A"));
    const events = [at("2025-02-01T10:00:00Z"), at("2025-02-03T12:00:00Z"), ...day];
    const b = binTimeline(events);
    const occupied = b.counts[0]!.map((n, i) => n + b.counts[1]![i]!).filter((n) => n > 0).length;
    expect(occupied).toBeGreaterThan(24);
    expect({ before: b.before, after: b.after }).toEqual({ before: 2, after: 0 });
    expect(new Date(b.start).toISOString().slice(0, 10)).toBe("2026-11-20");
    const page = renderHtml({ ...empty(), timeline: events });
    expect(page).toMatch(/The chart shows 2026-11-20 08:00:00Z to 2026-11-20 \d\d:\d\d:00Z, where 90% or more of the events are; 2 event\(s\) before and 0 after it are in the table but not charted\./);
    expect(renderMarkdown({ ...empty(), timeline: events })).toContain("The HTML report's chart shows 2026-11-20 08:00:00Z");
    // Evenly spread events are charted whole.
    const even = binTimeline(Array.from({ length: 30 }, (_, i) => at(new Date(Date.parse("2026-01-01T00:00:00Z") + i * 86_400_000).toISOString())));
    expect({ before: even.before, after: even.after }).toEqual({ before: 0, after: 0 });
  });
});

it("offers exactly the markdown and html formats", () => {
  expect(REPORT_FORMATS).toEqual(["markdown", "html"]);
});

// ---------------------------------------------------------------------------------------------------------------
// A real browser renders the page: catches markup that string checks accept but a parser rejects or rearranges.

const chromium = findChromium();
if (!chromium) console.warn("Skipping headless Chromium report checks: no chromium, chromium-browser or google-chrome on PATH.");

describe.skipIf(!chromium)("HTML report in headless Chromium", () => {
  const dir = mkdtempSync(join(tmpdir(), "mr-report-"));
  const htmlPath = join(dir, "report.html");
  writeFileSync(htmlPath, renderHtml(fixture()));
  const url = pathToFileURL(htmlPath).href;
  // A profile per run, so parallel test runs and a desktop Chromium do not fight over one profile lock.
  // --disable-dev-shm-usage: containers often give /dev/shm 64 MB, too little for Chromium.
  const common = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", `--user-data-dir=${join(dir, "profile")}`];

  it("takes a 1280-px-wide, non-trivial PNG screenshot", { timeout: 120_000 }, async () => {
    const png = join(dir, "report.png");
    await run(chromium!, [...common, "--hide-scrollbars", "--window-size=1280,2000", `--screenshot=${png}`, url], { timeout: 60_000 });
    const bytes = readFileSync(png);
    expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect(bytes.toString("ascii", 12, 16)).toBe("IHDR");
    expect(bytes.readUInt32BE(16)).toBe(1280);
    expect(statSync(png).size).toBeGreaterThan(10 * 1024);
  });

  it("parses into a DOM with the chart's bars and the findings' titles", { timeout: 120_000 }, async () => {
    const { stdout: dom } = await run(chromium!, [...common, "--dump-dom", url], { timeout: 60_000, maxBuffer: 32 * 1024 * 1024 });
    const svg = dom.slice(dom.indexOf('<svg id="timeline-chart"'), dom.indexOf("</svg>"));
    expect(svg.length).toBeGreaterThan(0);
    expect(barRects(svg)).toBe(expectedBars(fixture()));
    for (const f of fixture().findings) expect(dom).toContain(f.title.replace(/</g, "&lt;").replace(/>/g, "&gt;"));
    expect(dom).not.toContain(XSS);
  });
});

describe.skipIf(!chromium)("PDF through Chromium", () => {
  it("prints the HTML report to a PDF", { timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-report-pdf-"));
    const htmlPath = join(dir, "report.html");
    writeFileSync(htmlPath, renderHtml(fixture()));
    await htmlToPdf(htmlPath, join(dir, "report.pdf"));
    const pdf = readFileSync(join(dir, "report.pdf"));
    expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    expect(pdf.length).toBeGreaterThan(10_000);
  });

  it("says how to get a PDF when no browser is there", async () => {
    await expect(htmlToPdf("/nonexistent.html", "/tmp/x.pdf", null)).rejects.toThrow(/PDF report: no Chromium found/);
    expect(findChromium({ PATH: "/nonexistent" })).toBeUndefined();
  });
});
