/**
 * What every server component shares: the PKI for the deployment's names, the rendered configs, the API address,
 * the (secret) api_client.yaml of the first API user, and the user bootstrap script that makes the API and GUI
 * users exist on the server (components/common/users.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Profile } from "../../profiles/schema.js";
import { velociraptorConfigs, type ConfigOutputs } from "../config/index.js";
import { VelociraptorPki } from "../pki/index.js";
import type { DeploymentBaseArgs } from "./index.js";
import { checkUsers, DEFAULT_API_USERS, DEFAULT_GUI_USERS, userBootstrapScript } from "./users.js";

/** Every target keeps the config here (the official image and .deb use the same path). */
export const CONFIG_PATH = "/etc/velociraptor/server.config.yaml";

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export interface ServerIdentity {
  pki: VelociraptorPki;
  configs: ConfigOutputs;
  apiAddress: pulumi.Output<string>;
  apiClientYaml: pulumi.Output<string>;
  /** GUI user -> generated password (secret). */
  guiPasswords: pulumi.Output<Record<string, string>>;
  /** The user bootstrap script for a server whose velociraptor binary is at `binary` (secret: GUI passwords). */
  usersScript(binary: string, configPath?: string): pulumi.Output<string>;
}

export function serverIdentity(
  name: string,
  args: DeploymentBaseArgs,
  profile: Profile,
  version: string,
  parent: pulumi.Resource,
  o: {
    datastorePath: string;
    /** Host part of the API address clients dial. */
    apiHost: pulumi.Input<string>;
    /** Name the server itself dials for its API (API.hostname); default localhost. */
    apiSelfHost?: string;
    bindAllInContainer?: boolean;
    /** Names/IPs the target adds (service names, Elastic IP, DNS record). */
    moreNames?: pulumi.Input<string[]>;
    /** Multi-frontend: the minions' host names (ExtraFrontends). */
    minionHostnames?: string[];
  },
): ServerIdentity {
  const names = pulumi.all([args.hostname, o.moreNames ?? []]).apply(([h, more]) => [h, ...more, ...(args.extraDnsNames ?? []), ...(args.extraIps ?? [])].filter(Boolean));
  const apiUsers = args.apiUsers ?? DEFAULT_API_USERS;
  const guiUsers = args.guiUsers ?? DEFAULT_GUI_USERS;
  checkUsers(apiUsers, guiUsers);
  const pki = new VelociraptorPki(`${name}-pki`, {
    dnsNames: names.apply((n) => [...new Set(n.filter((x) => !IPV4.test(x) && !x.includes(":")))]),
    ipAddresses: names.apply((n) => [...new Set(n.filter((x) => IPV4.test(x)))]),
    validityDays: profile.tls.certificateValidityDays,
    apiUsers,
    rotation: args.certificateRotation ?? 0,
    caRotation: args.caRotation ?? 0,
    guiUsers: guiUsers.map((u) => u.name),
  }, { parent });
  const apiAddress = pulumi.interpolate`${o.apiHost}:${profile.ports.api}`;
  const configs = velociraptorConfigs({ pki, profile, version, hostname: args.hostname, datastorePath: o.datastorePath, bindAllInContainer: o.bindAllInContainer, apiConnectionString: apiAddress, apiHostname: o.apiSelfHost, minionHostnames: o.minionHostnames });
  const usersScript = (binary: string, configPath: string = CONFIG_PATH) =>
    pulumi.secret(
      pki.guiPasswords.apply((pw) =>
        userBootstrapScript({ binary, config: configPath, apiUsers, guiUsers: guiUsers.map((u) => ({ ...u, password: pw[u.name] ?? "" })), datastore: o.datastorePath }),
      ),
    );
  return { pki, configs, apiAddress, apiClientYaml: pulumi.secret(configs.apiClientYamls.apply((m) => Object.values(m)[0] ?? "")), guiPasswords: pki.guiPasswords, usersScript };
}
