import { execFileSync } from "node:child_process";
import { parse } from "yaml";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as scripts from "../../components/ssh/scripts.js";
import { installMocks, ofType, registrations, resetRegistrations, unwrapSecret, value, waitUntil } from "../helpers/pulumi-mocks.js";

let SshBinaryServer: typeof import("../../components/ssh/index.js").SshBinaryServer;
const SHA = "a".repeat(64);

beforeAll(async () => {
  await installMocks();
  ({ SshBinaryServer } = await import("../../components/ssh/index.js"));
});
beforeEach(resetRegistrations);

describe("SshBinaryServer scripts", () => {
  it("are valid shell", () => {
    for (const script of [scripts.downloadBinaryScript("https://example.com/v", SHA), scripts.installCopiedBinaryScript("/tmp/x"), scripts.createUserScript("/var/lib/velociraptor"), scripts.writeConfigScript(), scripts.installUnitScript(), scripts.uninstallScript("/var/lib/velociraptor", true)])
      expect(() => execFileSync("bash", ["-n"], { input: script })).not.toThrow();
  });

  it("verify the download's SHA-256 and quote the URL", () => {
    const s = scripts.downloadBinaryScript("https://example.com/a'b", SHA);
    expect(s).toContain("sha256sum -c -");
    expect(s).toContain(`'https://example.com/a'\\''b'`);
    expect(() => scripts.downloadBinaryScript("https://x", "abc")).toThrow(/binarySha256/);
  });

  it("installs the systemd unit the official package uses", () => {
    const unit = scripts.systemdUnit("/var/lib/velociraptor");
    expect(unit).toContain("ExecStart=/usr/local/bin/velociraptor --config /etc/velociraptor/server.config.yaml frontend");
    for (const line of ["User=velociraptor", "Restart=always", "RestartSec=120", "LimitNOFILE=20000", "AmbientCapabilities=CAP_SYS_RESOURCE CAP_NET_BIND_SERVICE"]) expect(unit).toContain(line);
  });

  it("keep the datastore on uninstall unless asked", () => {
    expect(scripts.uninstallScript("/d", false)).not.toContain("rm -rf");
    expect(scripts.uninstallScript("/d", true)).toContain("rm -rf '/d'");
  });
});

describe("SshBinaryServer", () => {
  it("copies, installs, writes the config through stdin (secret) and starts the unit; re-applies on config change", async () => {
    const s = new SshBinaryServer("ssh", { deploymentId: "lab-ssh", profile: "standard", hostname: "vr.lab", connection: { host: "10.0.0.9", user: "admin", privateKey: "KEY" }, binaryUrl: "https://example.com/velociraptor", binarySha256: SHA });
    await value(s.apiClientYaml);
    await waitUntil(() => ofType("command:remote:Command").length >= 4, "the four remote commands");
    const cmds = ofType("command:remote:Command");
    expect(cmds.map((c) => c.name).sort()).toEqual(["ssh-binary", "ssh-config", "ssh-service", "ssh-user"]);
    const config = cmds.find((c) => c.name === "ssh-config")!;
    const stdin = unwrapSecret(config.inputs.stdin);
    expect(stdin.secret).toBe(true);
    expect(stdin.value).toContain("Frontend:");
    expect(parse(stdin.value).API.hostname).toBe("localhost"); // A7
    expect(JSON.stringify(config.inputs.create)).not.toContain("PRIVATE KEY");
    expect(unwrapSecret(config.inputs.connection).secret || unwrapSecret(config.inputs.connection.privateKey).secret).toBe(true);
    const service = cmds.find((c) => c.name === "ssh-service")!;
    expect(service.inputs.delete).toContain("systemctl disable --now velociraptor_server");
    expect(unwrapSecret(service.inputs.triggers).value[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(registrations.some((r) => r.type === "command:remote:CopyToRemote")).toBe(false);
  });

  it("copies a local binary with CopyToRemote when binaryPath is given, and opens ufw only when asked", async () => {
    new SshBinaryServer("ssh2", { deploymentId: "lab-ssh2", profile: "rapid", hostname: "vr.lab", connection: { host: "10.0.0.9", user: "admin" }, binaryPath: "/bin/true", openFirewall: true });
    await waitUntil(() => ofType("command:remote:Command").some((c) => c.name === "ssh2-firewall"), "the firewall command");
    expect(ofType("command:remote:CopyToRemote")).toHaveLength(1);
    const fw = ofType("command:remote:Command").find((c) => c.name === "ssh2-firewall")!;
    expect(fw.inputs.create).toBe("sudo ufw allow 8000/tcp && sudo ufw allow 8889/tcp && sudo ufw allow 8001/tcp");
  });

  it("refuses a download without a checksum", () => {
    expect(() => new SshBinaryServer("ssh3", { deploymentId: "lab-ssh3", profile: "minimal", hostname: "x", connection: { host: "h", user: "u" } })).toThrow(/binarySha256/);
  });
});
