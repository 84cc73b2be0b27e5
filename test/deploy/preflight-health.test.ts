/** Preflight against a real Docker engine and a real sshd; health checks against the API test server and a TLS frontend. */
import { createServer as createHttps } from "node:https";
import { createServer as createNet } from "node:net";
import { once } from "node:events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { dockerVersion, preflight, sshProbe } from "../../deploy/preflight/index.js";
import { checkHealth, HealthTimeoutError, waitHealthy } from "../../deploy/health/index.js";
import { parseDeploymentSettings } from "../../deploy/request/index.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { sshdUnavailable, startSshd, type TestSshd } from "../helpers/sshd.js";

const dockerReason = await dockerVersion().then(() => undefined, (e: Error) => `Docker engine not reachable (${e.message}); .ci/run installs and starts it`);
if (dockerReason) console.warn(`skipping Docker preflight tests: ${dockerReason}`);
const sshReason = sshdUnavailable();
if (sshReason) console.warn(`skipping SSH preflight tests: ${sshReason}`);

describe("preflight: docker", () => {
  it.skipIf(!!dockerReason)("reports the real engine's version and a port that is taken, with the fix", async () => {
    const taken = createNet().listen(0, "0.0.0.0");
    await once(taken, "listening");
    const port = (taken.address() as { port: number }).port;
    try {
      const r = await preflight(parseDeploymentSettings({ target: "docker", profile: "minimal", deployment_id: "pf-docker", hostname: "localhost", overrides: { ports: { frontend: port } } }));
      const docker = r.checks.find((c) => c.name === "docker daemon")!;
      expect(docker.status).toBe("pass");
      expect(docker.detail).toMatch(/^Docker \d+\./);
      const busy = r.checks.find((c) => c.name === `port ${port} free`)!;
      expect(busy).toMatchObject({ status: "fail", fix: expect.stringContaining("ports.frontend") });
      expect(r.ok).toBe(false);
    } finally {
      taken.close();
    }
  });

  it("says how to fix an unreachable engine", async () => {
    const r = await preflight(parseDeploymentSettings({ target: "docker", profile: "minimal", deployment_id: "pf-docker2", hostname: "localhost" }), {}, { ...process.env, DOCKER_HOST: "tcp://127.0.0.1:1" });
    expect(r.checks.find((c) => c.name === "docker daemon")).toMatchObject({ status: "fail", fix: expect.stringContaining("DOCKER_HOST") });
  });
});

describe("preflight: ssh", () => {
  let sshd: TestSshd;
  beforeAll(async () => {
    if (!sshReason) sshd = await startSshd();
  });
  afterAll(() => sshd?.stop());

  it.skipIf(!!sshReason)("connects with the key to a real sshd and checks sudo", async () => {
    const s = parseDeploymentSettings({ target: "ssh", profile: "minimal", deployment_id: "pf-ssh", hostname: "vr.lab", ssh: { host: "127.0.0.1", port: sshd.port, user: "root", binary_sha256: "f".repeat(64) } });
    const r = await preflight(s, { sshPrivateKey: sshd.privateKey });
    expect(r.checks.filter((c) => c.name.startsWith("ssh") || c.name.startsWith("sudo")).map((c) => c.status)).toEqual(["pass", "pass"]);
    expect(r.ok).toBe(true);
  });

  it.skipIf(!!sshReason)("fails clearly with a wrong key", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    const r = await sshProbe({ host: "127.0.0.1", port: sshd.port, user: "root", privateKey: other, timeoutMs: 5000 });
    expect(r.connected).toBe(false);
    expect(r.error).toMatch(/authentication/i);
    const unreadable = await sshProbe({ host: "127.0.0.1", port: sshd.port, user: "root", privateKey: "not a key" });
    expect(unreadable.error).toMatch(/privateKey/);
  });
});

describe("health", () => {
  let vr: TestServer;
  let frontend: ReturnType<typeof createHttps>;
  let frontendUrl: string;
  beforeAll(async () => {
    vr = await startTestServer();
    frontend = createHttps({ cert: vr.pki.server.certificate, key: vr.pki.server.privateKey }, (req, res) => res.writeHead(req.url === "/healthz" ? 200 : 401).end());
    frontend.listen(0, "127.0.0.1");
    await once(frontend, "listening");
    frontendUrl = `https://127.0.0.1:${(frontend.address() as { port: number }).port}/`;
  });
  afterAll(async () => {
    frontend.close();
    await vr.stop();
  });

  it("is healthy when /healthz, the GUI and the API answer, verifying TLS with the deployment's CA", async () => {
    const r = await checkHealth({ deploymentId: "h1", serverUrl: frontendUrl, guiUrl: `${frontendUrl}app/index.html`, apiClientYaml: stringify(vr.apiClientConfig()) });
    expect(r.checks.map((c) => [c.name, c.ok])).toEqual([["frontend /healthz", true], ["GUI", true], ["gRPC API", true]]);
    expect(r.healthy).toBe(true);
  });

  it("times out with the checks that failed and how to inspect and destroy", async () => {
    const err = await waitHealthy({ deploymentId: "h2", serverUrl: "https://127.0.0.1:1/", apiClientYaml: stringify(vr.apiClientConfig()) }, { timeoutSeconds: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(HealthTimeoutError);
    expect(err.message).toContain("frontend /healthz");
    expect(err.hint).toContain("destroy_deployment h2");
  });
});
