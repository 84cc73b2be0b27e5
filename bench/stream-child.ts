/**
 * Our client's side of bench/pyvelociraptor.bench.ts, run in its own process so its CPU is measured alone: streams one
 * query through VelociraptorClient, visiting every row, and writes the same figures as test/witness/pyvr_query.py
 * --stats-out (CPU of this process from process.cpuUsage(), i.e. getrusage(RUSAGE_SELF), every thread included).
 *
 * usage: node --import tsx bench/stream-child.ts API_CLIENT_YAML STATS_OUT VQL
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseApiClientYaml } from "../velociraptor/config.js";
import { VelociraptorClient } from "../velociraptor/client.js";

const [config, statsOut, vql] = process.argv.slice(2);
if (!config || !statsOut || !vql) {
  console.error("usage: stream-child.ts API_CLIENT_YAML STATS_OUT VQL");
  process.exit(2);
}

const seconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
const cfg = parseApiClientYaml(readFileSync(config, "utf8"), config);
// Measured from just before the channel is made to the end of the stream, as the Python side measures.
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const client = VelociraptorClient.fromConfig(cfg, { retry: { retries: 0 } });
let rows = 0;
try {
  for await (const row of client.query(vql, { batchRows: 1000, maxWaitSeconds: 1, name: "megaraptor", retry: false })) {
    void row;
    rows++;
  }
} finally {
  client.close();
}
const wall = (performance.now() - t0) / 1000;
const cpuStream = seconds(process.cpuUsage(cpu0));
writeFileSync(
  statsOut,
  JSON.stringify({
    rows,
    cpu_stream_s: cpuStream,
    cpu_total_s: seconds(process.cpuUsage()),
    wall_stream_s: wall,
    maxrss_kb: process.resourceUsage().maxRSS,
  }),
);
