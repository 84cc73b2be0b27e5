/**
 * SshAgents: installs the Velociraptor client on Linux (systemd) and macOS (launchd) hosts over SSH, with the
 * deployment's client config (a secret, written 0600 via stdin). One set of commands per host; removing a host
 * from the list uninstalls the client there.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { SUDO_SHIM } from "../ssh/scripts.js";

export interface AgentHost {
  host: string;
  port?: number;
  user: string;
  os: "linux" | "darwin";
}

export interface SshAgentsArgs {
  hosts: AgentHost[];
  clientConfigYaml: pulumi.Input<string>;
  privateKey?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
  /** Client binary URL per OS and its SHA-256. */
  binaries: Record<AgentHost["os"], { url: string; sha256: string }>;
}

const CLIENT_CONFIG = { linux: "/etc/velociraptor/client.config.yaml", darwin: "/usr/local/etc/velociraptor/client.config.yaml" };
const CLIENT_BIN = { linux: "/usr/local/bin/velociraptor", darwin: "/usr/local/bin/velociraptor" };

export function clientUnit(): string {
  return `[Unit]
Description=Velociraptor client (managed by Megaraptor)
After=network.target

[Service]
Type=simple
ExecStart=${CLIENT_BIN.linux} --config ${CLIENT_CONFIG.linux} client -v
Restart=always
RestartSec=120
LimitNOFILE=20000

[Install]
WantedBy=multi-user.target
`;
}

export function launchdPlist(): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>com.velocidex.velociraptor</string>
  <key>ProgramArguments</key>
  <array><string>${CLIENT_BIN.darwin}</string><string>--config</string><string>${CLIENT_CONFIG.darwin}</string><string>client</string><string>-v</string></array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><true/>
</dict>
</plist>
`;
}

export interface InstallOptions {
  /** Read the config from this remote file instead of stdin (the file is removed afterwards). */
  configFile?: string;
  /** Install under this directory instead of / (staging, tests). */
  prefix?: string;
  /** Start the service (default true). */
  startService?: boolean;
}

/** Install script per OS: binary (checksum-verified), config from stdin or a file (0600), service. */
export function installAgentScript(os: AgentHost["os"], binary: { url: string; sha256: string }, o: InstallOptions = {}): string {
  if (!/^[0-9a-f]{64}$/i.test(binary.sha256)) throw new Error(`binaries.${os}.sha256: expected 64 hex characters`);
  const sum = os === "darwin" ? "shasum -a 256 -c -" : "sha256sum -c -";
  const service =
    os === "linux"
      ? [`sudo tee /etc/systemd/system/velociraptor_client.service >/dev/null <<'MEGARAPTOR_EOF'\n${clientUnit()}MEGARAPTOR_EOF`, "sudo systemctl daemon-reload", "sudo systemctl enable --now velociraptor_client", "sudo systemctl restart velociraptor_client"]
      : [`sudo tee /Library/LaunchDaemons/com.velocidex.velociraptor.plist >/dev/null <<'MEGARAPTOR_EOF'\n${launchdPlist()}MEGARAPTOR_EOF`, "sudo launchctl unload /Library/LaunchDaemons/com.velocidex.velociraptor.plist 2>/dev/null || true", "sudo launchctl load -w /Library/LaunchDaemons/com.velocidex.velociraptor.plist"];
  const prefix = (o.prefix ?? "").replace(/\/$/, "");
  const cfg = `${prefix}${CLIENT_CONFIG[os]}`;
  const bin = `${prefix}${CLIENT_BIN[os]}`;
  const dir = cfg.replace(/\/[^/]+$/, "");
  const writeConfig = o.configFile ? `sudo sh -c 'umask 077; cat > ${cfg}' < '${o.configFile}' && rm -f '${o.configFile}'` : `sudo sh -c 'umask 077; cat > ${cfg}'`;
  return [
    "set -eu",
    SUDO_SHIM,
    "tmp=$(mktemp)",
    `curl -fsSL --retry 3 -o "$tmp" '${binary.url.replace(/'/g, "")}'`,
    `echo '${binary.sha256.toLowerCase()}  '"$tmp" | ${sum}`,
    `sudo mkdir -p ${bin.replace(/\/[^/]+$/, "")} && sudo install -m 0755 "$tmp" ${bin} && rm -f "$tmp"`,
    `sudo mkdir -p ${dir} && ${writeConfig}`,
    ...(o.startService === false ? [] : service),
  ].join("\n");
}

export function uninstallAgentScript(os: AgentHost["os"]): string {
  return os === "linux"
    ? [SUDO_SHIM, "sudo systemctl disable --now velociraptor_client || true", "sudo rm -f /etc/systemd/system/velociraptor_client.service " + CLIENT_CONFIG.linux + " " + CLIENT_BIN.linux, "sudo systemctl daemon-reload || true"].join("\n")
    : [SUDO_SHIM, "sudo launchctl unload -w /Library/LaunchDaemons/com.velocidex.velociraptor.plist || true", `sudo rm -f /Library/LaunchDaemons/com.velocidex.velociraptor.plist ${CLIENT_CONFIG.darwin} ${CLIENT_BIN.darwin}`].join("\n");
}

export class SshAgents extends pulumi.ComponentResource {
  readonly installed: pulumi.Output<string[]>;

  constructor(name: string, args: SshAgentsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("megaraptor:index:SshAgents", name, {}, opts);
    const installs: pulumi.Output<string>[] = [];
    for (const h of args.hosts) {
      const connection = { host: h.host, port: h.port ?? 22, user: h.user, privateKey: args.privateKey ? pulumi.secret(args.privateKey) : undefined, password: args.password ? pulumi.secret(args.password) : undefined };
      const cmd = new command.remote.Command(`${name}-${h.host.replace(/[^A-Za-z0-9-]/g, "-")}`, {
        connection,
        create: installAgentScript(h.os, args.binaries[h.os]),
        delete: uninstallAgentScript(h.os),
        stdin: pulumi.secret(args.clientConfigYaml),
        triggers: [pulumi.output(args.clientConfigYaml).apply((c) => c.length), args.binaries[h.os].sha256],
      }, { parent: this });
      installs.push(cmd.stdout.apply(() => h.host));
    }
    this.installed = pulumi.all(installs);
    this.registerOutputs({ installed: this.installed });
  }
}
