/**
 * The receive floor of bench/timeline.bench.ts, in its own process so its CPU is measured alone: reads the same
 * flows' results the tool reads (the same query, through VelociraptorClient over gRPC/TLS, as JSON Lines chunks —
 * the bytes generate_timeline's build starts from) and does nothing else with them. What the tool spends above this
 * is the timeline's own work.
 *
 * usage: node --import tsx bench/timeline-receive-child.ts API_CLIENT_YAML STATS_OUT CLIENT_ID:FLOW_ID...
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseApiClientYaml } from "../velociraptor/config.js";
import { VelociraptorClient } from "../velociraptor/client.js";
import { vqlQuery } from "../velociraptor/query.js";

const [config, statsOut, ...flows] = process.argv.slice(2);
if (!config || !statsOut || !flows.length) {
  console.error("usage: timeline-receive-child.ts API_CLIENT_YAML STATS_OUT CLIENT_ID:FLOW_ID...");
  process.exit(2);
}
const cfg = parseApiClientYaml(readFileSync(config, "utf8"), config);
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const client = VelociraptorClient.fromConfig(cfg, { retry: { retries: 0 } });
let bytes = 0;
let rows = 0;
try {
  for (const f of flows) {
    const [ClientId, FlowId] = f.split(":");
    const q = client.query(vqlQuery("SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", { ClientId, FlowId, ArtifactName: "Linux.Sys.Pslist" }));
    for await (const chunk of q.jsonLines()) bytes += chunk.length;
    rows += q.rowCount;
  }
} finally {
  client.close();
}
const u = process.cpuUsage(cpu0);
writeFileSync(statsOut, JSON.stringify({ rows, bytes, cpu_s: (u.user + u.system) / 1e6, wall_s: (performance.now() - t0) / 1000 }));
