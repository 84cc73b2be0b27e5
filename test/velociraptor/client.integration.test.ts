/**
 * The client against the Velociraptor API test server over real mutual TLS: streaming, cancellation, errors
 * arriving as log lines and as status, every TLS failure a user can meet, retries and a server dying mid-stream.
 */
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encryptPrivateKey } from "../../components/pki/x509.js";
import {
  PermissionDeniedError,
  QueryTimeoutError,
  TlsError,
  validateApiClientConfig,
  VelociraptorClient,
  VqlError,
  vqlQuery,
  type ApiClientConfig,
} from "../../velociraptor/index.js";
import { badServerCertificates, createTestPki, startTestServer, type TestServer } from "../../test-server/index.js";
import { generatedByte } from "../../test-server/model.js";

let server: TestServer;
let client: VelociraptorClient;
const BIG_FLOW = "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')";

function clientFor(cfg: ApiClientConfig, retries = 0) {
  return VelociraptorClient.fromConfig(cfg, { retry: { retries, minTimeoutMs: 100, maxTimeoutMs: 400 } });
}

beforeAll(async () => {
  server = await startTestServer();
  client = clientFor(server.apiClientConfig());
});
afterAll(async () => {
  client.close();
  await server.stop();
});

describe("queries", () => {
  it("streams rows as plain objects with columns, and logs separately", async () => {
    const stream = client.query("SELECT client_id, os_info.hostname AS Hostname FROM clients() WHERE os_info.system = 'linux'");
    const rows = [];
    for await (const row of stream) rows.push(row);
    expect(rows.map((r) => r.Hostname).sort()).toEqual(["db-prod-01", "web-prod-01"]);
    expect(stream.columns).toEqual(["client_id", "Hostname"]);
    expect(stream.logs.some((l) => l.message === "Starting query execution.")).toBe(true);
  });

  it("passes hostile input through env unchanged and never into the VQL text", async () => {
    const hostile = `'); SELECT * FROM info() -- "\n\`x\` ${"A".repeat(1024 * 1024)}`;
    const q = vqlQuery("SELECT Value AS Echo FROM scope()", { Value: hostile });
    const { rows } = await client.queryAll(q);
    expect(rows[0]!.Echo).toBe(hostile);
    const sent = server.stats.lastRequest!;
    expect(sent.Query[0]!.VQL).toBe("SELECT Value AS Echo FROM scope()");
    expect(sent.env).toEqual([expect.objectContaining({ key: "Value", value: hostile })]);
  });

  it("stops a 100k-row stream early and the server sees the RPC cancelled", async () => {
    const before = server.stats.cancelled;
    let n = 0;
    for await (const _row of client.query(BIG_FLOW, { batchRows: 500 })) {
      if (++n === 100_000) break;
    }
    expect(n).toBe(100_000);
    await expect.poll(() => server.stats.cancelled, { timeout: 5000 }).toBe(before + 1);
  });

  it("queryAll caps rows and says the result was truncated", async () => {
    const r = await client.queryAll(BIG_FLOW, { maxRows: 2500 });
    expect(r.rows).toHaveLength(2500);
    expect(r.truncated).toBe(true);
  });

  it("raises VqlError for an error the server only logs, carrying the server's message", async () => {
    const err = await client.queryAll("SELECT hunt_update(hunt_id='H.CT1HUNT0002', state='PAUSED') FROM scope()").catch((e) => e);
    expect(err).toBeInstanceOf(VqlError);
    expect((err as VqlError).serverMessage).toBe("hunt_update: Unexpected arg state");
  });

  it("raises VqlError for a syntax error (the stream itself ends normally)", async () => {
    const err = await client.queryAll("SELECT * FROM clients(").catch((e) => e);
    expect(err).toBeInstanceOf(VqlError);
    expect((err as VqlError).serverMessage).toMatch(/^VQL Error:/);
  });

  it("turns a missing ANY_QUERY permission (gRPC status) into PermissionDeniedError", async () => {
    const c = clientFor(server.apiClientConfig("noPermissions"));
    const err = await c.queryAll("SELECT * FROM info()").catch((e) => e);
    c.close();
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err.message).toContain("requires permission ANY_QUERY");
  });

  it("reports the server-side query timeout as TIMEOUT", async () => {
    const err = await client.queryAll(BIG_FLOW + " WHERE Pid < 0", { timeoutSeconds: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(QueryTimeoutError);
  });

  it("routes org_id to the right org", async () => {
    const { rows } = await client.queryAll("SELECT os_info.hostname AS H FROM clients()", { orgId: "O123" });
    expect(rows).toEqual([{ H: "SUB-WKS-01" }]);
  });

  it("honours an AbortSignal", async () => {
    const ac = new AbortController();
    let n = 0;
    const err = await (async () => {
      for await (const _ of client.query(BIG_FLOW, { signal: ac.signal })) if (++n === 10) ac.abort();
    })().catch((e) => e);
    expect(err?.code).toBe("CANCELLED");
  });
});

describe("filestore and health", () => {
  it("reads a 50 MB upload through VFSGetBuffer in chunks with the expected content", async () => {
    const components = ["clients", "C.1a2b3c4d5e6f7a01", "collections", "F.CT1NETSTAT1", "uploads", "auto", "C%3A", "Users", "jdoe", "AppData", "Local", "Temp", "svch0st.exe"];
    const got = createHash("sha256");
    const r = await client.readFile(components, { chunkSize: 4 * 1024 * 1024, onChunk: (c) => void got.update(c) });
    const want = createHash("sha256");
    const buf = Buffer.alloc(1024 * 1024);
    for (let off = 0; off < 52428800; off += buf.length) {
      for (let i = 0; i < buf.length; i++) buf[i] = generatedByte(off + i);
      want.update(buf);
    }
    expect(r).toEqual({ bytes: 52428800, truncated: false });
    expect(got.digest("hex")).toBe(want.digest("hex"));
  });

  it("health check reports SERVING, version and host", async () => {
    const h = await client.healthCheck();
    expect(h).toMatchObject({ serving: true, serverVersion: "0.77.2", hostname: "velociraptor-test", user: "admin", unavailable: [] });
  });

  it("health check with a deployment's api,investigator key: the version, and the host named as needing MACHINE_STATE", async () => {
    // info() needs MACHINE_STATE (vql/info.go 73-77), which only administrator grants (acls/roles.go 187-206).
    const c = clientFor(await server.provisionApiUser("deployed", ["api", "investigator"]));
    try {
      const h = await c.healthCheck();
      expect(h).toMatchObject({ serving: true, serverVersion: "0.77.2", user: "deployed" });
      expect(h.hostname).toBeUndefined();
      expect(h.unavailable).toEqual([expect.objectContaining({ fields: ["hostname", "uptime_seconds"], permission: "MACHINE_STATE", grantedBy: ["administrator"] })]);
    } finally {
      c.close();
    }
  });

  it("works with a password-protected key", async () => {
    const raw = server.apiClientConfig();
    const cfg = validateApiClientConfig({ ...raw, client_private_key: encryptPrivateKey(raw.client_private_key, "pw") }, "test", { VELOCIRAPTOR_KEY_PASSWORD: "pw" });
    const c = clientFor(cfg);
    expect(await c.check()).toBe("SERVING");
    c.close();
  });
});

describe("TLS and connection failures", () => {
  const expectTls = async (cfg: ApiClientConfig, kind: string) => {
    const c = clientFor(cfg);
    const err = await c.queryAll("SELECT * FROM info()", { deadlineSeconds: 10 }).catch((e) => e);
    c.close();
    expect(err).toBeInstanceOf(TlsError);
    expect((err as TlsError).kind).toBe(kind);
    expect(err.hint).toBeTruthy();
  };

  it.each([
    ["foreignCa", "UNKNOWN_CA"],
    ["wrongName", "NAME_MISMATCH"],
    ["expired", "CERT_EXPIRED"],
    ["notYetValid", "CERT_NOT_YET_VALID"],
  ] as const)("server certificate %s → %s", async (which, kind) => {
    const pki = await createTestPki();
    const bad = await badServerCertificates(pki);
    const s = await startTestServer({ serverCert: bad[which] });
    try {
      await expectTls(s.apiClientConfig(), kind);
    } finally {
      await s.stop();
    }
  });

  it("client certificate from another CA → CLIENT_CERT_REJECTED", async () => {
    await expectTls(server.apiClientConfig("foreignCa"), "CLIENT_CERT_REJECTED");
  });

  it("nothing listening → CONNECTION_REFUSED", async () => {
    const probe = createNetServer().listen(0, "127.0.0.1");
    await once(probe, "listening");
    const port = (probe.address() as { port: number }).port;
    probe.close();
    await expectTls({ ...server.apiClientConfig(), api_connection_string: `127.0.0.1:${port}` }, "CONNECTION_REFUSED");
  });

  it("an HTTPS (GUI-like) port instead of the API → WRONG_PORT", async () => {
    const pki = await createTestPki();
    const gui = createHttpsServer({ cert: pki.server.certificate, key: pki.server.privateKey }, (_req, res) => res.writeHead(401).end());
    gui.listen(0, "127.0.0.1");
    await once(gui, "listening");
    const port = (gui.address() as { port: number }).port;
    try {
      await expectTls({ ...server.apiClientConfig(), api_connection_string: `127.0.0.1:${port}` }, "WRONG_PORT");
    } finally {
      gui.close();
    }
  });
});

describe("resilience", () => {
  it("retries until a server that starts late is up", async () => {
    const late = await startTestServer({ lateStartMs: 1200 });
    const c = VelociraptorClient.fromConfig(late.apiClientConfig(), { retry: { retries: 12, minTimeoutMs: 200, maxTimeoutMs: 1000, maxRetryTimeMs: 20_000 } });
    try {
      const { rows } = await c.queryAll("SELECT Hostname FROM info()");
      expect(rows).toEqual([{ Hostname: "velociraptor-test" }]);
    } finally {
      c.close();
      await late.stop();
    }
  });

  it("a server killed mid-stream ends the iteration with a clear error, without hanging", async () => {
    const s = await startTestServer();
    const c = clientFor(s.apiClientConfig(), 3);
    let n = 0;
    const err = await (async () => {
      for await (const _ of c.query(BIG_FLOW, { batchRows: 200 })) if (++n === 1000) s.kill();
    })().catch((e) => e);
    c.close();
    expect(n).toBeGreaterThanOrEqual(1000);
    expect(n).toBeLessThan(1_000_000);
    expect(err?.code).toBe("VELOCIRAPTOR_UNREACHABLE");
    expect(err.message).toMatch(/connection lost after \d+ rows/);
  });
});
