import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { desired, diffInstall, type SshInstallOutputs } from "../../components/ssh/plan.js";
import { SSH_INSTALL_TYPE } from "../../components/ssh/provider.js";
import * as scripts from "../../components/ssh/scripts.js";
import { installMocks, isSecret, ofType, resetRegistrations, unwrapSecret, value, waitUntil } from "../helpers/pulumi-mocks.js";

let SshBinaryServer: typeof import("../../components/ssh/index.js").SshBinaryServer;
const SHA = "a".repeat(64);

beforeAll(async () => {
  await installMocks();
  ({ SshBinaryServer } = await import("../../components/ssh/index.js"));
});
beforeEach(resetRegistrations);

describe("SshBinaryServer scripts", () => {
  it("are valid shell", () => {
    const stage = scripts.stagePath("abc123");
    for (const script of [
      scripts.downloadBinaryScript("https://example.com/v", SHA),
      scripts.stageDownloadScript("https://example.com/v", SHA, stage),
      scripts.verifyStagedBinaryScript(stage, SHA, "/local/velociraptor"),
      scripts.installStagedBinaryScript(stage),
      scripts.prepareHostScript("/var/lib/velociraptor"),
      scripts.createUserScript("/var/lib/velociraptor"),
      scripts.writeConfigScript(),
      scripts.writeUnitScript(),
      scripts.restartScript(),
      scripts.inspectScript(),
      scripts.journalScript(),
      scripts.installUnitScript(),
      scripts.uninstallScript("/var/lib/velociraptor", true),
    ])
      expect(() => execFileSync("bash", ["-n"], { input: script })).not.toThrow();
  });

  it("verify the download's SHA-256 before installing and quote the URL", () => {
    const s = scripts.stageDownloadScript("https://example.com/a'b", SHA, scripts.stagePath("n1"));
    expect(s).toContain(`'https://example.com/a'\\''b'`);
    expect(s).not.toContain("/usr/local/bin/velociraptor");
    expect(s).toContain(`exit ${scripts.SHA_MISMATCH_EXIT}`);
    expect(() => scripts.stageDownloadScript("https://x", "abc", scripts.stagePath("n1"))).toThrow(/binarySha256/);
    expect(() => scripts.stagePath("../etc")).toThrow(/stage nonce/);
    // C11: minimal Debian has no curl; the download installs it when missing.
    expect(s.indexOf("command -v curl")).toBeGreaterThan(-1);
    expect(s.indexOf("command -v curl")).toBeLessThan(s.indexOf("curl -fsSL"));
  });

  it("refuse a staged file whose digest differs, and remove it", () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-stage-"));
    const stage = join(dir, "velociraptor");
    writeFileSync(stage, "hello\n");
    const r = spawnSync("bash", ["-c", scripts.verifyStagedBinaryScript(stage, SHA, "http://mirror/v")], { encoding: "utf8" });
    expect(r.stderr).toContain(`binarySha256: http://mirror/v has SHA-256 5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03, not the pinned ${SHA}; refused`);
    expect(r.status).toBe(scripts.SHA_MISMATCH_EXIT);
    expect(existsSync(stage)).toBe(false);
    rmSync(dir, { recursive: true });
  });

  it("installs the systemd unit the official package uses", () => {
    const unit = scripts.systemdUnit("/var/lib/velociraptor");
    expect(unit).toContain("ExecStart=/usr/local/bin/velociraptor --config /etc/velociraptor/server.config.yaml frontend");
    for (const line of ["User=velociraptor", "Restart=always", "RestartSec=120", "LimitNOFILE=20000", "AmbientCapabilities=CAP_SYS_RESOURCE CAP_NET_BIND_SERVICE"]) expect(unit).toContain(line);
  });

  it("uninstall removes the user and keeps the datastore unless asked", () => {
    expect(scripts.uninstallScript("/d", false)).not.toContain("rm -rf");
    expect(scripts.uninstallScript("/d", false)).toContain("userdel velociraptor");
    expect(scripts.uninstallScript("/d", true)).toContain("rm -rf '/d'");
  });
});

async function installOf(n: string): Promise<Record<string, any>> {
  await waitUntil(() => ofType(SSH_INSTALL_TYPE).some((r) => r.name === `${n}-install`), "the SSH install resource");
  return ofType(SSH_INSTALL_TYPE).find((r) => r.name === `${n}-install`)!.inputs;
}

describe("SshBinaryServer", () => {
  it("is one SSH install resource: config, users and credentials secret, the download pinned", async () => {
    const s = new SshBinaryServer("ssh", { deploymentId: "lab-ssh", profile: "standard", hostname: "vr.lab", connection: { host: "10.0.0.9", user: "admin", privateKey: "KEY" }, binaryUrl: "https://example.com/velociraptor", binarySha256: SHA.toUpperCase() });
    await value(s.apiClientYaml);
    const i = await installOf("ssh");
    expect(ofType("command:remote:Command")).toEqual([]);
    const config = unwrapSecret(i.serverConfigYaml);
    expect(config.secret).toBe(true);
    expect(config.value).toContain("Frontend:");
    expect(parse(config.value).API.hostname).toBe("localhost"); // A7
    const connection = unwrapSecret(i.connection);
    expect(connection.secret).toBe(true);
    expect(connection.value).toEqual({ host: "10.0.0.9", port: 22, user: "admin", privateKey: "KEY" });
    expect(i.binary).toEqual({ url: "https://example.com/velociraptor", sha256: SHA });
    expect(i.unit).toContain("ExecStart=/usr/local/bin/velociraptor");
    expect(i.firewallPorts).toEqual([]);
    expect(i.removeDatastoreOnDelete).toBe(false);
  });

  // A2: users and roles exist before the server serves anyone (components/common/users.ts has the facts).
  it("carries the user bootstrap (secret) and the unit runs it before every start", async () => {
    const s = new SshBinaryServer("ssh-u", { deploymentId: "lab-sshu", profile: "standard", hostname: "vr.lab", connection: { host: "10.0.0.9", user: "admin" }, binaryUrl: "https://example.com/velociraptor", binarySha256: SHA, apiUsers: [{ name: "bot", roles: ["api", "reader"] }] });
    await value(s.apiClientYaml);
    const i = await installOf("ssh-u");
    const bootstrap = unwrapSecret(i.bootstrapScript);
    expect(bootstrap.secret).toBe(true);
    const passwords = await value(s.guiPasswords);
    expect(bootstrap.value).toContain("'/usr/local/bin/velociraptor' --config '/etc/velociraptor/server.config.yaml'");
    expect(bootstrap.value).toContain("vr config api_client --name 'bot' --role 'api,reader' /dev/null");
    expect(bootstrap.value).toContain(`vr user add 'admin' '${passwords.admin}' --role 'administrator'`);
    expect(await isSecret(s.guiPasswords)).toBe(true);
    expect(i.unit).toContain("ExecStartPre=/bin/sh /etc/velociraptor/bootstrap-users.sh");
  });

  it("pins a local binary by its digest and opens ufw only when asked", async () => {
    new SshBinaryServer("ssh2", { deploymentId: "lab-ssh2", profile: "rapid", hostname: "vr.lab", connection: { host: "10.0.0.9", user: "admin" }, binaryPath: "/bin/true", openFirewall: true });
    const i = await installOf("ssh2");
    expect(i.binary).toEqual({ path: "/bin/true", sha256: createHash("sha256").update(readFileSync("/bin/true")).digest("hex") });
    expect(i.firewallPorts).toEqual([8000, 8889, 8001]);
  });

  it("refuses a download without a checksum", () => {
    expect(() => new SshBinaryServer("ssh3", { deploymentId: "lab-ssh3", profile: "minimal", hostname: "x", connection: { host: "h", user: "u" } })).toThrow(/binarySha256/);
  });
});

// A8: what a day-2 change means is the provider's own decision (no replaceOnChanges from a generic command
// provider): everything on the same host is an in-place update, and only a move to another host replaces, deleting
// the old install first.
describe("SSH install diff", () => {
  const base = {
    connection: { host: "10.0.0.9", port: 22, user: "root", privateKey: "KEY" },
    binary: { url: "http://mirror/v1", sha256: SHA },
    datastore: "/var/lib/velociraptor",
    removeDatastoreOnDelete: false,
    serverConfigYaml: "Frontend: {}\n",
    bootstrapScript: "#!/bin/sh\n",
    unit: scripts.systemdUnit("/var/lib/velociraptor"),
    firewallPorts: [],
  };
  const state: SshInstallOutputs = { ...base, observed: desired(base) };

  it("nothing changed: no change", () => {
    expect(diffInstall(state, base)).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false, steps: [] });
  });

  it("config, users and version changes update in place", () => {
    expect(diffInstall(state, { ...base, serverConfigYaml: "Frontend: {x: 1}\n" })).toMatchObject({ changes: true, replaces: [], steps: ["config"] });
    expect(diffInstall(state, { ...base, bootstrapScript: "#!/bin/sh\necho\n" })).toMatchObject({ changes: true, replaces: [], steps: ["users"] });
    expect(diffInstall(state, { ...base, binary: { url: "http://mirror/v2", sha256: "b".repeat(64) } })).toMatchObject({ changes: true, replaces: [], steps: ["binary"] });
  });

  it("a host that drifted (refresh saw a stopped service or another config) is repaired by the next up", () => {
    expect(diffInstall({ ...state, observed: { ...state.observed, active: "failed" } }, base)).toMatchObject({ changes: true, steps: ["start"] });
    expect(diffInstall({ ...state, observed: { ...state.observed, config: "" } }, base)).toMatchObject({ changes: true, steps: ["config"] });
  });

  it("another host replaces, deleting the old install first", () => {
    expect(diffInstall(state, { ...base, connection: { ...base.connection, host: "10.0.0.10" } })).toMatchObject({ changes: true, replaces: ["connection"], deleteBeforeReplace: true });
  });

  it("credentials not passed again are taken from state, so a later operation needs no key", () => {
    expect(diffInstall(state, { ...base, connection: { host: "10.0.0.9", port: 22, user: "root" } }).changes).toBe(false);
    expect(diffInstall(state, { ...base, connection: { ...base.connection, privateKey: "NEW" } })).toMatchObject({ changes: true, steps: [] });
  });
});
