/**
 * Stored results (test-server/result-store.ts) and generated results sent as text (test-server/generated-batches.ts)
 * against the row-by-row path: three servers from the same fixture — one running every statement row by row, one
 * with its generated results written to JSON Lines files, one building them as text — answer the same queries with
 * the same wire messages (Response bytes, Columns, parts, logs but for their elapsed times), and the stored one
 * really read its files, the direct one really built the rows as text.
 */
import * as grpc from "@grpc/grpc-js";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClientConstructor, type WireVQLResponse } from "../../proto/wire.js";
import { DEFAULT_FIXTURE, startTestServer, type FixtureInput, type TestServer } from "../../test-server/index.js";

let plain: TestServer;
let stored: TestServer;
let direct: TestServer;

// The default fixture with its generated flows cut to 4,321 rows (storing the 1M-row flow would cost seconds).
function fixture(): FixtureInput {
  const f = JSON.parse(readFileSync(DEFAULT_FIXTURE, "utf8")) as { orgs: { flows: { results: Record<string, unknown> }[] }[] };
  for (const o of f.orgs) for (const fl of o.flows) for (const [k, r] of Object.entries(fl.results)) if (r && typeof r === "object" && "generate" in r) fl.results[k] = { generate: { ...(r as { generate: object }).generate, rows: 4321 } };
  return f as unknown as FixtureInput;
}

async function messages(server: TestServer, vql: string, max_row: number, env: { key: string; value: string }[] = []) {
  const cfg = server.apiClientConfig();
  const Ctor = apiClientConstructor();
  const c = new Ctor(server.address, grpc.credentials.createSsl(Buffer.from(cfg.ca_certificate), Buffer.from(cfg.client_private_key), Buffer.from(cfg.client_cert)), {
    "grpc.ssl_target_name_override": "VelociraptorServer",
  }) as unknown as grpc.Client & { Query: (args: object) => grpc.ClientReadableStream<WireVQLResponse> };
  const out: unknown[] = [];
  try {
    for await (const m of c.Query({ Query: [{ VQL: vql, Name: "t" }], max_row, max_wait: 10, env, org_id: "", timeout: 0 })) {
      const { timestamp: _t, ...rest } = m as WireVQLResponse;
      out.push({ ...rest, log: rest.log.replace(/^Time \d+\.\d{3}:/, "Time _:") });
    }
  } finally {
    c.close();
  }
  return out;
}

beforeAll(async () => {
  [plain, stored, direct] = await Promise.all([startTestServer({ fixture: fixture(), rowByRow: true }), startTestServer({ fixture: fixture() }), startTestServer({ fixture: fixture() })]);
  await stored.storeResults();
});
afterAll(async () => {
  await Promise.all([plain?.stop(), stored?.stop(), direct?.stop()]);
});

const FLOW = "client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01', artifact='Linux.Sys.Pslist'";

describe("stored generated results", () => {
  it.each([
    ["every row, max_row 1000", `SELECT * FROM source(${FLOW})`, 1000],
    ["every row, max_row 7", `SELECT * FROM source(${FLOW})`, 7],
    ["a page that ends on a batch boundary", `SELECT * FROM source(${FLOW}, start_row=100, count=1000)`, 100],
    ["the last rows", `SELECT * FROM source(${FLOW}, start_row=4300, count=50)`, 1000],
    ["past the end", `SELECT * FROM source(${FLOW}, start_row=5000)`, 1000],
    ["count=0", `SELECT * FROM source(${FLOW}, count=0)`, 1000],
    ["LIMIT, as stack_results sends it", `SELECT * FROM source(${FLOW}) LIMIT 2500`, 1000],
    ["LIMIT on a batch boundary", `SELECT * FROM source(${FLOW}, start_row=10) LIMIT 2000`, 1000],
    ["LIMIT below count", `SELECT * FROM source(${FLOW}, start_row=4000, count=200) LIMIT 150`, 64],
    ["LIMIT past the end", `SELECT * FROM source(${FLOW}, start_row=4300) LIMIT 100`, 1000],
    ["LIMIT 0", `SELECT * FROM source(${FLOW}) LIMIT 0`, 1000],
  ])("sends the same messages as the row-by-row path: %s", async (_name, vql, maxRow) => {
    const before = stored.model.results.served;
    const beforeDirect = direct.model.generatedServed;
    const want = await messages(plain, vql, maxRow);
    expect(await messages(stored, vql, maxRow)).toEqual(want);
    expect(await messages(direct, vql, maxRow)).toEqual(want);
    const rows = want.reduce<number>((n, m) => n + ((m as WireVQLResponse).Response ? (JSON.parse((m as WireVQLResponse).Response) as unknown[]).length : 0), 0);
    expect(stored.model.results.served - before).toBe(rows);
    expect(direct.model.generatedServed - beforeDirect).toBe(rows);
    expect(plain.model.generatedServed + plain.model.results.served).toBe(0);
  });

  it("serves the query generate_timeline sends (names bound through env) from the files, byte for byte", async () => {
    const vql = "SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)";
    const env = [
      { key: "ClientId", value: "C.2b3c4d5e6f7a8b01" },
      { key: "FlowId", value: "F.BIGSTREAM01" },
      { key: "ArtifactName", value: "Linux.Sys.Pslist" },
    ];
    const before = stored.model.results.served;
    const beforeDirect = direct.model.generatedServed;
    const want = await messages(plain, vql, 1000, env);
    expect(await messages(stored, vql, 1000, env)).toEqual(want);
    expect(await messages(direct, vql, 1000, env)).toEqual(want);
    expect(stored.model.results.served - before).toBe(4321);
    expect(direct.model.generatedServed - beforeDirect).toBe(4321);
  });

  it("leaves other statements to the row-by-row path (projection, WHERE, a missing flow) with the same answers", async () => {
    const before = stored.model.results.served;
    const beforeDirect = direct.model.generatedServed;
    for (const vql of [`SELECT Pid FROM source(${FLOW}, count=5)`, `SELECT * FROM source(${FLOW}) WHERE Name = 'sshd' LIMIT 3`, "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.NOSUCH', artifact='Linux.Sys.Pslist')"]) {
      const want = await messages(plain, vql, 1000);
      expect(await messages(stored, vql, 1000)).toEqual(want);
      expect(await messages(direct, vql, 1000)).toEqual(want);
    }
    expect(stored.model.results.served).toBe(before);
    expect(direct.model.generatedServed).toBe(beforeDirect);
  });
});
