import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userRecordFile } from "../../components/common/datastore-names.js";
import { checkUsers, MANAGED_USERS_FILE, userBootstrapScript, type BootstrapInput } from "../../components/common/users.js";
import { renderServerConfig } from "../../components/config/render.js";
import { generatePki } from "../../components/pki/provider.js";
import { packageRoot } from "../../core/paths.js";
import { loadProfile } from "../../profiles/index.js";
import { buildStandIn } from "../../test-server/build-standin.js";
import { sanitizeComponent } from "../../test-server/datastore.js";
import { UserStore } from "../../test-server/user-store.js";

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
  datastore: mkdtempSync(join(tmpdir(), "mr-users-ds-")),
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

  it("revokes users it made before and no longer lists: empty policy, then the user record removed", () => {
    const s = userBootstrapScript(input({ datastore: "/var/lib/velociraptor/" }));
    expect(s).toContain(`if [ -f '/var/lib/velociraptor/${MANAGED_USERS_FILE}' ]; then`);
    expect(s).toContain(`vr acl grant "$name" '{}'`);
    expect(s).toContain(`rm -f '/var/lib/velociraptor/users/'"$record"`);
    expect(s).toContain(`printf '%s\\n' 'megaraptor megaraptor.db' 'admin admin.db' > '/var/lib/velociraptor/${MANAGED_USERS_FILE}.new'`);
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

describe("user record file names", () => {
  it("follow Velociraptor's utils.SanitizeString (the test server's datastore uses the same module)", () => {
    // utils/sanitize.go: [A-Za-z0-9-_.~ $] kept, other bytes %XX (upper hex), a leading "." or "#" and a trailing "."
    // escaped, "_" appended to names ending in ".db" or "_".
    const expected: Record<string, string> = { admin: "admin", "a.b@c#d+e": "a.b%40c%23d%2Be", ".lead": "%2Elead", "trail.": "trail%2E", under_: "under__", "x.db": "x.db_", "#hash": "%23hash", "Mixed-Case~$": "Mixed-Case~$", "é": "%C3%A9" };
    for (const [name, file] of Object.entries(expected)) expect(userRecordFile(name), name).toBe(`${file}.db`);
    expect(userRecordFile("a.b@c#d+e")).toBe("a.b%40c%23d%2Be.db");
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

/**
 * The same scripts against the Velociraptor stand-in bundle (dist/standin/velociraptor; built here when absent),
 * which implements `config api_client`, `user add|show` and `acl grant|show` with Velociraptor 0.77.2's rules on a
 * datastore in Velociraptor's layout (docs/velociraptor-rules.md §2, §5): proof the commands are accepted, not only
 * that the text is as expected.
 */
const STANDIN = join(packageRoot(), "dist", "standin", "velociraptor");
const standIn: { bin?: string; reason?: string } = {};
try {
  const built = existsSync(STANDIN) ? STANDIN : await buildStandIn(STANDIN);
  // The bundle is CommonJS: inside this package ("type": "module") node would load it as ESM, so it runs from a copy
  // outside, as on a server (/usr/local/bin/velociraptor).
  standIn.bin = join(mkdtempSync(join(tmpdir(), "mr-standin-bin-")), "velociraptor");
  copyFileSync(built, standIn.bin);
  chmodSync(standIn.bin, 0o755);
} catch (err) {
  standIn.reason = `the stand-in bundle cannot be built here: ${(err as Error).message.split("\n")[0]}`;
}
if (standIn.reason) console.warn(`skipping the stand-in runs of the user bootstrap: ${standIn.reason}`);

describe.skipIf(!standIn.bin)(`user bootstrap script against the Velociraptor stand-in${standIn.bin ? "" : ` (skipped: ${standIn.reason})`}`, () => {
  let dir: string;
  let configPath: string;
  let datastore: string;
  const stores: UserStore[] = [];
  const vr = (...args: string[]) => spawnSync(standIn.bin!, ["--config", configPath, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const script = (over: Partial<BootstrapInput> = {}) => userBootstrapScript({ ...input(over), binary: standIn.bin!, config: configPath, datastore, ...over });
  const runScript = (text: string) => {
    const file = join(dir, `bootstrap-${Math.random().toString(36).slice(2)}.sh`);
    writeFileSync(file, text, { mode: 0o700 });
    return spawnSync("sh", [file], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  };
  /** The datastore as the frontend reads it at start. */
  const store = () => {
    const s = new UserStore(datastore);
    stores.push(s);
    return s;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "mr-users-standin-"));
    datastore = join(dir, "datastore");
    configPath = join(dir, "server.config.yaml");
    const pki = await generatePki({ dnsNames: ["localhost"], ipAddresses: [], validityDays: 30, apiUsers: [{ name: "megaraptor", roles: ["api", "investigator"] }], rotation: 0 });
    writeFileSync(configPath, renderServerConfig({ profile: loadProfile("minimal"), version: "0.77.2", hostname: "localhost", pki, datastorePath: datastore }), { mode: 0o600 });
  }, 120_000);
  afterAll(() => {
    for (const s of stores) s.close();
  });

  it("first start: Velociraptor's commands accept every line; the API user has no password, the GUI user its own", () => {
    const r = runScript(script({ apiUsers: [{ name: "megaraptor", roles: ["api", "investigator"] }, { name: "svc.old@corp", roles: ["api"] }], guiUsers: [{ name: "admin", roles: ["administrator"], password: "pw-1_AbC" }, { name: "bob", roles: ["reader"], password: "pw-bob" }] }));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const s = store();
    expect(s.getPolicy("root", "megaraptor")!.roles).toEqual(["api", "investigator"]);
    expect(s.getUser("megaraptor").passwordHash?.length ?? 0).toBe(0);
    expect(s.verifyPassword("admin", "pw-1_AbC")).toBe(true);
    expect(s.getPolicy("root", "svc.old@corp")!.roles).toEqual(["api"]);
    expect(readFileSync(join(datastore, MANAGED_USERS_FILE), "utf8")).toBe(`megaraptor megaraptor.db\nsvc.old@corp ${sanitizeComponent("svc.old@corp")}.db\nadmin admin.db\nbob bob.db\n`);
  });

  it("a re-run keeps a password changed in the GUI, reconciles roles, and revokes the users no longer listed", () => {
    expect(vr("user", "add", "admin", "changed-in-the-gui", "--role", "administrator").status).toBe(0);
    expect(vr("user", "add", "manual", "pw-m", "--role", "reader").status).toBe(0); // made by hand: not the script's
    const r = runScript(script({ apiUsers: [{ name: "megaraptor", roles: ["api", "reader"] }], guiUsers: [{ name: "admin", roles: ["administrator", "org_admin"], password: "pw-2" }] }));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const s = store();
    expect(s.verifyPassword("admin", "changed-in-the-gui")).toBe(true);
    expect(s.getPolicy("root", "admin")!.roles).toEqual(["administrator", "org_admin"]);
    expect(s.getPolicy("root", "megaraptor")!.roles).toEqual(["api", "reader"]);
    // Revoked as user_delete() does: no user record (the API answers 'User not found'), an empty policy.
    for (const gone of ["svc.old@corp", "bob"]) {
      expect(s.hasUser(gone), gone).toBe(false);
      expect(vr("user", "show", gone).stderr).toBe(`velociraptor: error: user show: User not found: ${gone}\n`);
      expect(s.getPolicy("root", gone)).toMatchObject({ roles: [], permissions: [] });
    }
    expect(s.hasUser("manual")).toBe(true);
    expect(readFileSync(join(datastore, MANAGED_USERS_FILE), "utf8")).toBe("megaraptor megaraptor.db\nadmin admin.db\n");
  });

  it("a user added again after being revoked comes back (GUI users with their password)", () => {
    const r = runScript(script({ apiUsers: [{ name: "megaraptor", roles: ["api"] }], guiUsers: [{ name: "admin", roles: ["administrator"], password: "x" }, { name: "bob", roles: ["analyst"], password: "pw-bob-2" }] }));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const s = store();
    expect(s.verifyPassword("bob", "pw-bob-2")).toBe(true);
    expect(s.getPolicy("root", "bob")!.roles).toEqual(["analyst"]);
  });
});
