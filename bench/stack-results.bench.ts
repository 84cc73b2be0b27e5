/**
 * stack_results over 1,000,000 rows: the stacking function fed by the client streaming a generated flow from the
 * test server (in a child process). Memory must not grow with the row count (the group map is bounded and rows are
 * not kept), so it is measured as growth over a warmed baseline — heap and RSS — at 100k and at 1M rows: flat means
 * the two growths are about equal. Throughput is printed both wall (the test server producing the rows shares the
 * same 2 cores) and as this process's CPU per million rows; the test server's CPU is read from /proc and printed
 * apart, never added.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackRows } from "../dfir/results/stack.js";
import { VelociraptorClient } from "../velociraptor/client.js";
import { parseApiClientYaml } from "../velociraptor/config.js";
import { fullGc, load, peakSampler, startTestServerProcess } from "./support.js";

const QUERY = "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')";
const MB = (b: number) => `${(b / 1e6).toFixed(1)} MB`;

/** CPU seconds of another process so far (utime + stime from /proc/<pid>/stat, at 100 ticks/s on Linux). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Run {
  rows: number;
  groups: number;
  wall: number;
  cpu: number;
  serverCpu: number;
  heapGrowth: number;
  rssGrowth: number;
}

async function run(client: VelociraptorClient, serverPid: number, limit: number): Promise<Run> {
  // A full collection before each baseline, so "growth" is what the run holds, not garbage from the last one.
  fullGc();
  const base = process.memoryUsage();
  const sampler = peakSampler();
  const s0 = cpuOf(serverPid);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await stackRows(client.query(`${QUERY} LIMIT ${limit}`), { groupBy: ["Name", "Username"], timeField: "CreateTime" });
  const wall = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const { heap: heapPeak, rss: rssPeak } = sampler.stop();
  if (r.rowsScanned !== limit) throw new Error(`stacked ${r.rowsScanned} rows, expected ${limit}`);
  return { rows: r.rowsScanned, groups: r.groupsTotal, wall, cpu: (c.user + c.system) / 1e6, serverCpu: cpuOf(serverPid) - s0, heapGrowth: heapPeak - base.heapUsed, rssGrowth: rssPeak - base.rss };
}

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-stack-"));
  const child = await startTestServerProcess(dir);
  try {
    const client = VelociraptorClient.fromConfig(parseApiClientYaml(readFileSync(join(dir, "api_client.yaml"), "utf8"), "bench"));
    await run(client, child.pid!, 20_000); // warm-up: JIT, TLS session, buffers
    const small = await run(client, child.pid!, 100_000);
    const big = await run(client, child.pid!, 1_000_000);
    client.close();
    console.log(`load average ${load()}`);
    for (const r of [small, big])
      console.log(
        `${r.rows.toLocaleString().padStart(9)} rows → ${r.groups} groups: wall ${Math.round(r.rows / r.wall).toLocaleString()} rows/s; ` +
          `stacking process CPU ${((r.cpu * 1e6) / r.rows).toFixed(2)} s per 1M rows (test server ${((r.serverCpu * 1e6) / r.rows).toFixed(2)} s per 1M, apart); ` +
          `growth over warmed baseline: heap ${MB(r.heapGrowth)}, RSS ${MB(r.rssGrowth)}`,
      );
    console.log(`memory with 10× the rows: heap growth ${MB(big.heapGrowth)} vs ${MB(small.heapGrowth)}, RSS growth ${MB(big.rssGrowth)} vs ${MB(small.rssGrowth)} (target: flat — no more than +10 MB)`);
    const { generatedRows } = await import("../test-server/model.js");
    const c1 = process.cpuUsage();
    await stackRows(generatedRows(1_000_000, 7), { groupBy: ["Name", "Username"], timeField: "CreateTime" });
    const c = process.cpuUsage(c1);
    console.log(`stacking alone (rows generated in-process, no network): CPU ${((c.user + c.system) / 1e6).toFixed(2)} s per 1M rows (includes generating them)`);
  } finally {
    child.kill("SIGTERM");
  }
}
