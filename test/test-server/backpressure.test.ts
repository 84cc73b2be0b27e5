/**
 * A slow reader must get every row exactly once. Found by the pyvelociraptor benchmark: under load the binding read
 * slowly enough that a batch waiting for HTTP/2 flow control was older than max_wait, the max_wait timer sent the
 * same batch again, and the JSON Lines it wrote had thousands of duplicated rows.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClientConstructor, type WireVQLResponse } from "../../proto/wire.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";

let rowByRow: TestServer;
let direct: TestServer;

beforeAll(async () => {
  // Row by row the max_wait timer runs beside the writes (the case that duplicated batches); the direct path sends
  // generated rows as text batches (test-server/generated-batches.ts) and must wait for drain just the same.
  [rowByRow, direct] = await Promise.all([startTestServer({ rowByRow: true }), startTestServer()]);
});
afterAll(async () => {
  await Promise.all([rowByRow?.stop(), direct?.stop()]);
});

describe("back-pressure", () => {
  it.each([
    ["row by row", () => rowByRow],
    ["generated rows as text", () => direct],
  ])("a reader that stalls longer than max_wait gets each batch once, parts in order (%s)", async (_name, serverOf) => {
    const server = serverOf();
    const cfg = server.apiClientConfig();
    const Ctor = apiClientConstructor();
    const c = new Ctor(server.address, grpc.credentials.createSsl(Buffer.from(cfg.ca_certificate), Buffer.from(cfg.client_private_key), Buffer.from(cfg.client_cert)), {
      "grpc.ssl_target_name_override": "VelociraptorServer",
    }) as unknown as grpc.Client & { Query: (args: object) => grpc.ClientReadableStream<WireVQLResponse> };
    const ROWS = 30_000;
    const call = c.Query({
      Query: [{ VQL: `SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01') LIMIT ${ROWS}`, Name: "slow" }],
      max_row: 1000,
      max_wait: 1,
      env: [],
      org_id: "",
      timeout: 0,
    });
    const pids: number[] = [];
    const parts: number[] = [];
    let stalled = false;
    try {
      for await (const m of call as AsyncIterable<WireVQLResponse>) {
        if (!m.Response) continue;
        parts.push(Number(m.part));
        for (const row of JSON.parse(m.Response) as { Pid: number }[]) pids.push(row.Pid);
        if (!stalled) {
          // Stop reading for 2.5 max_waits: the flow-control window fills and the server waits for drain.
          stalled = true;
          await new Promise((r) => setTimeout(r, 2500));
        }
      }
    } finally {
      c.close();
    }
    expect(pids).toHaveLength(ROWS);
    expect(new Set(pids).size).toBe(ROWS);
    expect(parts).toEqual(parts.map((_, i) => i));
  }, 120_000);
});
