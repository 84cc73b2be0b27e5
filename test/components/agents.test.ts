import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateAnsiblePlaybook, generateGpoPackage, installAgentScript, offlineCollectorSpec, uninstallAgentScript } from "../../components/agents/index.js";
import { installMocks, ofType, resetRegistrations, unwrapSecret, waitUntil } from "../helpers/pulumi-mocks.js";

const SHA = "d".repeat(64);
const bins = { linux: { url: "https://x/linux", sha256: SHA }, darwin: { url: "https://x/darwin", sha256: SHA } };
let SshAgents: typeof import("../../components/agents/index.js").SshAgents;

beforeAll(async () => {
  await installMocks();
  ({ SshAgents } = await import("../../components/agents/index.js"));
});
beforeEach(resetRegistrations);

describe("agent install scripts", () => {
  it("are valid shell for Linux and macOS, verify checksums and write the service definition", () => {
    for (const os of ["linux", "darwin"] as const) {
      const s = installAgentScript(os, bins[os]);
      expect(() => execFileSync("bash", ["-n"], { input: s })).not.toThrow();
      expect(() => execFileSync("bash", ["-n"], { input: uninstallAgentScript(os) })).not.toThrow();
      expect(s).toContain(os === "linux" ? "sha256sum -c -" : "shasum -a 256 -c -");
    }
    expect(installAgentScript("linux", bins.linux)).toContain("ExecStart=/usr/local/bin/velociraptor --config /etc/velociraptor/client.config.yaml client -v");
    expect(installAgentScript("darwin", bins.darwin)).toContain("<string>com.velocidex.velociraptor</string>");
    expect(() => installAgentScript("linux", { url: "x", sha256: "nope" })).toThrow(/sha256/);
  });
});

describe("SshAgents", () => {
  it("runs one install per host with the client config as secret stdin", async () => {
    new SshAgents("agents", { hosts: [{ host: "10.0.0.1", user: "root", os: "linux" }, { host: "mac.lab", user: "admin", os: "darwin" }], clientConfigYaml: "Client: {}", binaries: bins, privateKey: "KEY" });
    await waitUntil(() => ofType("command:remote:Command").length >= 2, "one command per host");
    const cmds = ofType("command:remote:Command");
    expect(cmds.map((c) => c.name).sort()).toEqual(["agents-10-0-0-1", "agents-mac-lab"]);
    for (const c of cmds) expect(unwrapSecret(c.inputs.stdin)).toEqual({ secret: true, value: "Client: {}" });
  });
});

describe("generators", () => {
  it("GPO package: config 0600, startup script and instructions", () => {
    const out = mkdtempSync(join(tmpdir(), "mr-gpo-"));
    const files = generateGpoPackage({ outDir: out, clientConfigYaml: "Client: {}", version: "0.77.2", domainController: "dc01.corp" });
    expect(files.map((f) => f.split("/").pop())).toEqual(["client.config.yaml", "install-velociraptor.ps1", "README.md"]);
    expect(statSync(files[0]!).mode & 0o777).toBe(0o600);
    expect(readFileSync(files[1]!, "utf8")).toContain("\\\\dc01.corp\\NETLOGON\\Velociraptor");
    expect(readFileSync(files[2]!, "utf8")).toContain("velociraptor-v0.77.2-windows-amd64.msi");
  });

  it("Ansible: a playbook and role that parse, with checksum-verified downloads", () => {
    const out = mkdtempSync(join(tmpdir(), "mr-ansible-"));
    const files = generateAnsiblePlaybook({ outDir: out, clientConfigYaml: "Client: {}", version: "0.77.2", include: { linux: true, windows: true, macos: false } });
    const tasks = parse(readFileSync(files[1]!, "utf8")) as Record<string, any>[];
    expect(tasks.find((t) => t["ansible.builtin.get_url"])!["ansible.builtin.get_url"].checksum).toContain("sha256:");
    expect(tasks.some((t) => t["ansible.windows.win_package"])).toBe(true);
    expect(parse(readFileSync(files[2]!, "utf8"))[0].roles).toEqual(["velociraptor_client"]);
  });

  it("offline collector spec uses the collector's keys", () => {
    const spec = parse(offlineCollectorSpec({ os: "Windows", artifacts: { "Windows.KapeFiles.Targets": { _BasicCollection: "Y" } }, encryptPassword: "pw" }));
    expect(Object.keys(spec)).toEqual(expect.arrayContaining(["OS", "Artifacts", "Target", "EncryptionScheme", "OptFormat", "OptTimeout"]));
    expect(spec.EncryptionScheme).toBe("Password");
  });
});
