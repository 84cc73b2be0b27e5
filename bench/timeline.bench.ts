/**
 * Timeline merge: 2,000,000 events from 10 time-ordered sources through the k-way merge (target ≥ 1M events/s,
 * memory flat — events are generated lazily and dropped after use, so RSS must not grow with the count). Then the
 * whole pipeline (rows → events with time parsing and messages → per-source external sort → merge) on 500,000 rows.
 */
import { buildTimeline, newStats } from "../dfir/analysis/timeline/build.js";
import { mergeSorted } from "../dfir/analysis/timeline/merge.js";

const SOURCES = 10;
const PER_SOURCE = 200_000;

function* source(i: number, n: number) {
  let t = Date.UTC(2026, 10, 20) * 1000 + i * 1000;
  for (let k = 0; k < n; k++) {
    t += 1 + ((k * 2654435761 + i) % 5_000_000);
    yield { timestamp_us: t, source: `S${i}`, message: `event ${k}`, field: "T", timestamp_desc: "x" };
  }
}

function* rows(i: number, n: number) {
  let t = Date.UTC(2026, 10, 20) * 1000 + i * 1000;
  for (let k = 0; k < n; k++) {
    t += 1 + ((k * 2654435761 + i) % 5_000_000);
    yield { Pid: k, Name: `p${k % 97}.exe`, CommandLine: `p${k % 97}.exe --run ${k}`, CreateTime: t };
  }
}

export default async function bench(): Promise<void> {
  const rss: number[] = [];
  const t0 = performance.now();
  let n = 0;
  let last = -Infinity;
  for await (const e of mergeSorted(Array.from({ length: SOURCES }, (_, i) => source(i, PER_SOURCE)), (x) => x.timestamp_us)) {
    if (e.timestamp_us < last) throw new Error("merge out of order");
    last = e.timestamp_us;
    if (++n % 400_000 === 0) rss.push(process.memoryUsage().rss);
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`merged ${n.toLocaleString()} events from ${SOURCES} sources in ${s.toFixed(2)} s → ${Math.round(n / s).toLocaleString()} events/s (target ≥ 1,000,000)`);
  console.log(`RSS at each 400k events: ${rss.map((r) => `${(r / 1e6).toFixed(0)}`).join(" → ")} MB (flat = memory does not grow with events)`);

  const total = 500_000;
  const stats = newStats();
  const t1 = performance.now();
  let m = 0;
  let peak = 0;
  for await (const _e of buildTimeline(Array.from({ length: SOURCES }, (_, i) => ({ artifact: "Windows.System.Pslist", client_id: `C.${i}`, rows: rows(i, total / SOURCES) })), { runSize: 20_000 }, stats)) {
    if (++m % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
  }
  const s1 = (performance.now() - t1) / 1000;
  console.log(`full pipeline (parse times, messages, external sort with 20k-event runs spilled to disk, merge): ${m.toLocaleString()} events in ${s1.toFixed(2)} s → ${Math.round(m / s1).toLocaleString()} events/s, peak RSS ${(peak / 1e6).toFixed(0)} MB`);
}
