/**
 * Streams 1,000,000 process rows (~420 bytes each) from the test server — run in a child process so it does not share
 * the client's CPU — through VelociraptorClient, consuming rows as they arrive. Prints wall-clock rows/s and MB/s,
 * the client's own CPU rate, peak RSS, and plain parsing of the same bytes (UTF-8 decode + JSON.parse) for comparison.
 * Targets: client CPU rate ≥ 60% of plain JSON.parse; peak RSS < 200 MB.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseApiClientYaml } from "../velociraptor/config.js";
import { VelociraptorClient } from "../velociraptor/client.js";
import { generatedRows } from "../test-server/model.js";

const ROWS = 1_000_000;
const QUERY = "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')";

async function startServerProcess(dir: string) {
  const child = spawn(process.execPath, ["--import", "tsx", "test-server/cli.ts", "--port", "0", "--out-dir", dir], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("api_client.yaml (admin)")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`test server exited (${code}): ${err}`)));
  });
  return child;
}

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-"));
  const child = await startServerProcess(dir);
  try {
    const client = VelociraptorClient.fromConfig(parseApiClientYaml(readFileSync(join(dir, "api_client.yaml"), "utf8"), "bench"));
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let n = 0;
    let pidSum = 0;
    for await (const row of client.query(QUERY, { batchRows: 1000 })) {
      n++;
      pidSum += row.Pid as number;
    }
    const wall = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    clearInterval(sampler);
    client.close();

    // The same bytes, parsed plainly: batches of 1,000 rows serialised the way the server sends them.
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
    // Plain parsing of the same bytes: UTF-8 bytes → string → JSON.parse, which any client must do.
    const p0 = performance.now();
    let parsed = 0;
    for (const b of batches) parsed += (JSON.parse(b.toString("utf8")) as unknown[]).length;
    const parseSeconds = (performance.now() - p0) / 1000;
    const strings = batches.map((b) => b.toString("utf8"));
    const s0 = performance.now();
    for (const s of strings) JSON.parse(s);
    const stringOnlySeconds = (performance.now() - s0) / 1000;

    const mb = bytes / 1e6;
    const clientCpuRate = n / cpuSeconds;
    const parseRate = parsed / parseSeconds;
    console.log(`rows streamed        ${n.toLocaleString()} (checksum ${pidSum}) in ${wall.toFixed(2)} s`);
    console.log(`wall clock           ${Math.round(n / wall).toLocaleString()} rows/s, ${(mb / wall).toFixed(1)} MB/s (bounded by the test server producing rows)`);
    console.log(`client CPU           ${cpuSeconds.toFixed(2)} s → ${Math.round(clientCpuRate).toLocaleString()} rows/s of client CPU`);
    console.log(`plain JSON.parse     ${Math.round(parseRate).toLocaleString()} rows/s, ${(mb / parseSeconds).toFixed(1)} MB/s over the same ${mb.toFixed(0)} MB (bytes → string → parse)`);
    console.log(`  (string-only parse ${Math.round(ROWS / stringOnlySeconds).toLocaleString()} rows/s, ${(mb / stringOnlySeconds).toFixed(1)} MB/s — for reference)`);
    console.log(`client / parse       ${((clientCpuRate / parseRate) * 100).toFixed(0)}% (target ≥ 60%)`);
    console.log(`peak RSS             ${(peak / 1e6).toFixed(0)} MB while streaming (target < 200 MB)`);
  } finally {
    child.kill("SIGTERM");
  }
}
