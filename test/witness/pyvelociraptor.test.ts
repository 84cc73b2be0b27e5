/**
 * A second witness for the wire contract: the same queries streamed through pyvelociraptor (Velociraptor's official
 * Python binding, with its own generated protobuf stubs and grpcio) and through our client must give the same rows
 * (values and key order), columns, log lines and errors — and the server must decode the same request from both.
 * Also: pyvelociraptor connects with an api_client.yaml written by our deployment code (serverIdentity → PKI
 * provider → config renderer), and refuses one from another deployment's CA.
 * Skips with the reason when the venv made by scripts/pyvelociraptor.sh is unavailable.
 */
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MegaraptorError } from "../../core/errors.js";
import { parseApiClientYaml, VelociraptorClient } from "../../velociraptor/index.js";
import type { IssuedCert } from "../../components/pki/x509.js";
import { createTestPki, startTestServer, type ClientName, type TestServer } from "../../test-server/index.js";
import { pyvelociraptorAvailability, pyvrQuery, type WitnessArgs, type WitnessSummary } from "./pyvr.js";
import { freePort } from "../helpers/ports.js";

const pyvr = pyvelociraptorAvailability();
if (!pyvr.ok) console.warn(`SKIP test/witness/pyvelociraptor.test.ts: ${pyvr.reason}`);
const suiteTitle = pyvr.ok ? `pyvelociraptor as a second witness (${pyvr.versions})` : `pyvelociraptor as a second witness — skipped: ${pyvr.reason}`;
const python = pyvr.ok ? pyvr.python : "";

let server: TestServer;
let dir: string;
const configs = {} as Record<ClientName, string>;

/** What our client received, in the witness's shape. */
async function ours(who: ClientName, a: Omit<WitnessArgs, "config">): Promise<WitnessSummary> {
  const client = VelociraptorClient.fromConfig(parseApiClientYaml(readFileSync(configs[who], "utf8"), who), { retry: { retries: 0 } });
  const stream = client.query(a.query, { env: a.env, orgId: a.org, name: a.name ?? "megaraptor", batchRows: a.maxRow ?? 1000, maxWaitSeconds: a.maxWait ?? 1, failOnVqlError: false, retry: false });
  const rows: Record<string, unknown>[] = [];
  let error: WitnessSummary["error"] = null;
  try {
    for await (const row of stream) rows.push(row);
  } catch (err) {
    if (!(err instanceof MegaraptorError)) throw err;
    error = { code: err.code, details: err.message };
  } finally {
    client.close();
  }
  return { rows, columns: stream.columns, logs: stream.logs.map((l) => l.message), error, responses: -1 };
}

/** Server-side timings differ between two runs of the same query; everything else in a log line must match. */
function normaliseLogs(logs: string[]): string[] {
  return logs.map((l) => l.replace(/^Time \d+(\.\d+)?:/, "Time <t>:"));
}

/** Runs `a` through both clients, checks the server decoded the same request from each, and returns both answers. */
async function both(who: ClientName, a: Omit<WitnessArgs, "config">): Promise<{ py: WitnessSummary; ts: WitnessSummary }> {
  const py = await pyvrQuery(python, { ...a, config: configs[who] });
  const pyRequest = structuredClone(server.stats.lastRequest);
  const ts = await ours(who, a);
  const tsRequest = structuredClone(server.stats.lastRequest);
  expect(tsRequest).toEqual(pyRequest);
  return { py, ts };
}

function expectSame({ py, ts }: { py: WitnessSummary; ts: WitnessSummary }): void {
  expect(ts.error).toEqual(py.error);
  expect(ts.rows.length).toBe(py.rows.length);
  expect(ts.rows).toEqual(py.rows);
  // Velociraptor keeps column order in the row objects; both decoders must keep it too.
  expect(ts.rows.map((r) => Object.keys(r))).toEqual(py.rows.map((r) => Object.keys(r)));
  expect(ts.columns).toEqual(py.columns);
  expect(normaliseLogs(ts.logs)).toEqual(normaliseLogs(py.logs));
}

describe.skipIf(!pyvr.ok)(suiteTitle, () => {
  beforeAll(async () => {
    server = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), "mr-pyvr-"));
    for (const who of ["admin", "reader", "noPermissions"] as const) configs[who] = server.writeApiClientYaml(dir, who);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("info(): the same row, columns and log lines", async () => {
    // Every column but Uptime, which moves between the two runs.
    const r = await both("admin", { query: "SELECT Hostname, BootTime, OS, Platform, PlatformFamily, PlatformVersion, KernelVersion, Architecture, Fqdn, IsAdmin FROM info()" });
    expect(r.py.error).toBeNull();
    expect(r.py.rows).toHaveLength(1);
    expect(r.py.logs.some((l) => l.startsWith("Starting query execution"))).toBe(true);
    expectSame(r);
  });

  it("clients(): every client, nested values included", async () => {
    const r = await both("admin", { query: "SELECT * FROM clients()" });
    expect(r.py.rows.length).toBeGreaterThan(3);
    expectSame(r);
  });

  it("a flow's results: 12,003 generated rows in 12 full batches and a smaller last one", async () => {
    const r = await both("admin", { query: "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01') LIMIT 12003", maxRow: 1000 });
    expect(r.py.rows).toHaveLength(12003);
    expect(r.py.logs.filter((l) => /Sending response part \d+/.test(l))).toHaveLength(13);
    expectSame(r);
    // Two 12k-row streams and a deep comparison: allow for a 2-core machine shared with other suites.
  }, 180_000);

  it("env parameters reach the query unchanged (quotes, non-ASCII, newlines, an empty value)", async () => {
    const env = { Greeting: "naïve ✓ 'single' \"double\" \\ back", Multi: "line one\nline two", Empty: "", Wanted: "C.1a2b3c4d5e6f7a01" };
    const r = await both("admin", { query: "SELECT Greeting, Multi, Empty, client_id FROM clients() WHERE client_id = Wanted", env });
    expect(r.py.rows).toEqual([{ Greeting: env.Greeting, Multi: env.Multi, Empty: "", client_id: env.Wanted }]);
    expectSame(r);
  });

  it("several statements and an org: the same rows in the same order", async () => {
    const r = await both("admin", { query: "LET c = SELECT client_id FROM clients() SELECT * FROM c SELECT Hostname, OS FROM info()", org: "O123" });
    expect(r.py.rows.length).toBeGreaterThan(1);
    expectSame(r);
  });

  it("a query that fails in VQL: no rows, the error as the same log lines", async () => {
    const r = await both("admin", { query: "SELECT * FROM no_such_plugin()" });
    expect(r.py.error).toBeNull();
    expect(r.py.logs.some((l) => l.includes("Plugin no_such_plugin not found"))).toBe(true);
    expectSame(r);
  });

  it("a flow that does not exist: the plugin's log line, an empty batch", async () => {
    const r = await both("admin", { query: "SELECT * FROM source(client_id='C.1a2b3c4d5e6f7a01', flow_id='F.DOESNOTEXIST')" });
    expect(r.py.logs.some((l) => l.includes("F.DOESNOTEXIST not found"))).toBe(true);
    expectSame(r);
  });

  it("a user without ANY_QUERY: PERMISSION_DENIED with the same details", async () => {
    const r = await both("noPermissions", { query: "SELECT * FROM info()" });
    expect(r.py.error?.code).toBe("PERMISSION_DENIED");
    expect(r.py.rows).toEqual([]);
    expectSame(r);
  });

  describe("with an api_client.yaml written by our deployment code", () => {
    let deployed: TestServer | undefined;
    let deployedYaml = "";
    let foreignYaml = "";

    function asIssued(certificate: string, privateKey: string): IssuedCert {
      const x = new X509Certificate(certificate);
      return { certificate, privateKey, serialNumber: x.serialNumber, notBefore: new Date(x.validFrom), notAfter: new Date(x.validTo) };
    }

    beforeAll(async () => {
      const { installMocks, value } = await import("../helpers/pulumi-mocks.js");
      await installMocks();
      const pulumi = await import("@pulumi/pulumi");
      const { serverIdentity } = await import("../../components/common/identity.js");
      const { loadProfile } = await import("../../profiles/index.js");
      const port = await freePort();
      const profile = loadProfile("minimal", { ports: { api: port } });
      const deploy = (id: string) => {
        const parent = new pulumi.ComponentResource("megaraptor:test:Witness", id);
        // The deployment's default API user (megaraptor: api, investigator), as every target issues it.
        return serverIdentity(id, { deploymentId: id, profile, hostname: "localhost" }, profile, "0.77.2", parent, { datastorePath: "/var/lib/velociraptor", apiHost: "127.0.0.1" });
      };
      const mine = deploy("pyvr-witness");
      const other = deploy("pyvr-other");
      const [ca, caKey, cert, key, yaml, otherYaml] = await Promise.all([
        value(mine.pki.caCertificate),
        value(mine.pki.caPrivateKey),
        value(mine.pki.serverCertificate),
        value(mine.pki.serverPrivateKey),
        value(mine.apiClientYaml),
        value(other.apiClientYaml),
      ]);
      deployedYaml = join(dir, "deployed.api_client.yaml");
      foreignYaml = join(dir, "other-deployment.api_client.yaml");
      writeFileSync(deployedYaml, yaml, { mode: 0o600 });
      writeFileSync(foreignYaml, otherYaml, { mode: 0o600 });
      // The test server serves with the deployment's CA and frontend certificate, on the port the profile names.
      const testPki = await createTestPki();
      deployed = await startTestServer({ port, pki: { ...testPki, ca: asIssued(ca, caKey), server: asIssued(cert, key) } });
      // The deployment's bootstrap (`config api_client --name megaraptor --role api,investigator`) writes the user
      // record and roles into the datastore; do the same, or the server refuses the caller ("User not found").
      const { DEFAULT_API_USERS } = await import("../../components/common/users.js");
      const { bootstrapUser } = await import("../../test-server/user-store.js");
      for (const u of DEFAULT_API_USERS) bootstrapUser(deployed.users, u.name, { root: u.roles });
    });
    afterAll(async () => {
      await deployed?.stop();
    });

    it("pyvelociraptor connects with it and runs a query as the deployment's API user", async () => {
      // Not info(): it needs MACHINE_STATE, which the deployment's roles (api, investigator) do not grant (vql/info.go:73).
      const r = await pyvrQuery(python, { config: deployedYaml, query: "SELECT whoami() AS User, config.server_version.version AS Version FROM scope()" });
      expect(r.error).toBeNull();
      expect(r.rows).toEqual([{ User: "megaraptor", Version: "0.77.2" }]);
    });

    it("our client reads the same file and gets the same answer", async () => {
      const py = await pyvrQuery(python, { config: deployedYaml, query: "SELECT client_id FROM clients()" });
      const client = VelociraptorClient.fromConfig(parseApiClientYaml(readFileSync(deployedYaml, "utf8"), deployedYaml));
      try {
        const ts = await client.queryAll("SELECT client_id FROM clients()", { name: "megaraptor" });
        expect(ts.rows).toEqual(py.rows);
      } finally {
        client.close();
      }
    });

    it("pyvelociraptor refuses the server with another deployment's api_client.yaml (the TLS check is real)", async () => {
      const r = await pyvrQuery(python, { config: foreignYaml, query: "SELECT * FROM info()" });
      expect(r.error?.code).toBe("UNAVAILABLE");
      expect(r.rows).toEqual([]);
    });
  });
});
