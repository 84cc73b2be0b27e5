import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { checkUsers, userBootstrapScript, type BootstrapInput } from "../../components/common/users.js";

const STUB = resolve("test/helpers/velociraptor-cli-stub.mjs");

/** Runs a rendered script with the CLI stand-in as the binary; returns the datastore and the calls made. */
function run(script: string, dir: string): { status: number; stderr: string; db: { users: Record<string, { password?: string }>; acl: Record<string, { roles: string[] }> }; calls: string[] } {
  const file = join(dir, "bootstrap.sh");
  writeFileSync(file, script);
  const r = spawnSync("sh", [file], { env: { ...process.env, VR_STUB_STORE: join(dir, "db.json"), VR_STUB_LOG: join(dir, "calls.log") }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const read = (f: string, d: string) => {
    try {
      return readFileSync(join(dir, f), "utf8");
    } catch {
      return d;
    }
  };
  return { status: r.status ?? -1, stderr: r.stderr, db: JSON.parse(read("db.json", '{"users":{},"acl":{}}')), calls: read("calls.log", "").trim().split("\n").filter(Boolean) };
}

const input = (over: Partial<BootstrapInput> = {}): BootstrapInput => ({
  binary: STUB,
  config: "/etc/velociraptor/server.config.yaml",
  apiUsers: [{ name: "megaraptor", roles: ["api", "investigator"] }],
  guiUsers: [{ name: "admin", roles: ["administrator"], password: "pw-1_AbC" }],
  ...over,
});

describe("user bootstrap script", () => {
  it("is valid POSIX sh and bash", () => {
    for (const sh of ["sh", "bash"]) expect(() => execFileSync(sh, ["-n"], { input: userBootstrapScript(input()) })).not.toThrow();
  });

  it("uses Velociraptor's own commands: config api_client --role for API users, user add / acl grant for GUI users", () => {
    const s = userBootstrapScript(input());
    expect(s).toContain("vr config api_client --name 'megaraptor' --role 'api,investigator' /dev/null");
    expect(s).toContain("vr user add 'admin' 'pw-1_AbC' --role 'administrator'");
    expect(s).toContain("vr acl grant 'admin' --role 'administrator'");
    expect(s).toContain(`'${STUB}' --config '/etc/velociraptor/server.config.yaml' "$@"`);
  });

  it("first start: creates the API user without a password and the GUI user with its password, each with its roles", () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-users-"));
    const r = run(userBootstrapScript(input()), dir);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.db.users.megaraptor).toEqual({ name: "megaraptor" });
    expect(r.db.acl.megaraptor!.roles).toEqual(["api", "investigator"]);
    expect(r.db.users.admin!.password).toBe("pw-1_AbC");
    expect(r.db.acl.admin!.roles).toEqual(["administrator"]);
  });

  it("reruns without failing, keeps a GUI password changed meanwhile, and reconciles changed roles", () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-users-"));
    expect(run(userBootstrapScript(input()), dir).status).toBe(0);
    const db = JSON.parse(readFileSync(join(dir, "db.json"), "utf8"));
    db.users.admin.password = "changed-in-the-gui";
    writeFileSync(join(dir, "db.json"), JSON.stringify(db));
    const again = run(userBootstrapScript(input({ apiUsers: [{ name: "megaraptor", roles: ["api", "reader"] }], guiUsers: [{ name: "admin", roles: ["administrator", "org_admin"], password: "pw-2" }] })), dir);
    expect(again.stderr).toBe("");
    expect(again.status).toBe(0);
    expect(again.db.users.admin!.password).toBe("changed-in-the-gui");
    expect(again.db.acl.admin!.roles).toEqual(["administrator", "org_admin"]);
    expect(again.db.acl.megaraptor!.roles).toEqual(["api", "reader"]);
    expect(again.calls.filter((c) => c.includes("user add"))).toHaveLength(1); // only the first start added the user
  });
});

describe("checkUsers", () => {
  it("refuses what Velociraptor would refuse, naming the field", () => {
    expect(() => checkUsers([{ name: "bob", roles: ["superuser"] }], [])).toThrow(/apiUsers\[0\]\.roles: "superuser" is not a Velociraptor role/);
    expect(() => checkUsers([], [{ name: "GRPC_GW", roles: ["reader"] }])).toThrow(/guiUsers\[0\]\.name: "GRPC_GW" is reserved/);
    expect(() => checkUsers([], [{ name: "a b", roles: ["reader"] }])).toThrow(/guiUsers\[0\]\.name/);
    expect(() => checkUsers([{ name: "x", roles: ["api"] }], [{ name: "x", roles: ["reader"] }])).toThrow(/guiUsers\[0\]\.name: "x" is already listed in apiUsers/);
    expect(() => checkUsers([{ name: "x", roles: [] }], [])).toThrow(/apiUsers\[0\]\.roles: empty/);
    expect(() => checkUsers([{ name: "a.b@c#d+e", roles: ["api"] }], [])).not.toThrow();
  });
});
