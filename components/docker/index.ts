/**
 * DockerServer: Velociraptor in a container from the official image. The rendered config (a secret) is uploaded into
 * the container with mode 0600 — it never appears in the image, an env var or a host file. The datastore is a
 * named volume. The frontend is published on all interfaces (clients must reach it); GUI and API only on 127.0.0.1
 * unless the profile binds them to all. Works against a remote engine through a docker.Provider (DOCKER_HOST
 * ssh:// or tcp:// with TLS) passed in `providers`.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { VelociraptorServerComponent } from "../common/server.js";
import { checkDeploymentId, deploymentTagsOutput, labelSafe, resolveProfile, resolveVersion, type DeploymentBaseArgs } from "../common/index.js";
import { serverIdentity } from "../common/identity.js";
import { serverImage } from "../versions.js";
import { BOOTSTRAP_PATH } from "../common/users.js";

export interface DockerServerArgs extends DeploymentBaseArgs {
  /** Custom image instead of ghcr.io/velocidex/velociraptor-server:<version>. */
  image?: string;
  /** Dedicated bridge network with inter-container traffic disabled (default: the profile's networkIsolation). */
  networkIsolation?: boolean;
  /** Address the host publishes GUI/API on when the profile keeps them local (default 127.0.0.1). */
  localBindIp?: string;
}

const CONFIG_PATH = "/etc/velociraptor/server.config.yaml";
const DATASTORE = "/datastore";
/** The official image's binary (Docker/Dockerfile @ v0.77.2). */
const BIN = "/bin/velociraptor";

export class DockerServer extends VelociraptorServerComponent {
  readonly containerId: pulumi.Output<string>;
  readonly networkName?: pulumi.Output<string>;

  constructor(name: string, args: DockerServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("megaraptor:index:DockerServer", name, {}, opts);
    checkDeploymentId(args.deploymentId);
    const profile = resolveProfile(args);
    const version = resolveVersion(args.version);
    const tags = deploymentTagsOutput(name, args, profile, this);
    const labels = tags.apply((t) => Object.entries(labelSafe(t)).map(([label, value]) => ({ label, value })));
    const isolate = args.networkIsolation ?? profile.networkIsolation;
    const localIp = args.localBindIp ?? "127.0.0.1";
    const id = args.deploymentId;

    const apiHost = profile.binds.api === "all" ? pulumi.output(args.hostname) : pulumi.output(localIp);
    const { configs, apiAddress, apiClientYaml, guiPasswords, usersScript } = serverIdentity(name, args, profile, version, this, { datastorePath: DATASTORE, apiHost, bindAllInContainer: true });

    const image = new docker.RemoteImage(`${name}-image`, { name: args.image ?? serverImage(version), keepLocally: true }, { parent: this });
    // Labels are ForceNew on volumes and networks (kreuzwerker resource_docker_volume.go:48-53,
    // resource_docker_network.go:32-37): a tag change must not replace the datastore or the network.
    const volume = new docker.Volume(`${name}-datastore`, { name: `megaraptor-${id}-datastore`, labels }, { parent: this, retainOnDelete: false, ignoreChanges: ["labels"] });
    const network = isolate
      ? new docker.Network(`${name}-net`, {
          name: `megaraptor-${id}`,
          driver: "bridge",
          // No container-to-container traffic on this network; only the published ports reach Velociraptor.
          options: { "com.docker.network.bridge.enable_icc": "false" },
          labels,
        }, { parent: this, ignoreChanges: ["labels"] })
      : undefined;

    const publish = (internal: number, bindAll: boolean) => ({ internal, external: internal, ip: bindAll ? "0.0.0.0" : localIp, protocol: "tcp" });
    const ports = [publish(profile.ports.frontend, true), publish(profile.ports.gui, profile.binds.gui === "all"), publish(profile.ports.api, profile.binds.api === "all")];
    if (profile.monitoring) ports.push(publish(profile.ports.monitoring, false));

    const container = new docker.Container(`${name}-server`, {
      name: `megaraptor-${id}`,
      image: image.imageId,
      // The user bootstrap runs before the server on every start, as the official image runs `user add` before
      // `frontend -v` (Docker/entrypoint @ v0.77.2); /bin/sh is the image's busybox.
      entrypoints: ["/bin/sh", "-c"],
      command: [`/bin/sh ${BOOTSTRAP_PATH} && exec ${BIN} --config ${CONFIG_PATH} frontend -v`],
      uploads: [
        { file: CONFIG_PATH, content: configs.serverConfigYaml, permissions: "0600" },
        { file: BOOTSTRAP_PATH, content: usersScript(BIN), permissions: "0600" },
      ],
      volumes: [{ volumeName: volume.name, containerPath: DATASTORE }],
      ports,
      memory: profile.resources.memoryMb,
      cpus: String(profile.resources.cpus),
      restart: "unless-stopped",
      healthcheck: {
        // The frontend is TLS with the deployment's own CA; busybox wget in the alpine image does the probe.
        tests: ["CMD-SHELL", `wget -q -O /dev/null --no-check-certificate https://127.0.0.1:${profile.ports.frontend}/healthz || exit 1`],
        interval: "30s",
        timeout: "5s",
        retries: 3,
        startPeriod: "30s",
      },
      labels,
      logOpts: { "max-size": "50m", "max-file": String(Math.max(1, Math.min(20, profile.logRetentionDays))) },
      networksAdvanced: network ? [{ name: network.name, aliases: ["velociraptor"] }] : undefined,
      mustRun: true,
    // Uploads and labels are ForceNew (kreuzwerker resource_docker_container.go:833-839, 987-991) and the name and
    // host ports are fixed: the old container must go before its replacement starts (pulumi/pulumi-docker#1356).
    }, { parent: this, dependsOn: [volume], deleteBeforeReplace: true });

    const host = pulumi.output(args.hostname);
    this.containerId = container.id;
    this.networkName = network?.name;
    this.publish(
      {
        serverUrl: pulumi.interpolate`https://${host}:${profile.ports.frontend}/`,
        guiUrl: pulumi.interpolate`https://${profile.binds.gui === "all" ? host : pulumi.output(localIp)}:${profile.ports.gui}/app/index.html`,
        apiAddress,
        apiClientYaml,
        clientConfigYaml: configs.clientConfigYaml,
      },
      { serverConfigYaml: configs.serverConfigYaml, apiClientYamls: configs.apiClientYamls, guiPasswords, containerId: this.containerId },
    );
  }
}
