/**
 * Cancellation and deadlines of the client, against the API test server and against a port that accepts TCP and
 * never speaks: a cancel at any point ends in CancelledError (never an 'error' event nobody listens to, which kills
 * the process), and no call waits longer than the connect deadline for a handshake that never comes.
 */
import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CancelledError, ConnectTimeoutError, VelociraptorClient } from "../../velociraptor/index.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";

let server: TestServer;
let client: VelociraptorClient;
const BIG_FLOW = "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')";
const UPLOAD = ["clients", "C.1a2b3c4d5e6f7a01", "collections", "F.CT1NETSTAT1", "uploads", "auto", "C%3A", "Users", "jdoe", "AppData", "Local", "Temp", "svch0st.exe"];

/** Errors that escaped to the process: an unhandled 'error' event surfaces here before it would kill a real server. */
const escaped: unknown[] = [];
const onUncaught = (err: unknown) => void escaped.push(err);

beforeAll(async () => {
  process.on("uncaughtException", onUncaught);
  server = await startTestServer();
  client = VelociraptorClient.fromConfig(server.apiClientConfig(), { retry: { retries: 0 } });
});
afterAll(async () => {
  process.off("uncaughtException", onUncaught);
  client.close();
  await server.stop();
});

const settle = () => new Promise((r) => setTimeout(r, 200));

describe("cancelling a query", () => {
  it("an already-aborted signal: CancelledError, and no RPC is opened", async () => {
    const before = server.stats.completed + server.stats.cancelled;
    const err = await client.queryAll("SELECT * FROM info()", { signal: AbortSignal.abort() }).catch((e) => e);
    await settle();
    expect(err).toBeInstanceOf(CancelledError);
    expect(err.code).toBe("CANCELLED");
    expect(server.stats.completed + server.stats.cancelled).toBe(before);
    expect(escaped).toEqual([]);
  });

  it("abort between creating the stream and reading it: CancelledError, nothing escapes", async () => {
    const ac = new AbortController();
    const stream = client.query(BIG_FLOW, { signal: ac.signal });
    ac.abort();
    const err = await stream.summary().catch((e) => e);
    await settle();
    expect(err).toBeInstanceOf(CancelledError);
    expect(escaped).toEqual([]);
  });

  it("abort while waiting for the first batch, and mid-stream: CancelledError, and the server sees the RPC cancelled", async () => {
    for (const afterRows of [0, 5000]) {
      const ac = new AbortController();
      const cancelledBefore = server.stats.cancelled;
      let n = 0;
      const run = (async () => {
        for await (const _ of client.query(BIG_FLOW, { signal: ac.signal, batchRows: 500 })) if (++n === afterRows) ac.abort();
      })();
      if (afterRows === 0) setImmediate(() => ac.abort());
      const err = await run.catch((e) => e);
      expect(err, `after ${afterRows} rows`).toBeInstanceOf(CancelledError);
      await settle();
      // An abort before the RPC reached the server never opens it; one mid-stream must cancel it there.
      if (afterRows > 0) expect(server.stats.cancelled).toBeGreaterThan(cancelledBefore);
    }
    expect(escaped).toEqual([]);
  });

  it("cancel() on a stream nobody iterated, and a consumer that stops early: no error escapes", async () => {
    const idle = client.query(BIG_FLOW);
    idle.cancel();
    const partial = client.query(BIG_FLOW);
    for await (const _ of partial) break;
    partial.cancel();
    await settle();
    expect(escaped).toEqual([]);
  });

  it("the client stays usable after every kind of cancel", async () => {
    const { rows } = await client.queryAll("SELECT Hostname FROM info()");
    expect(rows).toEqual([{ Hostname: "velociraptor-test" }]);
  });
});

describe("cancelling a file read (unary VFSGetBuffer)", () => {
  it("stops between chunks with CancelledError and reads no further", async () => {
    const ac = new AbortController();
    let chunks = 0;
    const err = await client
      .readFile(UPLOAD, {
        chunkSize: 1024 * 1024,
        signal: ac.signal,
        onChunk: () => {
          if (++chunks === 2) ac.abort();
        },
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(CancelledError);
    expect(chunks).toBe(2);
  });

  it("an already-aborted signal sends no request", async () => {
    const err = await client.vfsGetBuffer({ components: UPLOAD, offset: 0, length: 10, signal: AbortSignal.abort() }).catch((e) => e);
    expect(err).toBeInstanceOf(CancelledError);
  });
});

describe("a port that accepts TCP and never completes TLS", () => {
  let silent: Server;
  const sockets: Socket[] = [];
  let address: string;

  beforeAll(async () => {
    silent = createServer((s) => {
      sockets.push(s);
      s.on("error", () => undefined);
    });
    silent.listen(0, "127.0.0.1");
    await once(silent, "listening");
    address = `127.0.0.1:${(silent.address() as { port: number }).port}`;
  });
  afterAll(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });

  const silentClient = (connectTimeoutSeconds?: number) => VelociraptorClient.fromConfig({ ...server.apiClientConfig(), api_connection_string: address }, { connectTimeoutSeconds, retry: { retries: 3 } });

  it("a query with timeout 5 s fails with CONNECT_TIMEOUT at the connect deadline, naming the hung handshake", async () => {
    const c = silentClient(2);
    const t0 = Date.now();
    const err = await c.queryAll("SELECT * FROM info()", { timeoutSeconds: 5 }).catch((e) => e);
    const took = Date.now() - t0;
    c.close();
    expect(err).toBeInstanceOf(ConnectTimeoutError);
    expect(err.code).toBe("CONNECT_TIMEOUT");
    expect(err.message).toMatch(/accepts TCP connections but never completed the TLS handshake/);
    expect(err.hint).toMatch(/api_connection_string/);
    expect(sockets.length).toBeGreaterThan(0);
    // Not retried (each retry would cost the whole deadline again) and far from the 35 s call deadline.
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(6000);
  });

  it("the default connect deadline bounds a query with no timeout (whose call deadline is 10 minutes)", async () => {
    const c = silentClient();
    const t0 = Date.now();
    const err = await c.queryAll("SELECT * FROM info()").catch((e) => e);
    c.close();
    expect(err.code).toBe("CONNECT_TIMEOUT");
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 30_000);

  it("unary calls (Check, health) get the same deadline", async () => {
    const c = silentClient(2);
    const t0 = Date.now();
    const err = await c.healthCheck(60).catch((e) => e);
    c.close();
    expect(err.code).toBe("CONNECT_TIMEOUT");
    expect(Date.now() - t0).toBeLessThan(6000);
  });

  it("a cancel during the handshake wait ends it at once with CancelledError", async () => {
    const c = silentClient(30);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const t0 = Date.now();
    const err = await c.queryAll("SELECT * FROM info()", { signal: ac.signal }).catch((e) => e);
    c.close();
    expect(err).toBeInstanceOf(CancelledError);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(escaped).toEqual([]);
  });
});
