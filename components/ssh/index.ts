/**
 * SshBinaryServer: Velociraptor installed from the release binary on a Linux host over SSH: binary from a local
 * path or a URL pinned by its SHA-256, a `velociraptor` system user, the config written 0600 via stdin, the user
 * bootstrap (API and GUI users, run before every start), and the systemd unit the official .deb uses.
 *
 * The host steps are one dynamic resource (./provider.ts, ssh2) rather than @pulumi/command commands: it runs under
 * any Pulumi engine with nothing but @pulumi/pulumi, and it decides itself what a change means — day-2 changes
 * rewrite what changed in place and restart; only destroy uninstalls (review A8). It opens no firewall port:
 * exposure is the host's business (or `openFirewall` with ufw when asked).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { VelociraptorServerComponent } from "../common/server.js";
import { checkDeploymentId, resolveProfile, resolveVersion, type DeploymentBaseArgs } from "../common/index.js";
import { serverIdentity } from "../common/identity.js";
import { releaseBinaryUrl } from "../versions.js";
import { SshServerInstall } from "./provider.js";
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
    // Secret as a whole: the key or password never shows in a preview or in plain state.
    const connection = pulumi.secret(
      pulumi.all([args.connection.host, args.connection.port ?? 22, args.connection.user, args.connection.privateKey, args.connection.password]).apply(([host, port, user, privateKey, password]) => ({
        host,
        port,
        user,
        ...(privateKey ? { privateKey } : {}),
        ...(password ? { password } : {}),
      })),
    );

    const apiHost = profile.binds.api === "all" ? pulumi.output(args.hostname) : pulumi.output("127.0.0.1");
    const { configs, apiAddress, apiClientYaml, guiPasswords, usersScript } = serverIdentity(name, args, profile, version, this, { datastorePath: datastore, apiHost });

    const binary = args.binaryPath
      ? { path: args.binaryPath, sha256: sha256File(args.binaryPath) }
      : { url: args.binaryUrl ?? releaseBinaryUrl(version), sha256: args.binarySha256!.toLowerCase() };
    const firewallPorts = args.openFirewall
      ? [profile.ports.frontend, ...(profile.binds.gui === "all" ? [profile.ports.gui] : []), ...(profile.binds.api === "all" ? [profile.ports.api] : [])]
      : [];
    new SshServerInstall(`${name}-install`, {
      connection,
      binary,
      datastore,
      removeDatastoreOnDelete: args.removeDatastoreOnDelete ?? false,
      serverConfigYaml: configs.serverConfigYaml,
      bootstrapScript: usersScript(s.BIN),
      unit: s.systemdUnit(datastore),
      firewallPorts,
    }, { parent: this });

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
