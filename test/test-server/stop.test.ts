/**
 * stop() ends even when a client keeps a stream open and never reads: a graceful stop alone would wait for that call
 * for ever (and hold a test's afterAll until its timeout), so the rest is cut after a short grace period. The client
 * sees its stream end with an error, not a hang.
 */
import * as grpc from "@grpc/grpc-js";
import { once } from "node:events";
import { connect } from "node:net";
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

describe("test server stop with a connection that never finishes its TLS handshake", () => {
  // A TCP connection that sends nothing (a port probe, a client killed mid-connect) is held by the TLS server until
  // its handshake timeout (120 s): grpc-js's graceful and forced shutdowns only close HTTP/2 sessions, so the
  // server's close waited for it. It is what held test/cli/query.test.ts's afterAll for its 120 s hook timeout.
  it("stop() still ends within the grace period and a bit", async () => {
    const server = await startTestServer();
    const [host, port] = [server.address.slice(0, server.address.lastIndexOf(":")), Number(server.address.slice(server.address.lastIndexOf(":") + 1))];
    const silent = connect(port, host);
    await once(silent, "connect");
    const t0 = performance.now();
    await server.stop();
    const took = performance.now() - t0;
    expect(took).toBeLessThan(8000);
    silent.destroy();
  }, 30_000);
});
