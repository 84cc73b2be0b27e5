/**
 * Issue 13 item 11, attacked: tools that write files on this machine from an id or a path stay inside their folders
 * (ids are one path component; output paths are confined, symbolic links included), their writes are audited, and the
 * only Velociraptor binary ever run is the operator's pinned one — never whatever `velociraptor` is on PATH.
 * In-process MCP server and SDK client over an in-memory deployment engine.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { readAudit } from "../../core/audit.js";
import { confinedPath } from "../../core/paths.js";
import { workspaceDir } from "../../deploy/automation/state.js";
import { deploymentDir, requireDeployment, setAutomationEngine } from "../../deploy/operations/index.js";
import { ChangeLedger } from "../../dfir/response/ledger.js";
import { buildMcpServer, Runtime } from "../../mcp/server/index.js";
import { TOOLSET_NAMES } from "../../mcp/tools/toolsets.js";
import { TOOLS } from "../../mcp/tools/index.js";
import { call } from "../helpers/mcp.js";
import { MemoryEngine } from "../helpers/memory-engine.js";

let client: Client;
let home: string;
/** A folder outside MEGARAPTOR_HOME an attacker would like written: it must stay empty. */
let outside: string;
let auditPath: string;
const FAKE = { skip_preflight: true, wait_healthy: false };
/** Escape targets are unique per run, so a file left by an earlier (unfixed) run cannot mask or fake a result. */
const ESC = `escape-${process.pid}-${Date.now()}`;

/** The id-traversal class: separators, parent references, absolute paths, encodings, NUL, case and length games. */
const BAD_IDS = [`../../${ESC}`, "..", ".", "a/b", "/etc", "lab\\..\\x", "lab\0x", "%2e%2e%2fx", "Lab-Upper", "-lead", "x", `a${"b".repeat(60)}`, `lab/../../${ESC}`, "~root"];

function empty(dir: string) {
  return readdirSync(dir);
}

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "mr-localw-"));
  outside = mkdtempSync(join(tmpdir(), "mr-outside-"));
  auditPath = join(home, "audit.jsonl");
  process.env.MEGARAPTOR_HOME = home;
  process.env.MEGARAPTOR_CREDENTIAL_PASSPHRASE = "test passphrase";
  setAutomationEngine(new MemoryEngine());
  const server = buildMcpServer(new Runtime({ mode: "respond", auditPath, toolsets: TOOLSET_NAMES }));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  client = new Client({ name: "t", version: "1" });
  await client.connect(b);
  expect((await call(client, "deploy_server", { ...FAKE, deployment_id: "docs", target: "docker" })).ok).toBe(true);
});
afterAll(async () => {
  await client.close();
  delete process.env.MEGARAPTOR_HOME;
  delete process.env.MEGARAPTOR_CREDENTIAL_PASSPHRASE;
  rmSync(outside, { recursive: true, force: true });
});

describe("deployment ids are one path component (every tool that takes one)", () => {
  const withId = TOOLS.filter((t) => "deployment_id" in t.input.shape);

  it("covers the tools that write from an id", () => {
    for (const n of ["create_offline_collector", "export_deployment_docs", "generate_server_config", "generate_api_credentials", "generate_gpo_package", "generate_ansible_playbook", "generate_agent_installer"]) expect(withId.map((t) => t.name)).toContain(n);
  });

  it.each(BAD_IDS)("refuses deployment_id %j with INVALID_INPUT naming the field, writing nothing", async (id) => {
    for (const t of withId) {
      const r = await call(client, t.name, { deployment_id: id, artifacts: ["Generic.Client.Info"], target_os: "linux", os_type: "linux", targets: ["h"], username: "u", binary_sha256: "e".repeat(64), template_name: "t" });
      expect(r.error?.code, `${t.name} ${JSON.stringify(id)}`).toBe("INVALID_INPUT");
      expect(r.error?.message, t.name).toMatch(/^deployment_id: /);
    }
    expect(empty(outside)).toEqual([]);
    expect(existsSync(join(home, ESC))).toBe(false);
    expect(existsSync(join(home, "..", ESC))).toBe(false);
  });

  it("a template name that climbs out of the templates folder is refused, even onto a valid template file", async () => {
    // A well-formed template planted outside: reached through `..` it would be deployed from.
    writeFileSync(join(outside, "evil.yaml"), "name: evil\nsettings:\n  target: docker\n  hostname: evil.example\n");
    try {
      const climb = relative(join(home, "templates", "deployments"), join(outside, "evil"));
      for (const template of [climb, join(outside, "evil"), "a/b", ".."]) {
        const r = await call(client, "deploy_server", { ...FAKE, deployment_id: "from-tpl", template });
        expect(r.error?.code, template).toBe("INVALID_INPUT");
        expect(r.error?.message, template).toMatch(/^template: .*not a valid name/);
      }
    } finally {
      rmSync(join(outside, "evil.yaml"));
    }
  });

  it("the folder helpers refuse them too, whoever calls (defence in depth)", async () => {
    for (const id of [`../../${ESC}`, "a/b", ".."]) {
      expect(() => deploymentDir(id)).toThrow(/^deployment_id: /);
      expect(() => workspaceDir(id)).toThrow(/^deployment_id: /);
      await expect(requireDeployment(id)).rejects.toThrow(/^deployment_id: /);
      expect(() => new ChangeLedger(id, join(home, "cases"))).toThrow(/^case_id: /);
    }
    expect(() => deploymentDir("docs", `../../../${ESC}`)).toThrow(/^deployment_id: .*outside/);
  });
});

describe("output paths are confined to the deployment's folder", () => {
  // Absolute targets are unique files under /tmp, never a system file: were the confinement ever broken, this suite
  // (run as root in CI) must not be the thing that overwrites /etc/passwd — an earlier version did exactly that.
  const ESCAPES = [`../../${ESC}.md`, "../docs2/RUNBOOK.md", `sub/../../../${ESC}.md`, `/tmp/${ESC}.md`, "", "x\0y"];

  it.each(ESCAPES)("export_deployment_docs refuses output_path %j", async (p) => {
    const r = await call(client, "export_deployment_docs", { deployment_id: "docs", output_path: p });
    expect(r.error?.code).toBe("INVALID_INPUT");
    expect(r.error?.message).toMatch(/^output_path: /);
    expect(existsSync(join(home, `${ESC}.md`))).toBe(false);
    expect(existsSync(join(home, "..", `${ESC}.md`))).toBe(false);
    expect(existsSync(`/tmp/${ESC}.md`)).toBe(false);
  });

  it("writes inside: the default, a relative name and an absolute path inside the folder", async () => {
    const dir = realpathSync(join(home, "deployments", "docs"));
    expect((await call(client, "export_deployment_docs", { deployment_id: "docs" })).structured!.path).toBe(join(dir, "RUNBOOK.md"));
    expect((await call(client, "export_deployment_docs", { deployment_id: "docs", output_path: "ops/runbook.md" })).structured!.path).toBe(join(dir, "ops", "runbook.md"));
    expect((await call(client, "export_deployment_docs", { deployment_id: "docs", output_path: join(dir, "abs.md") })).structured!.path).toBe(join(dir, "abs.md"));
  });

  it("refuses an absolute path outside even when it names an existing file (never overwrites it)", async () => {
    const victim = join(outside, "victim.txt");
    writeFileSync(victim, "keep me");
    const r = await call(client, "export_deployment_docs", { deployment_id: "docs", output_path: victim });
    expect(r.error?.message).toMatch(/^output_path: .*outside the output folder/);
    expect(readFileSync(victim, "utf8")).toBe("keep me");
    rmSync(victim);
  });

  it("refuses a symbolic link planted as the output file, and one planted as a folder on the way", async () => {
    const dir = join(home, "deployments", "docs");
    const victim = join(outside, "victim.txt");
    writeFileSync(victim, "keep me");
    symlinkSync(victim, join(dir, "link.md"));
    symlinkSync(outside, join(dir, "out"));
    try {
      const viaFile = await call(client, "export_deployment_docs", { deployment_id: "docs", output_path: "link.md" });
      expect(viaFile.error?.message).toMatch(/^output_path: .*symbolic link/);
      const viaDir = await call(client, "export_deployment_docs", { deployment_id: "docs", output_path: "out/RUNBOOK.md" });
      expect(viaDir.error?.message).toMatch(/^output_path: .*resolves \(through a symbolic link\)/);
      expect(readFileSync(victim, "utf8")).toBe("keep me");
      expect(empty(outside)).toEqual(["victim.txt"]);
    } finally {
      rmSync(join(dir, "link.md"));
      rmSync(join(dir, "out"));
      rmSync(victim);
    }
  });

  it("refuses a deployment folder (or generator subfolder) that is a symbolic link out of the deployments folder", async () => {
    expect((await call(client, "deploy_server", { ...FAKE, deployment_id: "linked", target: "docker" })).ok).toBe(true);
    const dir = join(home, "deployments", "linked");
    rmSync(dir, { recursive: true, force: true });
    symlinkSync(outside, dir);
    try {
      for (const [tool, args] of [
        ["export_deployment_docs", {}],
        ["generate_server_config", {}],
        ["generate_gpo_package", {}],
        ["generate_agent_installer", { os_type: "windows" }],
        ["create_offline_collector", { artifacts: ["Generic.Client.Info"], target_os: "linux" }],
      ] as const) {
        const r = await call(client, tool, { deployment_id: "linked", ...args });
        expect(r.error?.message, tool).toMatch(/^deployment_id: .*symbolic link/);
      }
      expect(empty(outside)).toEqual([]);
    } finally {
      rmSync(dir);
    }
    mkdirSync(join(home, "deployments", "docs"), { recursive: true });
    symlinkSync(outside, join(home, "deployments", "docs", "gpo"));
    try {
      const r = await call(client, "generate_gpo_package", { deployment_id: "docs" });
      expect(r.error?.message).toMatch(/^deployment_id: .*symbolic link/);
      expect(empty(outside)).toEqual([]);
    } finally {
      rmSync(join(home, "deployments", "docs", "gpo"));
    }
  });

  it("confinedPath: the unit under the tools (relative, absolute, dot-dot, links)", () => {
    const base = mkdtempSync(join(tmpdir(), "mr-conf-"));
    expect(confinedPath(base, "a/b.txt", "f")).toBe(join(realpathSync(base), "a", "b.txt"));
    expect(() => confinedPath(base, ".", "f")).toThrow(/^f: .*outside/);
    expect(() => confinedPath(base, "..", "f")).toThrow(/^f: .*outside/);
    expect(() => confinedPath(base, outside, "f")).toThrow(/^f: .*outside/);
    symlinkSync(outside, join(base, "l"));
    expect(() => confinedPath(base, "l/x/y.txt", "f")).toThrow(/^f: .*resolves/);
    rmSync(base, { recursive: true });
  });
});

describe("these writes are audited and need investigate mode", () => {
  it("export_deployment_docs and create_offline_collector write an intent before and an outcome after", async () => {
    await call(client, "export_deployment_docs", { deployment_id: "docs" });
    await call(client, "create_offline_collector", { artifacts: ["Generic.Client.Info"], target_os: "linux" });
    const entries = readAudit(auditPath);
    for (const tool of ["export_deployment_docs", "create_offline_collector"]) {
      const mine = entries.filter((e) => e.tool === tool).map((e) => e.outcome);
      expect(mine, tool).toContain("intent");
      expect(mine, tool).toContain("ok");
    }
  });

  it("read-only mode refuses them (MODE_FORBIDDEN, audited)", async () => {
    const ro = buildMcpServer(new Runtime({ mode: "read-only", auditPath: join(home, "ro-audit.jsonl") }));
    const [a, b] = InMemoryTransport.createLinkedPair();
    await ro.connect(a);
    const c = new Client({ name: "t", version: "1" });
    await c.connect(b);
    try {
      for (const [tool, args] of [["export_deployment_docs", { deployment_id: "docs" }], ["create_offline_collector", { artifacts: ["Generic.Client.Info"], target_os: "linux" }]] as const) {
        expect((await call(c, tool, args)).error?.code, tool).toBe("MODE_FORBIDDEN");
      }
      expect(readAudit(join(home, "ro-audit.jsonl")).map((e) => [e.tool, e.error?.code])).toEqual([
        ["export_deployment_docs", "MODE_FORBIDDEN"],
        ["create_offline_collector", "MODE_FORBIDDEN"],
      ]);
    } finally {
      await c.close();
    }
  });
});

describe("the Velociraptor binary: only the operator's pinned one runs", () => {
  let bin: string;
  let marker: string;
  const saved = { PATH: process.env.PATH };

  beforeAll(() => {
    bin = mkdtempSync(join(tmpdir(), "mr-bin-"));
    marker = join(bin, "RAN");
    // A planted binary: proves it ran by leaving a marker file (and builds nothing).
    writeFileSync(join(bin, "velociraptor"), `#!/bin/sh\necho "$@" > "${marker}"\n`);
    chmodSync(join(bin, "velociraptor"), 0o755);
  });
  afterEach(() => {
    process.env.PATH = saved.PATH;
    delete process.env.VELOCIRAPTOR_BINARY;
    delete process.env.VELOCIRAPTOR_BINARY_SHA256;
    rmSync(marker, { force: true });
  });
  const sha = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");
  const collect = () => call(client, "create_offline_collector", { artifacts: ["Generic.Client.Info"], target_os: "linux" });

  it("never runs a velociraptor planted on PATH: the spec is written and the answer says how to configure one", async () => {
    process.env.PATH = `${bin}:${saved.PATH}`;
    const r = await collect();
    expect(r.ok).toBe(true);
    expect(existsSync(marker)).toBe(false);
    expect(r.structured!.collector).toBeUndefined();
    expect(r.structured!.note).toMatch(/VELOCIRAPTOR_BINARY.*VELOCIRAPTOR_BINARY_SHA256.*never run/);
  });

  it.each([
    ["a bare name (a PATH lookup)", () => ({ VELOCIRAPTOR_BINARY: "velociraptor", VELOCIRAPTOR_BINARY_SHA256: sha(join(bin, "velociraptor")) }), /not an absolute path/],
    ["a relative path", () => ({ VELOCIRAPTOR_BINARY: "./velociraptor", VELOCIRAPTOR_BINARY_SHA256: sha(join(bin, "velociraptor")) }), /not an absolute path/],
    ["an absolute path without a pin", () => ({ VELOCIRAPTOR_BINARY: join(bin, "velociraptor") }), /VELOCIRAPTOR_BINARY_SHA256: is not set/],
    ["a pin that does not match (replaced binary)", () => ({ VELOCIRAPTOR_BINARY: join(bin, "velociraptor"), VELOCIRAPTOR_BINARY_SHA256: "0".repeat(64) }), /has SHA-256 [0-9a-f]{64}, not the pinned/],
    ["a symbolic link to the pinned file", () => { rmSync(join(bin, "link"), { force: true }); symlinkSync(join(bin, "velociraptor"), join(bin, "link")); return { VELOCIRAPTOR_BINARY: join(bin, "link"), VELOCIRAPTOR_BINARY_SHA256: sha(join(bin, "velociraptor")) }; }, /not a regular file \(a symbolic link/],
    ["a folder", () => ({ VELOCIRAPTOR_BINARY: bin, VELOCIRAPTOR_BINARY_SHA256: "0".repeat(64) }), /not a regular file/],
  ])("refuses %s with BINARY_NOT_TRUSTED, runs nothing and writes no spec", async (_what, env, message) => {
    process.env.PATH = `${bin}:${saved.PATH}`;
    Object.assign(process.env, env());
    const before = existsSync(join(home, "deployments", "offline-collectors")) ? readdirSync(join(home, "deployments", "offline-collectors")).length : 0;
    const r = await collect();
    expect(r.error?.code).toBe("BINARY_NOT_TRUSTED");
    expect(r.error?.message).toMatch(message);
    expect(existsSync(marker)).toBe(false);
    const after = existsSync(join(home, "deployments", "offline-collectors")) ? readdirSync(join(home, "deployments", "offline-collectors")).length : 0;
    expect(after).toBe(before);
  });

  it("runs the pinned binary (a private copy of the checked bytes) and reports its SHA-256", async () => {
    process.env.VELOCIRAPTOR_BINARY = join(bin, "velociraptor");
    process.env.VELOCIRAPTOR_BINARY_SHA256 = sha(join(bin, "velociraptor"));
    const r = await collect();
    expect(r.ok).toBe(true);
    expect(readFileSync(marker, "utf8")).toContain(`collector --datastore ${r.structured!.collector} ${r.structured!.path}`);
    expect(r.structured!.note).toContain(process.env.VELOCIRAPTOR_BINARY_SHA256);
    // The private copy that ran is gone.
    expect(readdirSync(join(home, "deployments", "offline-collectors")).filter((f) => f.startsWith(".velociraptor-"))).toEqual([]);
  });
});
