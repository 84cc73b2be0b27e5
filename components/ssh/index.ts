/**
 * SshBinaryServer: Velociraptor installed from the release binary on a Linux host over SSH (@pulumi/command):
 * binary from a local path or a URL with a SHA-256, a `velociraptor` system user, the config written 0600 via stdin,
 * and the systemd unit the official .deb uses. Re-applies when the config changes; uninstalls on delete. It opens no
 * firewall port: exposure is the host's business (or `openFirewall` with ufw when asked).
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { VelociraptorServerComponent } from "../common/server.js";
import { checkDeploymentId, resolveProfile, resolveVersion, type DeploymentBaseArgs } from "../common/index.js";
import { serverIdentity } from "../common/identity.js";
import { releaseBinaryUrl } from "../versions.js";
import * as s from "./scripts.js";

export interface SshConnection {
  host: pulumi.Input<string>;
  port?: pulumi.Input<number>;
  user: pulumi.Input<string>;
  privateKey?: pulumi.Input<string>;
  password?: pulumi.Input<string>;
}

export interface SshBinaryServerArgs extends DeploymentBaseArgs {
  connection: SshConnection;
  /** Local path of the velociraptor binary to copy; otherwise downloaded from binaryUrl. */
  binaryPath?: string;
  /** Default: the GitHub release for the version (linux-amd64). */
  binaryUrl?: string;
  /** Required with a download. */
  binarySha256?: string;
  datastorePath?: string;
  /** Delete the datastore (evidence!) on destroy. Default false. */
  removeDatastoreOnDelete?: boolean;
  /** Open the frontend (and GUI/API if bound to all) in ufw. Default false. */
  openFirewall?: boolean;
}

export class SshBinaryServer extends VelociraptorServerComponent {

  constructor(name: string, args: SshBinaryServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("megaraptor:index:SshBinaryServer", name, {}, opts);
    checkDeploymentId(args.deploymentId);
    const profile = resolveProfile(args);
    const version = resolveVersion(args.version);
    const datastore = args.datastorePath ?? "/var/lib/velociraptor";
    if (!args.binaryPath && !args.binarySha256)
      throw new Error("binarySha256: required when the binary is downloaded (or pass binaryPath to copy a local binary) — get it from the release's checksums");
    const connection: command.types.input.remote.ConnectionArgs = {
      host: args.connection.host,
      port: args.connection.port ?? 22,
      user: args.connection.user,
      privateKey: args.connection.privateKey ? pulumi.secret(args.connection.privateKey) : undefined,
      password: args.connection.password ? pulumi.secret(args.connection.password) : undefined,
      dialErrorLimit: 5,
    };
    const p = { parent: this };

    const apiHost = profile.binds.api === "all" ? pulumi.output(args.hostname) : pulumi.output("127.0.0.1");
    const { configs, apiAddress, apiClientYaml } = serverIdentity(name, args, profile, version, this, { datastorePath: datastore, apiHost });

    let binary: pulumi.Resource;
    if (args.binaryPath) {
      const tmp = `/tmp/megaraptor-velociraptor-${args.deploymentId}`;
      const copy = new command.remote.CopyToRemote(`${name}-copy-binary`, { connection, source: new pulumi.asset.FileAsset(args.binaryPath), remotePath: tmp }, p);
      binary = new command.remote.Command(`${name}-binary`, { connection, create: s.installCopiedBinaryScript(tmp), delete: `sudo rm -f ${s.BIN}`, triggers: [copy.id] }, { parent: this, dependsOn: [copy] });
    } else {
      const url = args.binaryUrl ?? releaseBinaryUrl(version);
      binary = new command.remote.Command(`${name}-binary`, { connection, create: s.downloadBinaryScript(url, args.binarySha256!), delete: `sudo rm -f ${s.BIN}`, triggers: [url, args.binarySha256] }, p);
    }
    const user = new command.remote.Command(`${name}-user`, { connection, create: s.createUserScript(datastore) }, p);
    const configHash = configs.serverConfigYaml.apply(s.sha256);
    const config = new command.remote.Command(`${name}-config`, { connection, create: s.writeConfigScript(), stdin: configs.serverConfigYaml, triggers: [configHash] }, { parent: this, dependsOn: [user] });
    const unit = new command.remote.Command(`${name}-service`, {
      connection,
      create: s.installUnitScript(),
      stdin: s.systemdUnit(datastore),
      delete: s.uninstallScript(datastore, args.removeDatastoreOnDelete ?? false),
      triggers: [configHash, binary.urn],
    }, { parent: this, dependsOn: [binary, config] });
    if (args.openFirewall) {
      const ports = [profile.ports.frontend, ...(profile.binds.gui === "all" ? [profile.ports.gui] : []), ...(profile.binds.api === "all" ? [profile.ports.api] : [])];
      new command.remote.Command(`${name}-firewall`, {
        connection,
        create: ports.map((port) => `sudo ufw allow ${port}/tcp`).join(" && "),
        delete: ports.map((port) => `sudo ufw delete allow ${port}/tcp || true`).join("; "),
      }, { parent: this, dependsOn: [unit] });
    }

    this.publish(
      {
        serverUrl: pulumi.interpolate`https://${args.hostname}:${profile.ports.frontend}/`,
        guiUrl: pulumi.interpolate`https://${profile.binds.gui === "all" ? pulumi.output(args.hostname) : "127.0.0.1"}:${profile.ports.gui}/app/index.html`,
        apiAddress,
        apiClientYaml,
        clientConfigYaml: configs.clientConfigYaml,
      },
      { serverConfigYaml: configs.serverConfigYaml, apiClientYamls: configs.apiClientYamls },
    );
  }
}
