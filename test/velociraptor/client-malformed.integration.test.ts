/**
 * A result batch that is not a JSON array, through the row path and the indexed-batch path: a server on the real proto.API service (mutual TLS
 * with the test PKI) that sends whatever Response text a test gives it. The stream ends with MALFORMED_RESPONSE after
 * the rows before the fault, and the RPC is cancelled on the server.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiServiceDefinition, type WireVQLResponse } from "../../proto/wire.js";
import { createTestPki } from "../../test-server/index.js";
import { MalformedResponseError, VelociraptorClient } from "../../velociraptor/index.js";

let server: grpc.Server;
let client: VelociraptorClient;
/** The Response texts the next query sends, in order; the stream then stays open until the client cancels it. */
let batches: string[] = [];
let cancelled = 0;

beforeAll(async () => {
  const pki = await createTestPki();
  server = new grpc.Server();
  server.addService(apiServiceDefinition(), {
    Query: (call: grpc.ServerWritableStream<unknown, WireVQLResponse>) => {
      call.on("cancelled", () => cancelled++);
      for (const Response of batches) call.write({ Response, Columns: ["Pid", "Name"], timestamp: 0, query_id: 1, part: 0, log: "" });
    },
  });
  const creds = grpc.ServerCredentials.createSsl(Buffer.from(pki.ca.certificate), [{ cert_chain: Buffer.from(pki.server.certificate), private_key: Buffer.from(pki.server.privateKey) }], true);
  const port = await new Promise<number>((resolve, reject) => server.bindAsync("127.0.0.1:0", creds, (err, p) => (err ? reject(err) : resolve(p))));
  const admin = pki.clients.admin;
  client = VelociraptorClient.fromConfig(
    { ca_certificate: pki.ca.certificate, client_cert: admin.certificate, client_private_key: admin.privateKey, api_connection_string: `127.0.0.1:${port}`, name: "admin" },
    { retry: { retries: 0 } },
  );
});
afterAll(() => {
  client.close();
  server.forceShutdown();
});

const rows = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ Pid: from + i, Name: `process number ${from + i} with a long enough name` }));

describe("a malformed result batch on the row path", () => {
  it("delivers the rows before the fault, then MALFORMED_RESPONSE, and cancels the RPC", async () => {
    const first = rows(0, 1000);
    const second = rows(1000, 1000);
    // A batch of ~60 KB whose last row is cut off: its first pieces parse, the last does not.
    batches = [JSON.stringify(first), `${JSON.stringify(second).slice(0, -1)},{"Pid":2000,"Name":]`];
    const before = cancelled;
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const row of client.query("SELECT * FROM pslist()")) seen.push(row);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect((err as MalformedResponseError).code).toBe("MALFORMED_RESPONSE");
    expect(seen.length).toBeGreaterThanOrEqual(1000);
    expect(seen).toEqual([...first, ...second].slice(0, seen.length));
    await expect.poll(() => cancelled).toBe(before + 1);
  });

  it("refuses a batch that is JSON but not an array, delivering nothing", async () => {
    batches = ['{"Pid":1,"Name":"x"}'];
    const seen: unknown[] = [];
    const err = await (async () => {
      for await (const row of client.query("SELECT * FROM pslist()")) seen.push(row);
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(seen).toEqual([]);
  });
});

describe("a malformed result batch on the indexed-batch path (QueryStream#indexedBatches, the timeline's)", () => {
  const read = async () => {
    const seen: string[] = [];
    const err = await (async () => {
      for await (const ix of client.query("SELECT * FROM pslist()").indexedBatches())
        for (let r = 0; r < ix.rows; r++) seen.push(ix.bytes.toString("utf8", ix.row[4 * r]!, ix.row[4 * r + 1]!));
    })().catch((e: unknown) => e);
    return { seen, err };
  };

  it.each([
    ["a batch whose last row is cut off", (b: string) => `${b.slice(0, -1)},{"Pid":2000,"Name":]`],
    ["a batch cut inside a string", (b: string) => b.slice(0, b.length / 2)],
  ])("delivers the whole batches before %s, then MALFORMED_RESPONSE, and cancels the RPC", async (_what, cut) => {
    const first = rows(0, 1000);
    batches = [JSON.stringify(first), cut(JSON.stringify(rows(1000, 1000)))];
    const before = cancelled;
    const { seen, err } = await read();
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect((err as MalformedResponseError).code).toBe("MALFORMED_RESPONSE");
    expect(seen.map((s) => JSON.parse(s) as unknown)).toEqual(first);
    await expect.poll(() => cancelled).toBe(before + 1);
  });

  it("refuses a batch that is JSON but not an array, delivering nothing", async () => {
    batches = ['{"Pid":1,"Name":"x"}'];
    const { seen, err } = await read();
    expect(err).toBeInstanceOf(MalformedResponseError);
    expect(seen).toEqual([]);
  });
});
