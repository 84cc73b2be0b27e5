/**
 * Memory of the MCP server while it pages through a 1,000,000-row flow versus a 2,000-row flow: pages are read
 * server-side (source(start_row, count)), so what the server holds must not grow with the flow's size.
 *
 * Measured as growth over a warmed baseline, in the same process: the server runs with --expose-gc and
 * MEGARAPTOR_DEBUG_MEMORY=1 (core/memory-report.ts), so after a few warm-up pages SIGUSR2 gives its heap after a full
 * collection and its RSS; /proc/<pid>/clear_refs "5" resets the peak RSS to the current RSS there, so VmHWM after the
 * measured pages is the peak reached while paging, not the start-up peak. Pages are the size requested: the result
 * byte cap is raised for the bench (MEGARAPTOR_MAX_RESULT_BYTES) and a page of another size throws.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { MEMORY_LINE, type MemoryReport } from "../core/memory-report.js";
import { MAIN } from "../test/helpers/mcp.js";
import { startTestServer } from "../test-server/index.js";
import { pageBytes } from "./pages.js";

const PAGE_ROWS = 1000;
const PAGES = 20;
const WARM_PAGES = 5;
const CLIENT = "C.2b3c4d5e6f7a8b01";
const FLOW = "F.BIGSTREAM01";

interface Sample extends MemoryReport {
  /** VmRSS and VmHWM from /proc, bytes. */
  vmRss: number;
  vmHwm: number;
}

function procStatus(pid: number): { vmRss: number; vmHwm: number } {
  const s = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)![1]) * 1024;
  return { vmRss: kb("VmRSS"), vmHwm: kb("VmHWM") };
}

/** Resets the peak RSS to the current RSS (Linux 4.0+); false where the kernel or permissions do not allow it. */
function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

interface Measured {
  base: Sample;
  after: Sample;
  peakReset: boolean;
  msPerPage: number;
  pageBytes: number;
}

async function measure(flowRows: number): Promise<Measured> {
  const vr = await startTestServer({ fixture: JSON.parse(readFileSync(join(import.meta.dirname, "..", "test", "fixtures", "default.json"), "utf8")) });
  vr.model.org("root")!.flows.get(`${CLIENT}/${FLOW}`)!.results = { "Linux.Sys.Pslist": { generate: { rows: flowRows, seed: 7, kind: "process" } } };
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-page-"));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ["--expose-gc", MAIN, "mcp", "--config", vr.writeApiClientYaml(dir, "investigator"), "--audit-log", join(dir, "a.jsonl")],
    // 8 MB cap: a 1000-row page of these rows is about 0.45 MB, so no page is cut short by the default 64 KB cap.
    env: { PATH: process.env.PATH ?? "", HOME: dir, MEGARAPTOR_HOME: dir, MEGARAPTOR_LOG_LEVEL: "error", MEGARAPTOR_DEBUG_MEMORY: "1", MEGARAPTOR_MAX_RESULT_BYTES: String(8 * 1024 * 1024) },
    stderr: "pipe",
  });
  let err = "";
  const waiters: ((r: MemoryReport) => void)[] = [];
  transport.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
    for (let at = err.indexOf(MEMORY_LINE); at >= 0; at = err.indexOf(MEMORY_LINE)) {
      const end = err.indexOf("\n", at);
      if (end < 0) break;
      const report = JSON.parse(err.slice(at + MEMORY_LINE.length, end)) as MemoryReport;
      err = err.slice(end + 1);
      waiters.shift()?.(report);
    }
  });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  const pid = transport.pid!;
  const sample = async (): Promise<Sample> => {
    const report = new Promise<MemoryReport>((resolve, reject) => {
      waiters.push(resolve);
      setTimeout(() => reject(new Error(`no memory report from the server; its stderr: ${err.slice(-500)}`)), 10_000).unref();
    });
    process.kill(pid, "SIGUSR2");
    const r = await report;
    return { ...r, ...procStatus(pid) };
  };
  const page = async (offset: number): Promise<number> => {
    const r = (await client.callTool({ name: "get_flow_results", arguments: { client_id: CLIENT, flow_id: FLOW, limit: PAGE_ROWS, offset } })) as CallToolResult;
    if (r.isError) throw new Error(JSON.stringify(r.content));
    const b = pageBytes(r);
    if (b.rows !== PAGE_ROWS) throw new Error(`a page returned ${b.rows} rows, not ${PAGE_ROWS}: the figures would not be per ${PAGE_ROWS}-row page`);
    return b.result;
  };
  try {
    for (let i = 0; i < WARM_PAGES; i++) await page(Math.floor((flowRows - PAGE_ROWS) * (i / WARM_PAGES)));
    const base = await sample();
    const peakReset = resetPeak(pid);
    let bytes = 0;
    const t = performance.now();
    for (let i = 0; i < PAGES; i++) bytes += await page(Math.floor((flowRows - PAGE_ROWS) * (i / PAGES)));
    const msPerPage = (performance.now() - t) / PAGES;
    const after = await sample();
    return { base, after, peakReset, msPerPage, pageBytes: bytes / PAGES };
  } finally {
    await client.close();
    await vr.stop();
  }
}

export default async function bench(): Promise<void> {
  if (!existsSync(MAIN)) {
    console.log(`skipped: ${MAIN} missing — run npm run build first`);
    return;
  }
  if (!existsSync("/proc/self/status")) {
    console.log("skipped: needs /proc (Linux) for RSS and its peak");
    return;
  }
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  const signed = (n: number) => `${n >= 0 ? "+" : ""}${(n / 1e6).toFixed(1)} MB`;
  const rows: [string, Measured][] = [];
  for (const n of [2_000, 1_000_000]) rows.push([n === 2_000 ? "2k-row flow" : "1M-row flow", await measure(n)]);
  console.log(`${PAGES} pages of ${PAGE_ROWS} rows each (every page full; about ${mb(rows[0]![1].pageBytes)} per page as sent), after ${WARM_PAGES} warm-up pages:`);
  console.log(`${"".padEnd(12)} ${"baseline heap".padStart(14)} ${"heap growth".padStart(12)} ${"baseline RSS".padStart(13)} ${"RSS growth".padStart(11)} ${"peak over base".padStart(15)} ${"per page".padStart(9)}`);
  for (const [label, m] of rows) {
    const peak = m.peakReset ? signed(m.after.vmHwm - m.base.vmRss) : "n/a";
    console.log(`${label.padEnd(12)} ${mb(m.base.heapUsed).padStart(14)} ${signed(m.after.heapUsed - m.base.heapUsed).padStart(12)} ${mb(m.base.vmRss).padStart(13)} ${signed(m.after.vmRss - m.base.vmRss).padStart(11)} ${peak.padStart(15)} ${`${m.msPerPage.toFixed(0)} ms`.padStart(9)}`);
  }
  const [small, big] = [rows[0]![1], rows[1]![1]];
  console.log(`1M vs 2k: heap growth differs by ${signed(big.after.heapUsed - big.base.heapUsed - (small.after.heapUsed - small.base.heapUsed))}, peak by ${big.peakReset && small.peakReset ? signed(big.after.vmHwm - big.base.vmRss - (small.after.vmHwm - small.base.vmRss)) : "n/a"} for 500× more rows (target: flat; the whole 1M-row flow would be about ${mb(big.pageBytes * 1000)})`);
  console.log(`heap after a full collection: ${small.base.gc ? "yes (--expose-gc)" : "no"}; peak RSS reset before paging: ${small.peakReset ? "yes (/proc/pid/clear_refs)" : "no — peak not shown"}`);
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
}
