/** Deployment tools through MCP (in-process, SDK client) over the automation seam with an in-memory engine. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildMcpServer, Runtime } from "../../mcp/server/index.js";
import { TOOLSET_NAMES } from "../../mcp/tools/toolsets.js";
import { setAutomationEngine } from "../../deploy/operations/index.js";
import { DEFAULT_PROFILE } from "../../deploy/request/index.js";
import { call } from "../helpers/mcp.js";
import { MemoryEngine } from "../helpers/memory-engine.js";
import { sshdUnavailable, startSshd } from "../helpers/sshd.js";

const SSHD_MISSING = sshdUnavailable();
if (SSHD_MISSING) console.warn(`skipping the deploy_agents_ssh install test: ${SSHD_MISSING}`);

let client: Client;
let engine: MemoryEngine;
let home: string;
const SHA = "e".repeat(64);
/** The in-memory engine creates nothing real: no target to check, nothing to wait for. */
const FAKE = { skip_preflight: true, wait_healthy: false };

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "mr-deploy-"));
  process.env.MEGARAPTOR_HOME = home;
  process.env.MEGARAPTOR_CREDENTIAL_PASSPHRASE = "test passphrase";
  process.env.MEGARAPTOR_HEALTH_TIMEOUT = "1";
  engine = new MemoryEngine();
  setAutomationEngine(engine);
  const server = buildMcpServer(new Runtime({ mode: "respond", auditPath: join(home, "audit.jsonl"), toolsets: TOOLSET_NAMES }));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  client = new Client({ name: "t", version: "1" });
  await client.connect(b);
});
afterAll(async () => {
  await client.close();
  delete process.env.MEGARAPTOR_HOME;
  delete process.env.MEGARAPTOR_CREDENTIAL_PASSPHRASE;
});

describe("deploy, list, status", () => {
  it("deploys, reports progress, lists and shows status with secrets masked", async () => {
    const progress: string[] = [];
    const r = await client.callTool({ name: "deploy_server", arguments: { ...FAKE, deployment_id: "lab-docker", target: "docker", profile: "minimal", case_id: "CASE-1", tags: { team: "ir" } } }, undefined, { onprogress: (p) => void progress.push(String(p.message)) });
    expect(r.isError).toBeFalsy();
    expect(progress).toContain("finished");
    const list = await call(client, "list_deployments", { case_id: "CASE-1" });
    expect(list.structured!.deployments.map((d: any) => d.id)).toEqual(["lab-docker"]);
    expect((await call(client, "list_deployments", { tag: "team=ir" })).structured!.deployments).toHaveLength(1);
    expect((await call(client, "list_deployments", { target: "aws" })).structured!.deployments).toHaveLength(0);
    const status = await call(client, "get_deployment_status", { deployment_id: "lab-docker" });
    expect(status.structured!.deployment.outputs).toMatchObject({ serverUrl: "https://localhost:8000/", clientConfigYaml: "[secret]" });
    expect(status.text).not.toContain("BEGIN CERTIFICATE");
  });

  it("a case report lists the deployments made for that case", async () => {
    const r = await call(client, "generate_report", { case_id: "CASE-1", title: "Lab", formats: ["markdown"] });
    expect(r.structured!.counts.deployments).toBe(1);
    const md = readFileSync(r.structured!.files[0].path, "utf8");
    expect(md).toMatch(/## Deployments\n\n\| Deployment \| Target \| Profile \| Status \|[^\n]*\n[^\n]*\n\| lab-docker \| docker \| minimal \| active \|/);
  });

  it("parity shortcuts: deploy_server_docker maps memory/cpu limits and ports onto the profile, with the one default profile", async () => {
    await call(client, "deploy_server_docker", { deployment_id: "quick-ir", memory_limit: "4g", cpu_limit: "2", gui_port: 9889, ...FAKE });
    expect(engine.records.get("quick-ir")!.settings).toMatchObject({ target: "docker", profile: DEFAULT_PROFILE, hostname: "localhost", overrides: { resources: { memoryMb: 4096, cpus: 2 }, ports: { gui: 9889 } } });
  });

  it("one default profile on every path: deploy_server, the docker shortcut and a request without a template", async () => {
    await call(client, "deploy_server", { ...FAKE, deployment_id: "dflt", target: "docker" });
    expect(engine.records.get("dflt")!.settings.profile).toBe(DEFAULT_PROFILE);
    expect(DEFAULT_PROFILE).toBe("standard");
  });

  it("preview_only changes nothing", async () => {
    const r = await call(client, "deploy_server", { ...FAKE, deployment_id: "not-yet", target: "docker", preview_only: true });
    expect(r.structured!.changes.create).toBe(7);
    expect(engine.records.has("not-yet")).toBe(false);
  });

  it("ssh target: binary_url and port reach the settings the component is built from, under the same names", async () => {
    await call(client, "deploy_server", { ...FAKE, deployment_id: "ssh-url", target: "ssh", hostname: "vr", ssh: { host: "127.0.0.1", port: 2222, binary_sha256: SHA, binary_url: "http://127.0.0.1:8080/velociraptor" } });
    expect(engine.records.get("ssh-url")!.settings.ssh).toEqual({ host: "127.0.0.1", port: 2222, user: "root", binary_url: "http://127.0.0.1:8080/velociraptor", binary_sha256: SHA, open_firewall: false, remove_datastore_on_delete: false });
    expect((await call(client, "deploy_server", { ...FAKE, deployment_id: "ssh-ftp", target: "ssh", hostname: "h", ssh: { host: "h", binary_sha256: SHA, binary_url: "ftp://h/v" } })).error?.message).toMatch(/^ssh\.binary_url: expected an http\(s\) URL/);
  });

  it("rejects bad input naming the field", async () => {
    expect((await call(client, "deploy_server", { ...FAKE, deployment_id: "x-y-z" })).error?.message).toMatch(/^target: is required/);
    expect((await call(client, "deploy_server", { ...FAKE, deployment_id: "Bad_Id", target: "docker" })).error?.message).toMatch(/^deployment_id: expected a deployment id/);
    expect((await call(client, "deploy_server", { ...FAKE, deployment_id: "ssh-one", target: "ssh", hostname: "h", ssh: { host: "h" } })).error?.message).toMatch(/^ssh\.binary_sha256/);
    expect((await call(client, "deploy_server", { ...FAKE, deployment_id: "ssh-two", target: "ssh", hostname: "h" })).error).toMatchObject({ code: "INVALID_INPUT", message: expect.stringMatching(/^ssh: target ssh needs a "ssh" section/) });
    // Names that moved are refused by name, not dropped.
    expect((await call(client, "deploy_server", { ...FAKE, deployment_id: "old-names", target: "docker", case: "IR-1" })).error?.message).toMatch(/case/);
  });
});

describe("checks around a deployment", () => {
  it("refuses to create anything when preflight fails, naming the fix", async () => {
    const r = await call(client, "deploy_server", { deployment_id: "pf-fail", target: "ssh", hostname: "vr", ssh: { host: "127.0.0.1", user: "nobody", binary_sha256: SHA }, wait_healthy: false });
    expect(r.error?.code).toBe("PREFLIGHT_FAILED");
    expect(r.error?.message).toContain("ssh reachable");
    expect(engine.records.has("pf-fail")).toBe(false);
  });

  it("leaves a deployment that never becomes healthy in place and says how to inspect and destroy it", async () => {
    const r = await call(client, "deploy_server", { deployment_id: "unhealthy", target: "docker", hostname: "127.0.0.1", skip_preflight: true });
    expect(r.error?.code).toBe("HEALTH_TIMEOUT");
    expect(r.error?.hint).toContain("destroy_deployment unhealthy");
    expect(engine.records.get("unhealthy")!.status).toBe("active");
    const v = await call(client, "validate_deployment", { deployment_id: "unhealthy" });
    expect(v.structured!.healthy).toBe(false);
  });
});

describe("failure, busy, rollback, destroy", () => {
  it("a failed deployment says what to do next and stays visible", async () => {
    engine.failNext = "docker: cannot connect to the Docker daemon";
    const r = await call(client, "deploy_server", { ...FAKE, deployment_id: "broken", target: "docker" });
    expect(r.error?.code).toBe("DEPLOYMENT_FAILED");
    expect(r.error?.hint).toMatch(/destroy_deployment broken/);
    expect((await call(client, "get_deployment_status", { deployment_id: "broken" })).structured!.deployment.status).toBe("failed");
  });

  it("refuses a second concurrent operation on the same deployment", async () => {
    engine.delayMs = 300;
    const [a, b] = await Promise.all([call(client, "deploy_server", { ...FAKE, deployment_id: "busy-one", target: "docker" }), call(client, "deploy_server", { ...FAKE, deployment_id: "busy-one", target: "docker" })]);
    engine.delayMs = 0;
    expect([a.error?.code, b.error?.code].filter(Boolean)).toEqual(["DEPLOYMENT_BUSY"]);
  });

  it("rolls back to the previous successful settings after confirmation", async () => {
    await call(client, "deploy_server", { ...FAKE, deployment_id: "roll", target: "docker", profile: "minimal" });
    await call(client, "deploy_server", { ...FAKE, deployment_id: "roll", target: "docker", profile: "standard" });
    const plan = await call(client, "rollback_deployment", { deployment_id: "roll" });
    expect(plan.error?.code).toBe("CONFIRMATION_REQUIRED");
    const done = await call(client, "rollback_deployment", { deployment_id: "roll", confirm_token: plan.error!.confirm_token });
    expect(done.structured!.deployment.profile).toBe("minimal");
  });

  it("destroys only with a confirmed plan and keeps a tombstone", async () => {
    const plan = await call(client, "destroy_deployment", { deployment_id: "lab-docker", reason: "case closed" });
    expect(plan.error?.code).toBe("CONFIRMATION_REQUIRED");
    expect(engine.records.get("lab-docker")!.status).toBe("active");
    await call(client, "destroy_deployment", { deployment_id: "lab-docker", reason: "case closed", confirm_token: plan.error!.confirm_token });
    expect((await call(client, "list_deployments", {})).structured!.deployments.map((d: any) => d.id)).not.toContain("lab-docker");
    expect((await call(client, "list_deployments", { include_destroyed: true })).structured!.deployments.find((d: any) => d.id === "lab-docker").status).toBe("destroyed");
    expect(readFileSync(join(home, "audit.jsonl"), "utf8")).toContain('"summary":"destroyed: case closed"');
    expect((await call(client, "destroy_deployment", { deployment_id: "nope" })).error?.code).toBe("NOT_FOUND");
  });
});

describe("templates and credentials", () => {
  it("saves a deployment as a template and deploys from it", async () => {
    await call(client, "deploy_server", { ...FAKE, deployment_id: "tmpl-src", target: "docker", profile: "rapid", overrides: { resources: { memoryMb: 3072 } } });
    const saved = await call(client, "save_deployment_template", { deployment_id: "tmpl-src", template_name: "ir-docker", description: "IR lab" });
    expect(readFileSync(saved.structured!.path, "utf8")).not.toContain("tmpl-src");
    expect((await call(client, "list_deployment_templates")).structured!.templates.map((t: any) => t.name)).toEqual(["ir-docker"]);
    await call(client, "deploy_server", { ...FAKE, deployment_id: "from-tmpl", template: "ir-docker" });
    expect(engine.records.get("from-tmpl")!.settings).toMatchObject({ profile: "rapid", overrides: { resources: { memoryMb: 3072 } } });
  });

  it("stores credentials encrypted, never shows them, and passes them to deployments by alias", async () => {
    await call(client, "store_credential", { alias: "lab-key", kind: "ssh_private_key", secret: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----" });
    const file = readFileSync(join(home, "credentials.json"), "utf8");
    expect(file).not.toContain("abc");
    expect(statSync(join(home, "credentials.json")).mode & 0o777).toBe(0o600);
    const list = await call(client, "list_credentials");
    expect(JSON.stringify(list)).not.toContain("BEGIN");
    await call(client, "deploy_server", { ...FAKE, deployment_id: "ssh-lab", target: "ssh", hostname: "vr.lab", ssh: { host: "192.0.2.5", binary_sha256: SHA }, ssh_credential: "lab-key" });
    expect(String(engine.lastSecrets?.sshPrivateKey)).toContain("abc");
    const plan = await call(client, "delete_credential", { alias: "lab-key" });
    expect(plan.error).toMatchObject({ code: "CONFIRMATION_REQUIRED", plan: { details: { alias: "lab-key" } } });
    expect((await call(client, "delete_credential", { alias: "lab-key", confirm_token: plan.error!.confirm_token })).structured!.deleted).toBe(true);
    expect((await call(client, "delete_credential", { alias: "lab-key" })).error?.code).toBe("INVALID_INPUT");
  });
});

describe("generators", () => {
  it("write GPO, Ansible, installer and collector files with the deployment's client config (0600)", async () => {
    await call(client, "deploy_server", { ...FAKE, deployment_id: "gen", target: "docker", hostname: "vr.corp" });
    const gpo = await call(client, "generate_gpo_package", { deployment_id: "gen", domain_controller: "dc1" });
    const cfg = gpo.structured!.files.find((f: string) => f.endsWith("client.config.yaml"));
    expect(readFileSync(cfg, "utf8")).toContain("https://vr.corp:8000/");
    expect(statSync(cfg).mode & 0o777).toBe(0o600);
    expect((await call(client, "generate_ansible_playbook", { deployment_id: "gen" })).structured!.files).toHaveLength(3);
    const inst = await call(client, "generate_agent_installer", { deployment_id: "gen", os_type: "linux", binary_sha256: SHA });
    expect(readFileSync(inst.structured!.files[1], "utf8")).toContain("sha256sum -c -");
    expect((await call(client, "generate_agent_installer", { deployment_id: "gen", os_type: "linux" })).error?.message).toMatch(/^binary_sha256/);
    const col = await call(client, "create_offline_collector", { artifacts: ["Windows.KapeFiles.Targets"], target_os: "windows" });
    expect(readFileSync(col.structured!.path, "utf8")).toContain("Windows.KapeFiles.Targets");
  });
});

describe("Windows rollouts", () => {
  it("list no push tool that cannot run; the GPO package, the MSI installer notes and the Ansible playbook cover Windows", async () => {
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain("deploy_agents_winrm");
    expect(names).toEqual(expect.arrayContaining(["generate_gpo_package", "generate_agent_installer", "generate_ansible_playbook"]));
    await call(client, "deploy_server", { ...FAKE, deployment_id: "win", target: "docker", hostname: "vr.corp" });
    const inst = await call(client, "generate_agent_installer", { deployment_id: "win", os_type: "windows" });
    expect(readFileSync(inst.structured!.files[0], "utf8")).toContain("https://vr.corp:8000/");
    expect(readFileSync(inst.structured!.files[1], "utf8")).toMatch(/windows-amd64\.msi/);
  });
});

describe("agents and operations", () => {
  it.skipIf(!!SSHD_MISSING)(`deploy_agents_ssh installs on a real sshd host (staging prefix) and reports per-host results${SSHD_MISSING ? ` — skipped: ${SSHD_MISSING}` : ""}`, async () => {
    const { createHash } = await import("node:crypto");
    const { writeFileSync, existsSync } = await import("node:fs");
    const sshd = await startSshd();
    try {
      const bin = join(home, "fake-velociraptor");
      writeFileSync(bin, "#!/bin/sh\necho velociraptor\n");
      const sha = createHash("sha256").update(readFileSync(bin)).digest("hex");
      await call(client, "store_credential", { alias: "agents-key", kind: "ssh_private_key", secret: sshd.privateKey });
      await call(client, "deploy_server", { ...FAKE, deployment_id: "agents", target: "docker", hostname: "vr.agents" });
      const prefix = join(home, "agent-root");
      const r = await call(client, "deploy_agents_ssh", { deployment_id: "agents", targets: [`127.0.0.1:${sshd.port}`, "127.0.0.1:1"], username: "root", ssh_credential: "agents-key", binary_sha256: sha, binary_url: `file://${bin}`, install_prefix: prefix, start_service: false });
      expect(r.structured!.results.map((x: any) => x.ok)).toEqual([true, false]);
      expect(existsSync(join(prefix, "usr/local/bin/velociraptor"))).toBe(true);
      const cfg = join(prefix, "etc/velociraptor/client.config.yaml");
      expect(readFileSync(cfg, "utf8")).toContain("https://vr.agents:8000/");
      expect(statSync(cfg).mode & 0o777).toBe(0o600);
      const bad = await call(client, "deploy_agents_ssh", { deployment_id: "agents", targets: [`127.0.0.1:${sshd.port}`], username: "root", ssh_credential: "agents-key", binary_sha256: "0".repeat(64), binary_url: `file://${bin}`, install_prefix: join(home, "agent-bad"), start_service: false });
      expect(bad.structured!.results[0].ok).toBe(false);
      expect(bad.structured!.results[0].output).toMatch(/FAILED|did NOT match/i);
    } finally {
      sshd.stop();
    }
  });

  it("deploy_agents_ssh refuses a key_path that is not an owner-only private key before contacting any host", async () => {
    const { writeFileSync } = await import("node:fs");
    await call(client, "deploy_server", { ...FAKE, deployment_id: "keypath", target: "docker" });
    const notKey = join(home, "notes.txt");
    writeFileSync(notKey, "db password: hunter2-correct-horse\n", { mode: 0o600 });
    const r = await call(client, "deploy_agents_ssh", { deployment_id: "keypath", targets: ["127.0.0.1:1"], username: "root", key_path: notKey, binary_sha256: "0".repeat(64) });
    expect(r.error).toMatchObject({ code: "INVALID_INPUT" });
    expect(r.error!.message).toMatch(/^key_path: .* is not a private key/);
    expect(JSON.stringify(r.error)).not.toContain("hunter2");
  });

  it("check_agent_deployment asks the deployment's own API which clients enrolled", async () => {
    const { startTestServer } = await import("../../test-server/index.js");
    const { stringify } = await import("yaml");
    const vr = await startTestServer();
    try {
      engine.apiClientYaml = stringify(vr.apiClientConfig());
      await call(client, "deploy_server", { ...FAKE, deployment_id: "enrol", target: "docker" });
      const r = await call(client, "check_agent_deployment", { deployment_id: "enrol", labels: ["server"] });
      expect(r.structured!.total).toBe(3);
    } finally {
      engine.apiClientYaml = "ca_certificate: x";
      await vr.stop();
    }
  });

  it("rotate_certificates re-applies with the next rotation after confirmation; runbook", async () => {
    await call(client, "deploy_server", { ...FAKE, deployment_id: "rot", target: "docker" });
    const plan = await call(client, "rotate_certificates", { deployment_id: "rot" });
    expect(plan.error).toMatchObject({ code: "CONFIRMATION_REQUIRED", reason_required: true });
    const noReason = await call(client, "rotate_certificates", { deployment_id: "rot", confirm_token: plan.error!.confirm_token });
    expect(noReason.error?.message).toMatch(/needs a reason/);
    await call(client, "rotate_certificates", { deployment_id: "rot", confirm_token: plan.error!.confirm_token, reason: "yearly rotation" });
    expect(engine.records.get("rot")!.settings.certificate_rotation).toBe(1);
    // A11: the CA (and the nonce enrolled clients pin) changes only when asked for.
    expect(engine.records.get("rot")!.settings.ca_rotation).toBe(0);
    const planCa = await call(client, "rotate_certificates", { deployment_id: "rot", rotate_ca: true });
    expect(planCa.error!.message).toMatch(/new CA/);
    await call(client, "rotate_certificates", { deployment_id: "rot", rotate_ca: true, confirm_token: planCa.error!.confirm_token, reason: "CA key exposure drill" });
    expect(engine.records.get("rot")!.settings.ca_rotation).toBe(1);
    const doc = await call(client, "export_deployment_docs", { deployment_id: "rot" });
    expect(readFileSync(doc.structured!.path, "utf8")).toContain("destroy_deployment deployment_id=rot");
  });
});

describe("config and credentials files", () => {
  it("generate_server_config writes the config 0600 and never returns it; generate_api_credentials adds a user", async () => {
    await call(client, "deploy_server", { ...FAKE, deployment_id: "cfg", target: "docker" });
    const r = await call(client, "generate_server_config", { deployment_id: "cfg", output_format: "json" });
    expect(JSON.parse(readFileSync(r.structured!.path, "utf8")).Frontend.hostname).toBe("localhost");
    expect(statSync(r.structured!.path).mode & 0o777).toBe(0o600);
    expect(r.text).not.toContain("PRIVATE KEY");
    const c = await call(client, "generate_api_credentials", { deployment_id: "cfg", client_name: "analyst1", roles: ["reader", "api"] });
    expect(readFileSync(c.structured!.path, "utf8")).toContain("name: analyst1");
    expect(c.structured!.grant_command).toBe("velociraptor --config server.config.yaml acl grant analyst1 --role reader,api");
    expect(engine.records.get("cfg")!.settings.api_users!.map((u) => u.name)).toEqual(["megaraptor", "analyst1"]);
  });
});

describe("offline collector", () => {
  it("builds the collector with the configured, pinned Velociraptor binary, and says how otherwise", async () => {
    const { writeFileSync, chmodSync, existsSync } = await import("node:fs");
    const fake = join(home, "velociraptor-fake");
    // Stands in for the real binary: records its arguments where the real one would write the collector.
    writeFileSync(fake, '#!/bin/sh\nmkdir -p "$3" && echo "$@" > "$3/args"\n');
    chmodSync(fake, 0o755);
    const without = await call(client, "create_offline_collector", { artifacts: ["Generic.Client.Info"], target_os: "linux" });
    expect(without.structured!.note).toMatch(/set VELOCIRAPTOR_BINARY/);
    process.env.VELOCIRAPTOR_BINARY = fake;
    const { createHash } = await import("node:crypto");
    process.env.VELOCIRAPTOR_BINARY_SHA256 = createHash("sha256").update(readFileSync(fake)).digest("hex");
    try {
      const r = await call(client, "create_offline_collector", { artifacts: ["Generic.Client.Info"], target_os: "linux" });
      expect(readFileSync(join(r.structured!.collector, "args"), "utf8")).toContain(`collector --datastore ${r.structured!.collector} ${r.structured!.path}`);
      expect(existsSync(r.structured!.path)).toBe(true);
    } finally {
      delete process.env.VELOCIRAPTOR_BINARY;
      delete process.env.VELOCIRAPTOR_BINARY_SHA256;
    }
  });
});
