/**
 * Streams 1,000,000 process rows (~434 bytes each) from the test server — run in a child process so it does not share
 * this process's CPU accounting — through VelociraptorClient, consuming rows as they arrive, and sets the client's CPU
 * against the CPU of plainly parsing the same bytes (UTF-8 decode + JSON.parse), measured in this process in the same
 * run. Both sides are CPU seconds (process.cpuUsage, user + system): an earlier version divided the client's CPU rate
 * by the parse's wall-clock rate, which under load printed 94–170 % and flattered the client.
 * Memory is growth over a warmed baseline — the client connected and one 50,000-row query streamed, then a full GC —
 * for the V8 heap (heapUsed) and for RSS, sampled every 20 ms while streaming.
 * Targets: client rows per CPU second ≥ 60 % of the parse's; peak RSS < 200 MB (the growth is printed beside it).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseApiClientYaml } from "../velociraptor/config.js";
import { VelociraptorClient } from "../velociraptor/client.js";
import { generatedRows } from "../test-server/model.js";
import { fullGc, load, peakSampler, startTestServerProcess } from "./support.js";

const ROWS = 1_000_000;
const QUERY = "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')";
const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
const mb = (b: number) => (b / 1e6).toFixed(0);

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-"));
  const child = await startTestServerProcess(dir);
  console.log(`load average at start ${load()} (1, 5, 15 min)`);
  try {
    const client = VelociraptorClient.fromConfig(parseApiClientYaml(readFileSync(join(dir, "api_client.yaml"), "utf8"), "bench"));
    // Warm-up: channel connected, JIT warm, buffers allocated once; its rows are not counted.
    for await (const row of client.query(`${QUERY} LIMIT 50000`, { batchRows: 1000 })) void row;
    fullGc();
    const base = process.memoryUsage();
    const sampler = peakSampler();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    let pidSum = 0;
    for await (const row of client.query(QUERY, { batchRows: 1000 })) {
      n++;
      pidSum += Number(row.Pid);
    }
    const wall = (performance.now() - t0) / 1000;
    const clientCpu = cpuSeconds(process.cpuUsage(cpu0));
    const { rss: peakRss, heap: peakHeap } = sampler.stop();
    const loadStream = load();
    client.close();
    if (n !== ROWS) throw new Error(`streamed ${n} rows, expected ${ROWS}`);

    // The same bytes, parsed plainly: batches of 1,000 rows serialised the way the test server sends them.
    const batches: Buffer[] = [];
    let bytes = 0;
    let batch = [];
    for (const row of generatedRows(ROWS, 7)) {
      batch.push(row);
      if (batch.length === 1000) {
        const b = Buffer.from(JSON.stringify(batch));
        bytes += b.length;
        batches.push(b);
        batch = [];
      }
    }
    // Plain parsing of the same bytes: UTF-8 bytes → string → JSON.parse, which any client must do, every row visited.
    const p0 = process.cpuUsage();
    const pw0 = performance.now();
    let parsed = 0;
    for (const b of batches) for (const row of JSON.parse(b.toString("utf8")) as unknown[]) if (row) parsed++;
    const parseCpu = cpuSeconds(process.cpuUsage(p0));
    const parseWall = (performance.now() - pw0) / 1000;
    if (parsed !== ROWS) throw new Error(`parsed ${parsed} rows, expected ${ROWS}`);

    const MB = bytes / 1e6;
    console.log(`rows streamed        ${n.toLocaleString()} (checksum ${pidSum}), ${MB.toFixed(0)} MB of row JSON, in ${wall.toFixed(2)} s wall (load average ${loadStream})`);
    console.log(`wall clock           ${Math.round(n / wall).toLocaleString()} rows/s, ${(MB / wall).toFixed(1)} MB/s (the test server producing the rows shares the machine's cores)`);
    console.log(`client CPU           ${clientCpu.toFixed(2)} s → ${Math.round(n / clientCpu).toLocaleString()} rows per CPU second (gRPC, decode, JSON.parse, iteration)`);
    console.log(`plain JSON.parse CPU ${parseCpu.toFixed(2)} s → ${Math.round(ROWS / parseCpu).toLocaleString()} rows per CPU second, ${(MB / parseCpu).toFixed(1)} MB per CPU second (${parseWall.toFixed(2)} s wall)`);
    console.log(`client / parse       ${((parseCpu / clientCpu) * 100).toFixed(0)}% of the parse's rows per CPU second (CPU vs CPU; target ≥ 60%)`);
    console.log(`memory growth        RSS +${mb(peakRss - base.rss)} MB (peak ${mb(peakRss)} MB, target < 200 MB, over a warmed baseline of ${mb(base.rss)} MB), heap +${mb(peakHeap - base.heapUsed)} MB (peak ${mb(peakHeap)} MB over ${mb(base.heapUsed)} MB)`);
    console.log(`load average at end ${load()}`);
  } finally {
    child.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}
