/**
 * stop() ends even when a client keeps a stream open and never reads: a graceful stop alone would wait for that call
 * for ever (and hold a test's afterAll until its timeout), so the rest is cut after a short grace period. The client
 * sees its stream end with an error, not a hang.
 */
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { apiClientConstructor, type WireVQLResponse } from "../../proto/wire.js";
import { startTestServer } from "../../test-server/index.js";

describe("test server stop", () => {
  it("cuts a stalled stream after the grace period, and the client's stream ends with an error", async () => {
    const server = await startTestServer();
    const cfg = server.apiClientConfig();
    const Ctor = apiClientConstructor();
    const c = new Ctor(server.address, grpc.credentials.createSsl(Buffer.from(cfg.ca_certificate), Buffer.from(cfg.client_private_key), Buffer.from(cfg.client_cert)), {
      "grpc.ssl_target_name_override": "VelociraptorServer",
    }) as unknown as grpc.Client & { Query: (args: object) => grpc.ClientReadableStream<WireVQLResponse> };
    const call = c.Query({ Query: [{ VQL: "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')", Name: "stalled" }], max_row: 1000, max_wait: 1, env: [], org_id: "" });
    // Read one message, then stop reading: the server's writes wait for flow control.
    await new Promise<void>((resolve, reject) => {
      call.once("data", () => (call.pause(), resolve()));
      call.once("error", reject);
    });
    const ended = new Promise<string>((resolve) => {
      call.on("error", (e: grpc.ServiceError) => resolve(`error ${e.code}`));
      call.on("end", () => resolve("end"));
    });
    const t0 = performance.now();
    await server.stop();
    const took = performance.now() - t0;
    expect(took).toBeGreaterThan(2000); // it did wait for the open call first
    expect(took).toBeLessThan(8000);
    call.resume();
    expect(await ended).toMatch(/^error \d+$/);
    c.close();
  }, 30_000);
});
