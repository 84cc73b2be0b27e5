/**
 * A real SSH deployment, end to end: the BUILT `megaraptor mcp` (dist/, SDK client over stdio, its own HOME and
 * MEGARAPTOR_HOME, started in a folder that is not the project) drives the real Pulumi engine (scripts/engines.sh)
 * through the Automation API; SshBinaryServer's dynamic provider installs the Velociraptor stand-in
 * (test-server/build-standin.ts, served over HTTP with its SHA-256 pinned) on a Debian host with systemd and sshd
 * (test/helpers/host.ts). One host is reused by every step, in order: preview, a wrong SHA-256, deploy, the CLI
 * against the deployed API, a restart of the MCP process, day-2 changes, rotation, refresh, busy, rollback, the host
 * lost mid-up, a cancelled up, destroy — then the same deployment from the TypeScript sources.
 *
 * What this proves: the Pulumi engine, SSH, systemd, the rendered config, the PKI, the health check and the
 * Automation API, for real. What it does not: Velociraptor itself (the stand-in answers its API from the rendered
 * config, docs/velociraptor-rules.md), nor the platform-team `pulumi up` on Pulumi.yaml (no language host here).
 */
import { execFile, spawnSync } from "node:child_process";
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../core/paths.js";
import { buildStandIn } from "../../test-server/build-standin.js";
import { componentMissing, locateEngine } from "../helpers/engine.js";
import { startTestHost, type TestHost } from "../helpers/host.js";
import { serveFile, type FileServer } from "../helpers/http-files.js";
import { call, confirmed as confirmedCall, MAIN, startMcp, type StartedMcp } from "../helpers/mcp.js";

const ROOT = packageRoot();
const engine = locateEngine();
const cliMissing = componentMissing(engine, "pulumi");
const distMissing = spawnSync("test", ["-f", MAIN]).status === 0 ? undefined : `${MAIN} is missing: run \`npm run build\` (npm test does)`;
const host = cliMissing || distMissing ? { ok: false as const, reason: "not started" } : await startTestHost();
const skip = cliMissing ?? distMissing ?? (host.ok ? undefined : host.reason);
if (skip) console.warn(`SSH deployment engine suite skipped: ${skip}`);
const languageHostMissing = componentMissing(engine, "pulumi-language-nodejs");
if (languageHostMissing) console.warn(`platform-team \`pulumi up\` on Pulumi.yaml skipped: ${languageHostMissing}`);

const ID = "engine-ssh";
const started = Date.now();

describe.skipIf(!!skip)(`SSH deployment through the built MCP server and the real Pulumi engine${skip ? ` (skipped: ${skip})` : ""}`, () => {
  const h = (host.ok ? host : undefined) as TestHost;
  const env = engine.ok ? engine.env : {};
  let dir: string;
  let home: string;
  /** The MCP server's working directory: not the project, so nothing may depend on it (review B1/B2). */
  let elsewhere: string;
  let v1: FileServer;
  let v2: FileServer;
  let mcp: StartedMcp;

  const mcpEnv = () => ({ ...env, MEGARAPTOR_HEALTH_TIMEOUT: "120", MEGARAPTOR_LOG_LEVEL: "warn" });
  const start = async () => (mcp = await startMcp({ args: ["--mode", "respond"], env: mcpEnv(), home, cwd: elsewhere }));

  /**
   * A deploy request for the host: SSH through the port Docker publishes on loopback (not 22, as on many customers'
   * hosts), the stand-in downloaded by the host from our HTTP server with its SHA-256 pinned, the API bound beyond
   * the host's loopback so the health check and the CLI reach it at the host's bridge address.
   */
  function request(o: { binary: FileServer; version?: string; sha256?: string; maxClients?: number; id?: string }) {
    return {
      deployment_id: o.id ?? ID,
      target: "ssh",
      hostname: h.address,
      case_id: "ENGINE-1",
      tags: { suite: "engine" },
      ...(o.version ? { version: o.version } : {}),
      overrides: { binds: { api: "all" }, ...(o.maxClients ? { maxClients: o.maxClients } : {}) },
      ssh: { host: h.host, port: h.port, user: "root", binary_url: o.binary.url, binary_sha256: o.sha256 ?? o.binary.sha256 },
      ssh_credential: "test-host",
    };
  }

  /** A tool call with progress collected and a long deadline (an `up` takes a minute). */
  async function run(name: string, args: Record<string, unknown>, o: { signal?: AbortSignal; onProgress?: (message: string) => void } = {}) {
    const progress: string[] = [];
    const r = (await mcp.client.callTool({ name, arguments: args }, undefined, {
      timeout: 600_000,
      resetTimeoutOnProgress: true,
      signal: o.signal,
      onprogress: (p) => {
        progress.push(String(p.message ?? ""));
        o.onProgress?.(String(p.message ?? ""));
      },
    })) as CallToolResult;
    const text = r.content[0]?.type === "text" ? r.content[0].text : "";
    const error = r.isError ? (JSON.parse(text) as { error: { code: string; message: string; hint?: string } }).error : undefined;
    return { ok: !r.isError, structured: r.structuredContent as Record<string, any> | undefined, text, error, progress };
  }

  /** Plan → confirm with the deadline an `up` needs (the SDK's default is 60 s). */
  const confirmed = (name: string, args: Record<string, unknown>, reason: string) => confirmedCall(mcp.client, name, args, reason, { timeout: 600_000, resetTimeoutOnProgress: true });

  const sh = async (cmd: string) => (await h.exec(cmd)).stdout.trim();

  /** The installation as the host sees it (docker exec, not SSH). */
  async function onHost() {
    const out = await sh(
      [
        "echo binary=$(sha256sum /usr/local/bin/velociraptor 2>/dev/null | cut -d' ' -f1)",
        // Inode and modification time: a file written again gets a new mtime even where the inode number is reused.
        "echo file=$(stat -c '%i %y' /usr/local/bin/velociraptor 2>/dev/null)",
        "echo config=$(test -e /etc/velociraptor/server.config.yaml && stat -c '%U:%a' /etc/velociraptor/server.config.yaml)",
        "echo etc=$(test -d /etc/velociraptor && echo yes)",
        "echo unit=$(test -e /etc/systemd/system/velociraptor_server.service && echo yes)",
        "echo enabled=$(systemctl is-enabled velociraptor_server 2>/dev/null)",
        "echo active=$(systemctl is-active velociraptor_server 2>/dev/null)",
        "echo pid=$(systemctl show -p MainPID --value velociraptor_server 2>/dev/null)",
        "echo since=$(systemctl show -p ActiveEnterTimestampMonotonic --value velociraptor_server 2>/dev/null)",
        "echo user=$(getent passwd velociraptor)",
        "echo staged=$(ls /var/tmp | grep -c megaraptor-velociraptor)",
        "echo datastore=$(test -d /var/lib/velociraptor && echo yes)",
      ].join("\n"),
    );
    return Object.fromEntries(out.split("\n").map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])) as Record<
      "binary" | "file" | "config" | "etc" | "unit" | "enabled" | "active" | "pid" | "since" | "user" | "staged" | "datastore",
      string
    >;
  }

  /** The CA and client nonce of the config on the host: what every enrolled endpoint depends on. */
  async function identityOnHost() {
    const cfg = parse(await sh("cat /etc/velociraptor/server.config.yaml")) as { Client: { ca_certificate: string; nonce: string }; Frontend: { certificate: string } };
    const id = { ca: cfg.Client.ca_certificate, nonce: cfg.Client.nonce, frontendCert: cfg.Frontend.certificate };
    // Present, or every "unchanged" below would compare nothing with nothing.
    expect(id.ca).toContain("BEGIN CERTIFICATE");
    expect(id.nonce).toMatch(/\S{8,}/);
    expect(id.frontendCert).toContain("BEGIN CERTIFICATE");
    return id;
  }

  /** A secret output, read the way the runbook says: `pulumi stack output … --show-secrets` in the deployment's work folder. */
  function stackOutput(key: string): string {
    const r = spawnSync(join(engine.ok ? engine.root : "", "bin", "pulumi"), ["stack", "output", key, "--show-secrets", "--stack", ID], {
      cwd: join(home, "pulumi", "workspaces", ID),
      env: { ...process.env, ...env, PULUMI_CONFIG_PASSPHRASE: readFileSync(join(home, "pulumi-passphrase"), "utf8").trim() },
      encoding: "utf8",
    });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout.trim();
  }

  /** The built CLI (`megaraptor check` / `query`), as an operator runs it with the produced api_client.yaml. */
  function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) =>
      execFile(process.execPath, [MAIN, ...args], { cwd: elsewhere, env: { PATH: process.env.PATH ?? "", HOME: home, MEGARAPTOR_HOME: home }, timeout: 60_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
  }

  function apiClientFile(name: string): string {
    const path = join(dir, name);
    writeFileSync(path, stackOutput("apiClientYaml"), { mode: 0o600 });
    return path;
  }

  /** The health wait's last report had every check ok (deploy_server reports each attempt as progress). */
  const healthy = (progress: string[]) => {
    const last = progress.filter((m) => m.startsWith("health: ")).at(-1);
    return !!last && last.includes("gRPC API ok") && last.slice("health: ".length).split(", ").every((c) => / ok$/.test(c));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mr-ssh-deploy-"));
    home = join(dir, "home");
    elsewhere = join(dir, "elsewhere");
    mkdirSync(home, { recursive: true });
    mkdirSync(elsewhere);
    const bin = await buildStandIn(join(dir, "velociraptor"));
    // "A new release": the same stand-in with other bytes, so its digest (and only that) differs.
    const bin2 = join(dir, "velociraptor-next");
    copyFileSync(bin, bin2);
    appendFileSync(bin2, "\n// next release of the stand-in\n");
    v1 = await serveFile(bin, { bind: h.gateway, allowFrom: [h.address], urlPath: "/v1/velociraptor" });
    v2 = await serveFile(bin2, { bind: h.gateway, allowFrom: [h.address], urlPath: "/v2/velociraptor" });
    await start();
    const stored = await call(mcp.client, "store_credential", { alias: "test-host", kind: "ssh_private_key", secret: h.privateKey, description: "root on the engine suite's host" });
    expect(stored.ok, stored.text).toBe(true);
  }, 180_000);

  afterAll(async () => {
    await mcp?.close();
    await v1?.close();
    await v2?.close();
    await h.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    console.warn(`SSH deployment engine suite: ${((Date.now() - started) / 1000).toFixed(1)} s wall time (host start included)`);
  }, 120_000);

  it("preview_deployment shows what would be created and changes nothing on the host", async () => {
    const r = await run("preview_deployment", request({ binary: v1 }));
    expect(r.ok, r.text).toBe(true);
    expect(r.structured!.changes.create).toBeGreaterThanOrEqual(3);
    expect(r.structured!.checks.filter((c: { status: string }) => c.status === "fail")).toEqual([]);
    expect((await onHost()).binary).toBe("");
    expect(v1.requests).toEqual([]);
  }, 600_000);

  it("a wrong SHA-256 is refused before anything is installed", async () => {
    const r = await run("deploy_server", request({ binary: v1, sha256: "0".repeat(64) }));
    expect(r.error?.code, r.text).toBe("DEPLOYMENT_FAILED");
    expect(r.error!.message).toContain(`not the pinned ${"0".repeat(64)}`);
    expect(r.error!.message).toContain(v1.sha256);
    // Downloaded once, refused: no binary, user, config, unit or staged file.
    expect(v1.requests).toEqual([{ remote: h.address, path: "/v1/velociraptor", status: 200 }]);
    expect(await onHost()).toMatchObject({ binary: "", config: "", etc: "", unit: "", user: "", staged: "0", datastore: "" });
    expect((await call(mcp.client, "get_deployment_status", { deployment_id: ID })).structured!.deployment.status).toBe("failed");
  }, 600_000);

  it("deploy_server installs over SSH with progress, and the health check passes", async () => {
    const r = await run("deploy_server", request({ binary: v1 }));
    expect(r.ok, `${r.text}\n${mcp.stderr()}`).toBe(true);
    expect(r.structured!.deployment).toMatchObject({ id: ID, status: "active", target: "ssh", profile: "standard", hostname: h.address, case_id: "ENGINE-1" });
    expect(r.progress).toContain("starting");
    expect(r.progress.some((m) => m.startsWith("create "))).toBe(true);
    expect(r.progress).toContain("finished");
    expect(healthy(r.progress), r.progress.join("\n")).toBe(true);
    const s = await onHost();
    expect(s).toMatchObject({ binary: v1.sha256, config: "velociraptor:600", unit: "yes", enabled: "enabled", active: "active", staged: "0" });
    expect(s.user).toMatch(/^velociraptor:x:\d+:\d+::\/var\/lib\/velociraptor:\/usr\/sbin\/nologin$/);
    expect(await sh("/usr/local/bin/velociraptor version")).toContain("version:");
  }, 600_000);

  it("megaraptor check and megaraptor query work with the deployment's api_client.yaml", async () => {
    const file = apiClientFile("api_client.yaml");
    expect(parse(readFileSync(file, "utf8"))).toMatchObject({ api_connection_string: `${h.address}:8001`, name: "megaraptor" });
    const check = await cli(["check", "-c", file]);
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ address: `${h.address}:8001`, serving: true });
    // What the default api,investigator key may read (info() needs MACHINE_STATE: velociraptor/roles.ts).
    const query = await cli(["query", "-c", file, "--format", "json", "SELECT client_id FROM clients()"]);
    expect(query.code, query.stderr).toBe(0);
    const rows = JSON.parse(query.stdout) as { client_id: string }[];
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.client_id).toMatch(/^C\.[0-9a-f]{16}$/);
  }, 120_000);

  it("after a restart of the MCP process the deployment is listed with its settings", async () => {
    await mcp.close();
    await start();
    const list = await call(mcp.client, "list_deployments", {});
    expect(list.structured!.deployments).toEqual([
      expect.objectContaining({ id: ID, status: "active", target: "ssh", profile: "standard", hostname: h.address, case_id: "ENGINE-1", tags: { suite: "engine" } }),
    ]);
    const status = await call(mcp.client, "get_deployment_status", { deployment_id: ID });
    expect(status.structured!.deployment.outputs).toMatchObject({ serverUrl: `https://${h.address}:8000/`, apiAddress: `${h.address}:8001`, apiClientYaml: "[secret]" });
    expect(status.text).not.toContain("PRIVATE KEY");
  }, 120_000);

  it("a config change restarts the server in place: same binary, user, CA and client nonce", async () => {
    const before = await onHost();
    const id = await identityOnHost();
    const r = await run("deploy_server", request({ binary: v1, maxClients: 3000 }));
    expect(r.ok, r.text).toBe(true);
    expect(r.progress.some((m) => m.startsWith("update "))).toBe(true);
    expect(healthy(r.progress), r.progress.join("\n")).toBe(true);
    const after = await onHost();
    // Restarted (a new process), never uninstalled: the binary file, the service user and the unit stayed.
    expect(after).toMatchObject({ active: "active", enabled: "enabled", binary: before.binary, file: before.file, user: before.user });
    expect(after.pid).not.toBe(before.pid);
    expect(await identityOnHost()).toMatchObject({ ca: id.ca, nonce: id.nonce });
    expect(await sh("grep expected_clients /etc/velociraptor/server.config.yaml")).toContain("3000");
  }, 600_000);

  it("a version change replaces the binary and keeps the CA and client nonce", async () => {
    const before = await onHost();
    const id = await identityOnHost();
    const r = await run("deploy_server", request({ binary: v2, version: "0.77.3", maxClients: 3000 }));
    expect(r.ok, r.text).toBe(true);
    expect(healthy(r.progress), r.progress.join("\n")).toBe(true);
    const after = await onHost();
    expect(after).toMatchObject({ active: "active", binary: v2.sha256, user: before.user, staged: "0" });
    expect(after.file).not.toBe(before.file);
    expect(v2.requests.filter((q) => q.status === 200)).toHaveLength(1);
    expect(await identityOnHost()).toMatchObject({ ca: id.ca, nonce: id.nonce });
  }, 600_000);

  it("rotate_certificates re-issues the API credentials under the same CA; rotate_ca makes a new CA and nonce", async () => {
    const id = await identityOnHost();
    const oldApi = parse(stackOutput("apiClientYaml")) as { ca_certificate: string; client_cert: string };
    const r = await confirmed("rotate_certificates", { deployment_id: ID, ssh_credential: "test-host" }, "engine suite: scheduled rotation");
    expect(r.ok, r.text).toBe(true);
    const newApi = parse(stackOutput("apiClientYaml")) as { ca_certificate: string; client_cert: string };
    expect(newApi.client_cert).not.toBe(oldApi.client_cert);
    expect(newApi.ca_certificate).toBe(oldApi.ca_certificate);
    const rotated = await identityOnHost();
    expect(rotated).toMatchObject({ ca: id.ca, nonce: id.nonce });
    expect(rotated.frontendCert).not.toBe(id.frontendCert);
    const check = await cli(["check", "-c", apiClientFile("api_client.rotated.yaml")]);
    expect(check.code, check.stderr).toBe(0);

    const ca = await confirmed("rotate_certificates", { deployment_id: ID, rotate_ca: true, ssh_credential: "test-host" }, "engine suite: CA rotation");
    expect(ca.ok, ca.text).toBe(true);
    const renewed = await identityOnHost();
    expect(renewed.ca).not.toBe(id.ca);
    expect(renewed.nonce).not.toBe(id.nonce);
    const checkCa = await cli(["check", "-c", apiClientFile("api_client.new-ca.yaml")]);
    expect(checkCa.code, checkCa.stderr).toBe(0);
  }, 600_000);

  it("refresh_deployment reads the host; a second operation at the same time is DEPLOYMENT_BUSY", async () => {
    const [a, b] = await Promise.all([run("refresh_deployment", { deployment_id: ID }), run("refresh_deployment", { deployment_id: ID })]);
    const [done, busy] = a.ok ? [a, b] : [b, a];
    expect(done.ok, done.text).toBe(true);
    expect(done.structured!.deployment.status).toBe("active");
    expect(busy.error?.code).toBe("DEPLOYMENT_BUSY");
  }, 600_000);

  it("rollback_deployment re-applies the previous settings", async () => {
    const status = await call(mcp.client, "get_deployment_status", { deployment_id: ID });
    expect(status.structured!.deployment.can_roll_back).toBe(true);
    const r = await confirmed("rollback_deployment", { deployment_id: ID, ssh_credential: "test-host" }, "engine suite: undo the CA rotation");
    expect(r.ok, r.text).toBe(true);
    expect(r.structured!.deployment.status).toBe("active");
    const list = await call(mcp.client, "list_deployments", {});
    expect(list.structured!.deployments[0].id).toBe(ID);
    expect((await onHost()).active).toBe("active");
    const check = await cli(["check", "-c", apiClientFile("api_client.rolled-back.yaml")]);
    expect(check.code, check.stderr).toBe(0);
  }, 600_000);

  it("the host lost in the middle of an up: a clear error, and a retry completes", async () => {
    // Both ways to sshd: the published loopback port (docker-proxy) and, after Docker's DNAT, the bridge address.
    const rules = [
      ["OUTPUT", "-d", h.host, "-p", "tcp", "--dport", String(h.port), "-j", "REJECT", "--reject-with", "tcp-reset"],
      ["OUTPUT", "-d", h.address, "-p", "tcp", "--dport", "22", "-j", "REJECT", "--reject-with", "tcp-reset"],
    ];
    const iptables = (op: "-I" | "-D") => {
      for (const rule of rules) {
        const r = spawnSync("iptables", [op, ...rule], { encoding: "utf8" });
        if (r.status !== 0) return r;
      }
      return { status: 0, stderr: "" };
    };
    let blocked = false;
    const change = { ...request({ binary: v2, version: "0.77.3", maxClients: 4000 }), wait_healthy: false };
    try {
      const r = await run("deploy_server", change, {
        onProgress: (m) => {
          // The install's update is the step that dials the host: cut it off as it starts.
          if (!blocked && /^update pulumi-nodejs:dynamic/.test(m)) {
            const done = iptables("-I");
            expect(done.status, done.stderr).toBe(0);
            blocked = true;
          }
        },
      });
      expect(blocked, r.progress.join("\n")).toBe(true);
      expect(r.error?.code, r.text).toBe("DEPLOYMENT_FAILED");
      expect(r.error!.message).toContain(`SSH to root@${h.host}:${h.port}`);
      expect(r.error!.message).toMatch(/run the operation again/);
    } finally {
      if (blocked) iptables("-D");
    }
    expect((await call(mcp.client, "get_deployment_status", { deployment_id: ID })).structured!.deployment.status).toBe("failed");
    const retry = await run("deploy_server", { ...change, wait_healthy: true });
    expect(retry.ok, retry.text).toBe(true);
    expect(healthy(retry.progress)).toBe(true);
    expect(await sh("grep expected_clients /etc/velociraptor/server.config.yaml")).toContain("4000");
  }, 600_000);

  it("an up cancelled by the client (SIGINT to the engine) leaves the stack unlocked and consistent; the next up completes", async () => {
    const abort = new AbortController();
    const change = request({ binary: v2, version: "0.77.3", maxClients: 5000 });
    const cancelled = run("deploy_server", change, { signal: abort.signal, onProgress: (m) => (/^update /.test(m) ? abort.abort() : undefined) });
    await expect(cancelled).rejects.toThrow();
    // The engine finishes the step in flight and exits; the lock is released only then.
    let state: string | undefined;
    for (let i = 0; i < 120; i++) {
      const s = await call(mcp.client, "refresh_deployment", { deployment_id: ID });
      if (s.ok) {
        state = s.structured!.deployment.status;
        break;
      }
      expect(s.error?.code, s.text).toBe("DEPLOYMENT_BUSY");
      await new Promise((r) => setTimeout(r, 1000));
    }
    expect(state).toBeDefined();
    const exported = JSON.parse(spawnSync(join(engine.ok ? engine.root : "", "bin", "pulumi"), ["stack", "export", "--stack", ID], {
      cwd: join(home, "pulumi", "workspaces", ID),
      env: { ...process.env, ...env, PULUMI_CONFIG_PASSPHRASE: readFileSync(join(home, "pulumi-passphrase"), "utf8").trim() },
      encoding: "utf8",
    }).stdout) as { deployment: { pending_operations?: unknown[] } };
    expect(exported.deployment.pending_operations ?? []).toEqual([]);
    const r = await run("deploy_server", change);
    expect(r.ok, r.text).toBe(true);
    expect(healthy(r.progress)).toBe(true);
    expect(await sh("grep expected_clients /etc/velociraptor/server.config.yaml")).toContain("5000");
  }, 600_000);

  it("destroy_deployment (plan, confirm_token and reason) uninstalls everything but the datastore and leaves a tombstone", async () => {
    const plan = await call(mcp.client, "destroy_deployment", { deployment_id: ID });
    expect(plan.error?.code).toBe("CONFIRMATION_REQUIRED");
    const refused = await call(mcp.client, "destroy_deployment", { deployment_id: ID, confirm_token: plan.error!.confirm_token });
    expect(refused.ok).toBe(false);
    const r = await confirmed("destroy_deployment", { deployment_id: ID }, "engine suite: done");
    expect(r.ok, r.text).toBe(true);
    expect(await onHost()).toMatchObject({ binary: "", config: "", etc: "", unit: "", active: "inactive", user: "", staged: "0", datastore: "yes" });
    expect((await call(mcp.client, "list_deployments", {})).structured!.deployments).toEqual([]);
    const all = await call(mcp.client, "list_deployments", { include_destroyed: true });
    expect(all.structured!.deployments).toEqual([expect.objectContaining({ id: ID, status: "destroyed", target: "ssh", hostname: h.address, case_id: "ENGINE-1" })]);
  }, 600_000);

  it("from the TypeScript sources (tsx cli/main.ts, as npm run megaraptor) in a folder that is not the project, the PKI and SSH providers deploy and destroy too", async () => {
    await mcp.close();
    // Asynchronous: the HTTP server the host downloads from lives in this process.
    const sources = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        // `npm run megaraptor` is `tsx cli/main.ts`; run here from a folder that is not the project (review B1).
        execFile(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "cli", "main.ts"), ...args], { cwd: elsewhere, env: { ...process.env, ...mcpEnv(), HOME: home, MEGARAPTOR_HOME: home }, timeout: 400_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    const up = await sources(["tool", "deploy_server", "--args", JSON.stringify(request({ binary: v1, id: "engine-ssh-ts" }))]);
    expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
    expect(JSON.parse(up.stdout).deployment).toMatchObject({ id: "engine-ssh-ts", status: "active" });
    expect((await onHost()).active).toBe("active");
    const down = await sources(["tool", "destroy_deployment", "--args", JSON.stringify({ deployment_id: "engine-ssh-ts" }), "--yes", "--reason", "engine suite: sources run done"]);
    expect(down.code, `${down.stdout}\n${down.stderr}`).toBe(0);
    expect(await onHost()).toMatchObject({ binary: "", unit: "", user: "" });
  }, 900_000);

  it.skipIf(!!languageHostMissing)(`the platform-team path: pulumi up on Pulumi.yaml, then megaraptor check with the stack's output${languageHostMissing ? ` (skipped: ${languageHostMissing})` : ""}`, async () => {
    // Runs where scripts/engines.sh could build pulumi-language-nodejs: the stack program is deploy/program/index.ts.
    const stackDir = mkdtempSync(join(dir, "platform-"));
    const configFile = join(stackDir, "Pulumi.engine-platform.yaml");
    const penv = { ...process.env, ...env, PULUMI_BACKEND_URL: `file://${stackDir}`, PULUMI_CONFIG_PASSPHRASE: "engine suite platform" };
    const pulumi = (args: string[], input?: string) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(join(engine.ok ? engine.root : "", "bin", "pulumi"), [...args, "--stack", "engine-platform", "--config-file", configFile, "--non-interactive"], { cwd: ROOT, env: penv, timeout: 600_000 }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin?.end(input ?? "");
      });
    const ok = (r: { code: number; stderr: string }) => expect(r.code, r.stderr).toBe(0);
    ok(await pulumi(["stack", "init", "--secrets-provider", "passphrase"]));
    // The settings as a platform team writes them (cf. Pulumi.ssh-lab.yaml), the key as a secret from stdin.
    const file = parse(readFileSync(configFile, "utf8")) as { config?: Record<string, unknown> };
    file.config = {
      "megaraptor:target": "ssh",
      "megaraptor:hostname": h.address,
      "megaraptor:overrides": { binds: { api: "all" } },
      "megaraptor:ssh": { host: h.address, port: 22, user: "root", binaryUrl: v1.url, binarySha256: v1.sha256 },
    };
    writeFileSync(configFile, stringify(file));
    ok(await pulumi(["config", "set", "--secret", "megaraptor:sshPrivateKey"], h.privateKey));
    ok(await pulumi(["up", "--yes", "--skip-preview"]));
    const out = await pulumi(["stack", "output", "apiClientYaml", "--show-secrets"]);
    ok(out);
    const path = join(stackDir, "api_client.yaml");
    writeFileSync(path, out.stdout.trim(), { mode: 0o600 });
    ok(await cli(["check", "-c", path]));
    ok(await cli(["query", "-c", path, "SELECT * FROM info()"]));
    ok(await pulumi(["destroy", "--yes", "--skip-preview"]));
    expect(await onHost()).toMatchObject({ binary: "", unit: "", user: "" });
  }, 900_000);
});
