/**
 * What every server component shares: the PKI for the deployment's names, the rendered configs, the API address
 * and the (secret) api_client.yaml of the first API user.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Profile } from "../../profiles/schema.js";
import { velociraptorConfigs, type ConfigOutputs } from "../config/index.js";
import { VelociraptorPki } from "../pki/index.js";
import type { DeploymentBaseArgs } from "./index.js";

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export interface ServerIdentity {
  pki: VelociraptorPki;
  configs: ConfigOutputs;
  apiAddress: pulumi.Output<string>;
  apiClientYaml: pulumi.Output<string>;
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
  },
): ServerIdentity {
  const names = pulumi.all([args.hostname, o.moreNames ?? []]).apply(([h, more]) => [h, ...more, ...(args.extraDnsNames ?? []), ...(args.extraIps ?? [])].filter(Boolean));
  const pki = new VelociraptorPki(`${name}-pki`, {
    dnsNames: names.apply((n) => [...new Set(n.filter((x) => !IPV4.test(x) && !x.includes(":")))]),
    ipAddresses: names.apply((n) => [...new Set(n.filter((x) => IPV4.test(x)))]),
    validityDays: profile.tls.certificateValidityDays,
    apiUsers: args.apiUsers ?? [{ name: "megaraptor", roles: ["api", "investigator"] }],
    rotation: args.certificateRotation ?? 0,
  }, { parent });
  const apiAddress = pulumi.interpolate`${o.apiHost}:${profile.ports.api}`;
  const configs = velociraptorConfigs({ pki, profile, version, hostname: args.hostname, datastorePath: o.datastorePath, bindAllInContainer: o.bindAllInContainer, apiConnectionString: apiAddress, apiHostname: o.apiSelfHost });
  return { pki, configs, apiAddress, apiClientYaml: pulumi.secret(configs.apiClientYamls.apply((m) => Object.values(m)[0] ?? "")) };
}
