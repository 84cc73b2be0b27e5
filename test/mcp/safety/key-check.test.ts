/**
 * Issue 13 item 1, defence in depth: at start Megaraptor reads what the API key itself may do (whoami(), user()) and
 * warns loudly — or, strict, refuses — when that is more than the mode allows. Against the API test server, which
 * answers whoami()/user() as Velociraptor 0.77.2 does from its user store.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { stringify } from "yaml";
import { packageRoot } from "../../../core/paths.js";
import { assessKey, keyPermissionsFrom } from "../../../mcp/safety/key-check.js";
import type { Mode } from "../../../mcp/safety/mode.js";
import { modePermissions, ROLE_PERMISSIONS } from "../../../mcp/safety/permissions.js";
import { buildMcpServer, Runtime } from "../../../mcp/server/index.js";
import { ROLE_PERMISSIONS as SERVER_ROLE_PERMISSIONS, ROLES } from "../../../test-server/acl.js";
import { startTestServer, type TestServer } from "../../../test-server/index.js";
import { generateServerCert } from "../../../test-server/velociraptor-certs.js";
import { VelociraptorClient } from "../../../velociraptor/client.js";
import type { ApiClientConfig } from "../../../velociraptor/config.js";
import { call } from "../../helpers/mcp.js";

let vr: TestServer;
let superuser: ApiClientConfig;
let home: string;

beforeAll(async () => {
  vr = await startTestServer();
  home = mkdtempSync(join(tmpdir(), "mr-keycheck-"));
  // The frontend certificate used as an API key: Velociraptor's own identity, which has no user record.
  const cert = await generateServerCert(vr.pki.ca, "VelociraptorServer");
  superuser = { ...vr.apiClientConfig("admin"), client_cert: cert.certificate, client_private_key: cert.privateKey, name: "VelociraptorServer" };
});
afterAll(async () => {
  await vr.stop();
});

async function rows(config: ApiClientConfig, vql: string) {
  const c = VelociraptorClient.fromConfig(config);
  try {
    return await c.queryAll(vql);
  } finally {
    c.close();
  }
}

/** Runs the start-up check as the MCP server does, capturing what it prints on stderr. */
async function check(config: ApiClientConfig, mode: Mode, strict = false) {
  const runtime = new Runtime({ mode, apiConfig: config, auditPath: join(home, "audit.jsonl"), strictKey: strict });
  const written: string[] = [];
  const spy = vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
  try {
    const a = await runtime.checkKey();
    return { a, stderr: written.join("") };
  } finally {
    spy.mockRestore();
    runtime.close();
  }
}

describe("the test server answers whoami() and user() as Velociraptor does", () => {
  it("whoami() is the certificate's name; user(user=whoami()) has roles and the expanded effective_policy", async () => {
    const { rows: [r] } = await rows(vr.apiClientConfig("reader"), "SELECT whoami() AS Name, user(user=whoami()) AS User FROM scope()");
    expect(r!.Name).toBe("reader");
    expect(r!.User).toMatchObject({ name: "reader", org_id: "root", roles: ["reader", "api"], effective_policy: { any_query: true, read_results: true } });
    // Only set fields, roles cleared (ConvertPolicyToOrderedDict after GetEffectivePolicy).
    expect(Object.keys((r!.User as { effective_policy: object }).effective_policy).sort()).toEqual(["any_query", "read_results"]);
  });

  it("an administrator in the root org also holds org_admin; every administrator permission is there", async () => {
    const { rows: [r] } = await rows(vr.apiClientConfig("admin"), "SELECT user(user=whoami()) AS User FROM scope()");
    const eff = (r!.User as { effective_policy: Record<string, boolean> }).effective_policy;
    for (const f of ["server_admin", "collect_client", "artifact_writer", "execve", "delete_results", "org_admin"]) expect(eff[f], f).toBe(true);
    expect(eff.super_user).toBeUndefined();
  });

  it("the server's own identity has no user record: roles NULL, effective_policy {super_user: true}", async () => {
    const { rows: [r] } = await rows(superuser, "SELECT whoami() AS Name, user(user=whoami()) AS User FROM scope()");
    expect(r!.Name).toBe("VelociraptorServer");
    expect(r!.User).toMatchObject({ name: "VelociraptorServer", roles: null, effective_policy: { super_user: true } });
  });

  it("an unknown user: Velociraptor's log line, which the client raises as a VQL error", async () => {
    await expect(rows(vr.apiClientConfig("reader"), "SELECT user(user='nobody-here') AS User FROM scope()")).rejects.toMatchObject({ code: "VQL_ERROR", message: expect.stringMatching(/user: User not found: nobody-here/) });
  });

  it("the role table matches acls/roles.go on both sides (Megaraptor's and the test server's)", () => {
    for (const role of ROLES) expect(new Set(ROLE_PERMISSIONS[role]), role).toEqual(new Set(SERVER_ROLE_PERMISSIONS[role]));
  });
});

describe("the start-up key check", () => {
  it("a reader,api key in read-only mode: no warning", async () => {
    const { a, stderr } = await check(vr.apiClientConfig("reader"), "read-only");
    expect(a).toMatchObject({ user: "reader", known: true, exceeds_mode: [] });
    expect(a!.warning).toBeUndefined();
    expect(stderr).not.toMatch(/WARNING/);
  });

  it("an investigator,api key fits investigate mode but not read-only", async () => {
    expect((await check(vr.apiClientConfig("investigator"), "investigate")).a!.warning).toBeUndefined();
    const ro = await check(vr.apiClientConfig("investigator"), "read-only");
    expect(ro.a!.exceeds_mode).toEqual(expect.arrayContaining(["COLLECT_CLIENT", "START_HUNT", "LABEL_CLIENT"]));
    expect(ro.stderr).toMatch(/\*\*\* WARNING \(megaraptor\): API key "investigator".*COLLECT_CLIENT.*more than the read-only mode allows/);
  });

  it("an administrator key in read-only mode: a loud warning naming what it holds", async () => {
    const { a, stderr } = await check(vr.apiClientConfig("admin"), "read-only");
    expect(a!.exceeds_mode).toEqual(expect.arrayContaining(["COLLECT_CLIENT", "SERVER_ADMIN", "ARTIFACT_WRITER", "DELETE_RESULTS", "EXECVE"]));
    expect(stderr).toMatch(/WARNING.*"admin" \(roles administrator\) holds .*SERVER_ADMIN.*reader,api/);
  });

  it("an administrator key in read-only mode with --strict-key: refused (KEY_EXCEEDS_MODE)", async () => {
    await expect(check(vr.apiClientConfig("admin"), "read-only", true)).rejects.toMatchObject({ code: "KEY_EXCEEDS_MODE", message: expect.stringMatching(/^--strict-key: .*SERVER_ADMIN/) });
  });

  it("the server's own identity (no user record, super user) is flagged below respond and passes in respond", async () => {
    for (const mode of ["read-only", "investigate"] as const) {
      const { a, stderr } = await check(superuser, mode);
      expect(a!.exceeds_mode).toEqual(["SUPER_USER (every permission)"]);
      expect(stderr).toMatch(/server's own identity \(super user\)/);
    }
    expect((await check(superuser, "respond")).a!.warning).toBeUndefined();
    await expect(check(superuser, "read-only", true)).rejects.toMatchObject({ code: "KEY_EXCEEDS_MODE" });
  });

  it("a key whose user has no record on the server: its permissions cannot be read — warned, refused when strict", async () => {
    const { a, stderr } = await check(vr.apiClientConfig("unknownUser"), "read-only");
    expect(a).toBeUndefined();
    expect(stderr).toMatch(/WARNING.*cannot read the API key's permissions \(USER_NOT_FOUND/);
    await expect(check(vr.apiClientConfig("unknownUser"), "read-only", true)).rejects.toMatchObject({ code: "KEY_EXCEEDS_MODE", message: expect.stringMatching(/USER_NOT_FOUND/) });
  });

  it("a record with no effective policy (user() NULL or no policy) is 'unknown', never 'fits'", () => {
    for (const record of [null, { name: "x", roles: null, effective_policy: null }]) {
      const a = assessKey("read-only", keyPermissionsFrom("x", record));
      expect(a.known).toBe(false);
      expect(a.warning).toMatch(/cannot read the permissions/);
    }
  });

  it("the class: every permission outside a mode's set is flagged in that mode, none inside it", () => {
    for (const mode of ["read-only", "investigate"] as const) {
      const allowed = modePermissions(mode)!;
      for (const [field, perm] of Object.entries({ collect_client: "COLLECT_CLIENT", server_admin: "SERVER_ADMIN", artifact_writer: "ARTIFACT_WRITER", execve: "EXECVE", filesystem_write: "FILESYSTEM_WRITE", impersonation: "IMPERSONATION", delete_results: "DELETE_RESULTS", label_clients: "LABEL_CLIENT", any_query: "ANY_QUERY", read_results: "READ_RESULTS" })) {
        const a = assessKey(mode, keyPermissionsFrom("k", { roles: [], effective_policy: { [field]: true } }));
        expect(a.exceeds_mode.includes(perm), `${mode} ${perm}`).toBe(!allowed.has(perm));
      }
    }
  });
});

describe("get_server_info shows the key's permissions against the mode", () => {
  it("key_permissions with the warning for an administrator key in read-only mode", async () => {
    const server = buildMcpServer(new Runtime({ mode: "read-only", apiConfig: vr.apiClientConfig("admin"), auditPath: join(home, "audit.jsonl") }));
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: "t", version: "1" });
    await client.connect(b);
    try {
      const r = await call(client, "get_server_info", {});
      expect(r.structured!.key_permissions).toMatchObject({ user: "admin", mode: "read-only", known: true, roles: ["administrator"] });
      expect(r.structured!.key_permissions.exceeds_mode).toContain("SERVER_ADMIN");
      expect(r.text).toMatch(/WARNING: API key "admin"/);
    } finally {
      await client.close();
    }
  });
});

describe("megaraptor mcp at start (the CLI, from sources)", () => {
  function start(config: ApiClientConfig, args: string[]) {
    const dir = mkdtempSync(join(home, "cli-"));
    const path = join(dir, "api.yaml");
    writeFileSync(path, stringify(config), { mode: 0o600 });
    const child = spawn(process.execPath, ["--import", "tsx", join(packageRoot(), "cli", "main.ts"), "mcp", "--config", path, "--audit-log", join(dir, "audit.jsonl"), ...args], { env: { PATH: process.env.PATH ?? "", HOME: dir, MEGARAPTOR_HOME: dir, MEGARAPTOR_LOG_LEVEL: "warn" }, stdio: ["pipe", "pipe", "pipe"], cwd: packageRoot() });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    return { child, exited, stderr: () => stderr };
  }

  it("--read-only --strict-key with an administrator key refuses to start (non-zero exit, KEY_EXCEEDS_MODE)", { timeout: 60_000 }, async () => {
    const s = start(vr.apiClientConfig("admin"), ["--read-only", "--strict-key"]);
    const code = await Promise.race([s.exited, new Promise<string>((r) => setTimeout(() => r("still running"), 45_000))]);
    if (code === "still running") s.child.kill();
    expect(code).not.toBe(0);
    expect(code).not.toBe("still running");
    expect(s.stderr()).toMatch(/--strict-key: API key "admin".*SERVER_ADMIN/);
  });

  it("--read-only without --strict-key starts and warns on stderr", { timeout: 60_000 }, async () => {
    const s = start(vr.apiClientConfig("admin"), ["--read-only"]);
    try {
      for (let i = 0; i < 400 && !/WARNING \(megaraptor\)/.test(s.stderr()); i++) await new Promise((r) => setTimeout(r, 100));
      expect(s.stderr()).toMatch(/\*\*\* WARNING \(megaraptor\): API key "admin" \(roles administrator\) holds/);
      expect(s.child.exitCode).toBeNull();
    } finally {
      s.child.stdin.end();
      s.child.kill();
      await s.exited;
    }
  });

  it("megaraptor tool in read-only mode with an administrator key: the tool runs and the warning is printed; strict refuses", { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(home, "tool-"));
    const path = join(dir, "api.yaml");
    writeFileSync(path, stringify(vr.apiClientConfig("admin")), { mode: 0o600 });
    const run = (extra: Record<string, string>) =>
      new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", join(packageRoot(), "cli", "main.ts"), "tool", "list_orgs", "--config", path], { env: { PATH: process.env.PATH ?? "", HOME: dir, MEGARAPTOR_HOME: dir, MEGARAPTOR_AUDIT_LOG: join(dir, "audit.jsonl"), MEGARAPTOR_MODE: "read-only", MEGARAPTOR_LOG_LEVEL: "warn", ...extra }, cwd: packageRoot() });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.once("exit", (code) => resolve({ code, stdout, stderr }));
      });
    const warned = await run({});
    expect(warned.code).toBe(0);
    expect(JSON.parse(warned.stdout).orgs.length).toBeGreaterThan(0);
    expect(warned.stderr).toMatch(/WARNING \(megaraptor\): API key "admin".*more than the read-only mode allows/);
    const strict = await run({ MEGARAPTOR_STRICT_KEY: "1" });
    expect(strict.code).not.toBe(0);
    expect(strict.stdout).toBe("");
    expect(strict.stderr).toMatch(/--strict-key: API key "admin"/);
  });
});
