import { execFileSync } from "node:child_process";
import { parse } from "yaml";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import * as scripts from "../../components/ssh/scripts.js";
import { installMocks, isSecret, ofType, registrations, resetRegistrations, unwrapSecret, value, waitUntil } from "../helpers/pulumi-mocks.js";

let SshBinaryServer: typeof import("../../components/ssh/index.js").SshBinaryServer;
const SHA = "a".repeat(64);

beforeAll(async () => {
  await installMocks();
  ({ SshBinaryServer } = await import("../../components/ssh/index.js"));
});
beforeEach(resetRegistrations);

describe("SshBinaryServer scripts", () => {
  it("are valid shell", () => {
    for (const script of [scripts.downloadBinaryScript("https://example.com/v", SHA), scripts.installCopiedBinaryScript("/tmp/x", SHA), scripts.prepareHostScript("/var/lib/velociraptor"), scripts.createUserScript("/var/lib/velociraptor"), scripts.writeConfigScript(), scripts.installUnitScript(), scripts.uninstallScript("/var/lib/velociraptor", true)])
      expect(() => execFileSync("bash", ["-n"], { input: script })).not.toThrow();
  });

  it("verify the download's SHA-256 and quote the URL", () => {
    const s = scripts.downloadBinaryScript("https://example.com/a'b", SHA);
    expect(s).toContain("sha256sum -c -");
    expect(s).toContain(`'https://example.com/a'\\''b'`);
    expect(() => scripts.downloadBinaryScript("https://x", "abc")).toThrow(/binarySha256/);
    // C11: minimal Debian has no curl; the download installs it when missing.
    expect(s.indexOf("command -v curl")).toBeGreaterThan(-1);
    expect(s.indexOf("command -v curl")).toBeLessThan(s.indexOf("curl -fsSL"));
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
    await waitUntil(() => ofType("command:remote:Command").length >= 5, "the five remote commands");
    const cmds = ofType("command:remote:Command");
    expect(cmds.map((c) => c.name).sort()).toEqual(["ssh-binary", "ssh-config", "ssh-host", "ssh-service", "ssh-users"]);
    const config = cmds.find((c) => c.name === "ssh-config")!;
    const stdin = unwrapSecret(config.inputs.stdin);
    expect(stdin.secret).toBe(true);
    expect(stdin.value).toContain("Frontend:");
    expect(parse(stdin.value).API.hostname).toBe("localhost"); // A7
    expect(JSON.stringify(config.inputs.create)).not.toContain("PRIVATE KEY");
    expect(unwrapSecret(config.inputs.connection).secret || unwrapSecret(config.inputs.connection.privateKey).secret).toBe(true);
    expect(registrations.some((r) => r.type === "command:remote:CopyToRemote")).toBe(false);
  });

  // A2: users and roles exist before the server serves anyone (components/common/users.ts has the facts).
  it("writes the user bootstrap (secret, via stdin) and runs it before every start of the service", async () => {
    const s = new SshBinaryServer("ssh-u", { deploymentId: "lab-sshu", profile: "standard", hostname: "vr.lab", connection: { host: "10.0.0.9", user: "admin" }, binaryUrl: "https://example.com/velociraptor", binarySha256: SHA, apiUsers: [{ name: "bot", roles: ["api", "reader"] }] });
    await value(s.apiClientYaml);
    await waitUntil(() => ofType("command:remote:Command").some((c) => c.name === "ssh-u-service"), "the service command");
    const users = ofType("command:remote:Command").find((c) => c.name === "ssh-u-users")!;
    const stdin = unwrapSecret(users.inputs.stdin);
    expect(stdin.secret).toBe(true);
    const passwords = await value(s.guiPasswords);
    expect(stdin.value).toContain("'/usr/local/bin/velociraptor' --config '/etc/velociraptor/server.config.yaml'");
    expect(stdin.value).toContain("vr config api_client --name 'bot' --role 'api,reader' /dev/null");
    expect(stdin.value).toContain(`vr user add 'admin' '${passwords.admin}' --role 'administrator'`);
    expect(await isSecret(s.guiPasswords)).toBe(true);
    expect(users.inputs.create).toContain("/etc/velociraptor/bootstrap-users.sh");
    expect(users.inputs.create).not.toContain(passwords.admin);
    const service = ofType("command:remote:Command").find((c) => c.name === "ssh-u-service")!;
    expect(service.inputs.stdin).toContain("ExecStartPre=/bin/sh /etc/velociraptor/bootstrap-users.sh");
  });

  // A8: pulumi-command v1.2.1 marks `triggers` replaceOnChanges (provider/pkg/provider/common/inputs.go:10), and a
  // replacement creates the new command first and runs the OLD command's `delete` afterwards (Delete runs
  // props.Delete from the old state, remote/commandController.go). Any change of create/stdin is an Update that
  // re-runs `create` (commandController.go Update). So: no triggers, no delete on the steps that change, and the
  // uninstall on one step whose inputs never force a replacement.
  it("day-2 changes update in place: no triggers, and only the never-replaced host step uninstalls", async () => {
    const build = async (n: string, over: Record<string, unknown>) => {
      const s = new SshBinaryServer(n, { deploymentId: `lab-${n}`, profile: "standard", hostname: "vr.lab", connection: { host: "10.0.0.9", user: "admin" }, binaryUrl: "https://example.com/velociraptor", binarySha256: SHA, ...over });
      await value(s.apiClientYaml);
      await waitUntil(() => ofType("command:remote:Command").some((c) => c.name === `${n}-service`), "the service command");
      return Object.fromEntries(ofType("command:remote:Command").filter((c) => c.name.startsWith(`${n}-`)).map((c) => [c.name.slice(n.length + 1), c.inputs]));
    };
    const a = await build("d1", {});
    for (const [step, inputs] of Object.entries(a)) {
      expect(inputs.triggers, step).toBeUndefined();
      if (step !== "host") expect(inputs.delete, step).toBeUndefined();
    }
    expect(a.host!.delete).toContain("systemctl disable --now velociraptor_server");
    // The service step restarts when the config, the users or the binary change: its create carries their digests.
    const b = await build("d2", { hostname: "other.lab", binarySha256: "c".repeat(64) });
    expect(b.service!.create).not.toBe(a.service!.create);
    expect(b.binary!.create).not.toBe(a.binary!.create);
    const create = unwrapSecret(b.service!.create);
    expect(create.secret).toBe(false); // digests only: reviewable in a preview
    expect(create.value).toMatch(/# megaraptor inputs: config [0-9a-f]{64} users [0-9a-f]{64} binary c{64}/);
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
