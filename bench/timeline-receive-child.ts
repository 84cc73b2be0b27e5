/**
 * The receive floors of bench/timeline.bench.ts, each in its own process so its CPU is measured alone. Both read the
 * same flows' results the tool reads (the same query, over gRPC/TLS from the same server) and keep nothing:
 * - `transport`: grpc-js and the project's VQLResponse decoder only — every result batch as the bytes of its JSON
 *   array, not split into rows. What no client built on grpc-js can go below on this machine.
 * - `indexed`: VelociraptorClient#indexedBatches — each batch read once for its rows and where their columns lie
 *   (row-index.ts), what generate_timeline's build starts from. Above `transport` by that pass and the client's own
 *   bookkeeping; what the tool spends above it is the timeline's own work.
 * - `lines`: VelociraptorClient#jsonLines (json-lines.ts splits each batch into rows), what `megaraptor query
 *   --format jsonl` writes; shown for comparison.
 *
 * usage: node --import tsx bench/timeline-receive-child.ts transport|indexed|lines API_CLIENT_YAML STATS_OUT CLIENT_ID:FLOW_ID...
 */
import * as grpc from "@grpc/grpc-js";
import { readFileSync, writeFileSync } from "node:fs";
import { parseApiClientYaml, type ApiClientConfig } from "../velociraptor/config.js";
import { VelociraptorClient } from "../velociraptor/client.js";
import { vqlQuery, type BuiltQuery } from "../velociraptor/query.js";
import { apiClientConstructor, apiServiceDefinition, type WireVQLCollectorArgs } from "../proto/wire.js";
import { decodeVQLResponse, type WireVQLResponseBytes } from "../proto/vql-response.js";

const [mode, config, statsOut, ...flows] = process.argv.slice(2);
if ((mode !== "transport" && mode !== "indexed" && mode !== "lines") || !config || !statsOut || !flows.length) {
  console.error("usage: timeline-receive-child.ts transport|indexed|lines API_CLIENT_YAML STATS_OUT CLIENT_ID:FLOW_ID...");
  process.exit(2);
}
const cfg = parseApiClientYaml(readFileSync(config, "utf8"), config);
const queryOf = (f: string) => {
  const [ClientId, FlowId] = f.split(":");
  return vqlQuery("SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", { ClientId, FlowId, ArtifactName: "Linux.Sys.Pslist" });
};

/**
 * Rows and bytes through VelociraptorClient, as JSON Lines or as indexed batches (rows counted by the client; an
 * indexed batch's bytes are the rows' spans, so both count the same bytes less the separators).
 */
async function throughClient(how: "indexed" | "lines"): Promise<{ rows: number; bytes: number }> {
  const client = VelociraptorClient.fromConfig(cfg, { retry: { retries: 0 } });
  let bytes = 0;
  let rows = 0;
  try {
    for (const f of flows) {
      const q = client.query(queryOf(f));
      if (how === "lines") for await (const chunk of q.jsonLines()) bytes += chunk.length;
      else for await (const batch of q.indexedBatches()) bytes += batch.lines ? batch.lines.length : batch.row[4 * (batch.rows - 1) + 1]! - batch.row[0]! + 1;
      rows += q.rowCount;
    }
  } finally {
    client.close();
  }
  return { rows, bytes };
}

/**
 * Response bytes through grpc-js alone, with the channel options and request VelociraptorClient uses (batches of
 * 1,000 rows, the same flow-control window), so the two floors differ only by what the client does with a batch.
 */
async function transport(c: ApiClientConfig): Promise<{ rows: number; bytes: number }> {
  const Ctor = apiClientConstructor();
  const grpcClient = new Ctor(c.api_connection_string, grpc.credentials.createSsl(Buffer.from(c.ca_certificate), Buffer.from(c.client_private_key), Buffer.from(c.client_cert)), {
    "grpc.ssl_target_name_override": c.pinned_server_name || "VelociraptorServer",
    "grpc.default_authority": c.pinned_server_name || "VelociraptorServer",
    "grpc.max_receive_message_length": 1024 * 1024 * 1024,
    "grpc-node.flow_control_window": 8 * 1024 * 1024,
  });
  let bytes = 0;
  try {
    for (const f of flows) {
      const q: BuiltQuery = queryOf(f);
      const args: WireVQLCollectorArgs = { Query: [{ VQL: q.vql, Name: "floor" }], env: Object.entries(q.env).map(([key, value]) => ({ key, value })), max_row: 1000, max_wait: 1, timeout: 0, org_id: "" };
      const call = grpcClient.makeServerStreamRequest("/proto.API/Query", (a: WireVQLCollectorArgs) => apiServiceDefinition().Query!.requestSerialize(a), decodeVQLResponse, args, new grpc.Metadata(), {});
      for await (const msg of call as AsyncIterable<WireVQLResponseBytes>) bytes += msg.Response.length;
    }
  } finally {
    grpcClient.close();
  }
  // Rows are not counted here: counting them means scanning the batch, which is the work this floor leaves out.
  return { rows: -1, bytes };
}

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const got = mode === "transport" ? await transport(cfg) : await throughClient(mode);
const u = process.cpuUsage(cpu0);
writeFileSync(statsOut, JSON.stringify({ ...got, cpu_s: (u.user + u.system) / 1e6, wall_s: (performance.now() - t0) / 1000 }));
