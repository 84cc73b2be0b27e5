/**
 * SshBinaryServer: Velociraptor installed from the release binary on a Linux host over SSH (@pulumi/command):
 * binary from a local path or a URL with a SHA-256, a `velociraptor` system user, the config written 0600 via stdin,
 * the user bootstrap (API and GUI users, run before every start), and the systemd unit the official .deb uses.
 * Day-2 changes update the steps in place and restart the service; only destroy uninstalls. It opens no firewall
 * port: exposure is the host's business (or `openFirewall` with ufw when asked).
 */
import * as command from "@pulumi/command";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { VelociraptorServerComponent } from "../common/server.js";
import { checkDeploymentId, resolveProfile, resolveVersion, type DeploymentBaseArgs } from "../common/index.js";
import { serverIdentity } from "../common/identity.js";
import { releaseBinaryUrl } from "../versions.js";
import * as s from "./scripts.js";

function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

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
      throw new Error("binarySha256: required when the binary is downloaded (or pass binaryPath to copy a local binary) — compute it with sha256sum on the release binary once its GPG signature (.sig on the release page) checks out");
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
    const { configs, apiAddress, apiClientYaml, guiPasswords, usersScript } = serverIdentity(name, args, profile, version, this, { datastorePath: datastore, apiHost });

    // Day-2 changes must update these steps in place. pulumi-command v1.2.1 replaces a Command whose `triggers`
    // change (provider/pkg/provider/common/inputs.go:10 replaceOnChanges) and then runs the OLD command's `delete`
    // after the new `create`; a change of create/stdin is an Update that re-runs `create`
    // (remote/commandController.go). So no step has triggers, and only `-host` — whose inputs never force a
    // replacement — carries the uninstall; being everyone's dependency, it is deleted last on destroy.
    const host = new command.remote.Command(`${name}-host`, {
      connection,
      create: s.prepareHostScript(datastore),
      delete: s.uninstallScript(datastore, args.removeDatastoreOnDelete ?? false),
    }, p);
    const afterHost = { parent: this, dependsOn: [host] };

    let binary: command.remote.Command;
    let binaryId: string;
    if (args.binaryPath) {
      const tmp = `/tmp/megaraptor-velociraptor-${args.deploymentId}`;
      // The digest of the local file goes into the install script: a new binary changes the script (an Update) and
      // the copy is verified on the host. CopyToRemote re-copies in place when the file's hash changes
      // (remote/copyController.go Update @ v1.2.1).
      binaryId = sha256File(args.binaryPath);
      const copy = new command.remote.CopyToRemote(`${name}-copy-binary`, { connection, source: new pulumi.asset.FileAsset(args.binaryPath), remotePath: tmp }, afterHost);
      binary = new command.remote.Command(`${name}-binary`, { connection, create: s.installCopiedBinaryScript(tmp, binaryId) }, { parent: this, dependsOn: [host, copy] });
    } else {
      const url = args.binaryUrl ?? releaseBinaryUrl(version);
      binaryId = args.binarySha256!.toLowerCase();
      binary = new command.remote.Command(`${name}-binary`, { connection, create: s.downloadBinaryScript(url, args.binarySha256!) }, afterHost);
    }
    const config = new command.remote.Command(`${name}-config`, { connection, create: s.writeConfigScript(), stdin: configs.serverConfigYaml }, afterHost);
    const users = new command.remote.Command(`${name}-users`, { connection, create: s.writeSecretFileScript(s.BOOTSTRAP), stdin: usersScript(s.BIN) }, afterHost);
    // The unit step restarts the server whenever the config, the users or the binary changed: their digests are part
    // of its script, so any of them changing is an Update that re-runs it. Digests of secrets reveal nothing (the
    // config holds random keys), so they stay readable in a preview.
    const digests = pulumi.unsecret(pulumi.all([configs.serverConfigYaml, usersScript(s.BIN)]).apply(([c, u]) => `# megaraptor inputs: config ${s.sha256(c)} users ${s.sha256(u)} binary ${binaryId}`));
    const unit = new command.remote.Command(`${name}-service`, {
      connection,
      create: pulumi.interpolate`${s.installUnitScript()}\n${digests}`,
      stdin: s.systemdUnit(datastore),
    }, { parent: this, dependsOn: [binary, config, users] });
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
      { serverConfigYaml: configs.serverConfigYaml, apiClientYamls: configs.apiClientYamls, guiPasswords },
    );
  }
}
