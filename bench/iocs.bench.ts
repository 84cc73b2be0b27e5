/**
 * IOC extraction throughput: 200 MB of Velociraptor-shaped result rows (./iocs-corpus.ts; no row repeats) through
 * IocAggregator.addText in 64 KB pieces with the default allow-list. Prints wall MB/s and CPU seconds per 100 MB of
 * this process (CPU is the figure to compare when other work shares the machine), the load average, the target
 * (≥ 100 MB/s, issue 17), and distinct and suppressed indicators. Throws, without a figure, when the extraction
 * differs from what the corpus planted: a fast wrong extractor must not produce a number.
 */
import { loadavg } from "node:os";
import { AllowMatcher, DEFAULT_ALLOW } from "../dfir/analysis/iocs/allowlist.js";
import { IocAggregator } from "../dfir/analysis/iocs/aggregate.js";
import { BenchCorpus, type Planted } from "./iocs-corpus.js";

const TOTAL = 200 * 1024 * 1024;
const CHUNK = 64 * 1024;
const TARGET = 100;

/** Every planted indicator found with its count and spelling, allow-listed ones suppressed, nothing else found. */
function check(agg: IocAggregator, allow: AllowMatcher, planted: Map<string, Planted>): void {
  const key = (type: string, value: string) => `${type}\u0000${type === "windows_path" ? value.toLowerCase() : value}`;
  const problems: string[] = [];
  const found = new Map(agg.results().map((r) => [key(r.type, r.value), r]));
  let suppressed = 0;
  for (const [k, p] of planted) {
    const r = found.get(k);
    if (allow.check(p).allowed) {
      suppressed += p.count;
      if (r) problems.push(`allow-listed but reported: ${p.type} ${p.value}`);
    } else if (!r) problems.push(`missed: ${p.type} ${p.value}`);
    else if (r.count !== p.count || r.value !== p.value) problems.push(`${p.type} ${p.value}: planted ${p.count}×, found ${r.count}× as ${r.value}`);
  }
  for (const [k, r] of found) if (!planted.has(k)) problems.push(`not planted (false positive): ${r.type} ${r.value}`);
  const counted = [...agg.suppressed.values()].reduce((a, b) => a + b, 0);
  if (counted !== suppressed) problems.push(`suppressed ${counted}, planted allow-listed ${suppressed}`);
  if (agg.overflow) problems.push(`${agg.overflow} indicators over the aggregator's cap`);
  if (problems.length) throw new Error(`IOC bench: extraction differs from the planted indicators (${problems.length}):\n${problems.slice(0, 20).join("\n")}`);
}

export default async function bench(): Promise<void> {
  const corpus = new BenchCorpus();
  const chunks: string[] = [];
  for (let bytes = 0; bytes < TOTAL; ) {
    const c = corpus.chunk(CHUNK);
    chunks.push(c);
    bytes += c.length;
  }
  const allow = new AllowMatcher(DEFAULT_ALLOW);
  const agg = new IocAggregator(allow);
  const load = loadavg();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < chunks.length; i++) agg.addText(chunks[i]!, { client_id: `C.${i % 10}`, artifact: "bench" });
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const mb = agg.bytesScanned / 1024 / 1024;
  check(agg, allow, corpus.planted);
  const suppressed = [...agg.suppressed.values()].reduce((a, b) => a + b, 0);
  console.log(
    `extracted from ${mb.toFixed(0)} MB (${chunks.length} distinct 64 KB pieces of result rows) in ${wall.toFixed(2)} s wall → ${(mb / wall).toFixed(1)} MB/s (target ≥ ${TARGET} MB/s); ` +
      `CPU ${((cpuS * 100) / mb).toFixed(2)} s per 100 MB (${(mb / cpuS).toFixed(1)} MB per CPU second); load average ${load.map((l) => l.toFixed(2)).join(" ")} before, ${loadavg()[0]!.toFixed(2)} after`,
  );
  console.log(`checked against the planted indicators: ${agg.size.toLocaleString()} distinct found, ${suppressed.toLocaleString()} suppressed by the allow-list, none missed or extra`);
  await Promise.resolve();
}
