import { generatedRows } from "../test-server/model.js";
import { timelineLines } from "../dfir/analysis/timeline/lines.js";
import { newStats } from "../dfir/analysis/timeline/build.js";
const N = Number(process.argv[2] ?? 250000);
async function* rows(seed: number) {
  let batch: unknown[] = [];
  for (const r of generatedRows(N, seed)) { batch.push(r); if (batch.length === 1000) { const s = JSON.stringify(batch); batch = []; yield* JSON.parse(s) as Record<string, unknown>[]; } }
}
let peak = 0; const iv = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
const pre = process.cpuUsage(); const t = performance.now(); let n = 0;
const st = newStats();
for await (const b of timelineLines([0,1,2,3].map((h) => ({ artifact: "Linux.Sys.Pslist", client_id: `C.${h}`, flow_id: `F.${h}`, rows: rows(11 + h) })), { hostnames: new Map([["C.0", "a"]]), runBytes: Number(process.argv[3] ?? 32e6) }, st)) n += b.starts.length;
const c = process.cpuUsage(pre);
clearInterval(iv);
console.log(n, ((performance.now() - t) / 1000).toFixed(2), "s wall", ((c.user + c.system) / 1e6).toFixed(2), "s cpu", (peak / 1e6).toFixed(0), "MB peak");
