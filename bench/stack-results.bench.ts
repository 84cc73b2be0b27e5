/**
 * stack_results over 1,000,000 rows: the stacking function fed by the client streaming a generated flow from the
 * test server (in a child process). Prints rows/s and peak RSS; memory must stay flat (bounded group map).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stackRows } from "../dfir/results/stack.js";
import { VelociraptorClient } from "../velociraptor/client.js";
import { parseApiClientYaml } from "../velociraptor/config.js";

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-stack-"));
  const child = spawn(process.execPath, ["--import", "tsx", "test-server/cli.ts", "--port", "0", "--out-dir", dir], { stdio: ["ignore", "ignore", "pipe"] });
  await new Promise<void>((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("api_client.yaml (admin)")) resolve();
    });
    child.on("exit", (c) => reject(new Error(`test server exited ${c}: ${err}`)));
  });
  try {
    const client = VelociraptorClient.fromConfig(parseApiClientYaml(readFileSync(join(dir, "api_client.yaml"), "utf8"), "bench"));
    let peak = process.memoryUsage().rss;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    const t0 = performance.now();
    const r = await stackRows(client.query("SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')"), { groupBy: ["Name", "Username"], timeField: "CreateTime" });
    const s = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    client.close();
    console.log(`stacked ${r.rowsScanned.toLocaleString()} rows into ${r.groupsTotal} groups in ${s.toFixed(2)} s → ${Math.round(r.rowsScanned / s).toLocaleString()} rows/s (bounded by the test server producing rows)`);
    console.log(`peak RSS ${(peak / 1e6).toFixed(0)} MB (flat: groups are bounded, rows are not kept)`);
    const t1 = performance.now();
    const { generatedRows } = await import("../test-server/model.js");
    await stackRows(generatedRows(1_000_000, 7), { groupBy: ["Name", "Username"], timeField: "CreateTime" });
    console.log(`stacking alone (no network): ${Math.round(1_000_000 / ((performance.now() - t1) / 1000)).toLocaleString()} rows/s`);
  } finally {
    child.kill("SIGTERM");
  }
}
