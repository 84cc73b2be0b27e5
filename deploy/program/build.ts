/**
 * buildDeployment: one deployment from settings, for the stack program (`pulumi up`) and the Automation API alike.
 * It never reads pulumi.Config itself; secrets (SSH key/password) are passed in as Pulumi inputs.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { AwsServer } from "../../components/aws/index.js";
import { AzureServer } from "../../components/azure/index.js";
import type { DeploymentBaseArgs } from "../../components/common/index.js";
import type { ServerOutputs, VelociraptorServerComponent } from "../../components/common/server.js";
import { DockerServer } from "../../components/docker/index.js";
import { KubernetesServer } from "../../components/kubernetes/index.js";
import { SshBinaryServer } from "../../components/ssh/index.js";
import type { ProfileOverrides } from "../../profiles/schema.js";
import type { DeploymentSettings } from "./settings.js";

export interface DeploymentSecrets {
  sshPrivateKey?: pulumi.Input<string>;
  sshPassword?: pulumi.Input<string>;
}

export interface DeploymentOutputs extends ServerOutputs {
  serverConfigYaml: pulumi.Output<string>;
  apiClientYamls: pulumi.Output<Record<string, string>>;
  /** GUI user -> generated password (secret). */
  guiPasswords: pulumi.Output<Record<string, string>>;
  target: string;
  profile: string;
  deploymentId: string;
}

export function buildDeployment(s: DeploymentSettings, secrets: DeploymentSecrets = {}, opts: pulumi.ComponentResourceOptions = {}): DeploymentOutputs {
  const base: DeploymentBaseArgs = {
    deploymentId: s.deploymentId,
    profile: s.profile,
    overrides: s.overrides as ProfileOverrides,
    version: s.version,
    hostname: s.hostname,
    caseId: s.caseId,
    owner: s.owner,
    description: s.description,
    tags: s.tags,
    apiUsers: s.apiUsers,
    guiUsers: s.guiUsers,
    certificateRotation: s.certificateRotation,
    caRotation: s.caRotation,
  };
  const name = s.deploymentId;
  let server: VelociraptorServerComponent;
  switch (s.target) {
    case "docker":
      server = new DockerServer(name, { ...base, ...s.docker }, opts);
      break;
    case "ssh":
      server = new SshBinaryServer(name, { ...base, ...s.ssh!, connection: { host: s.ssh!.host, port: s.ssh!.port, user: s.ssh!.user, privateKey: secrets.sshPrivateKey, password: secrets.sshPassword } }, opts);
      break;
    case "aws": {
      const a = s.aws!;
      const provider = a.region ? new aws.Provider(`${name}-aws`, { region: a.region as aws.Region }) : undefined;
      server = new AwsServer(name, { ...base, ...a }, { ...opts, providers: provider ? { aws: provider } : opts.providers });
      break;
    }
    case "azure":
      server = new AzureServer(name, { ...base, ...s.azure! }, opts);
      break;
    case "kubernetes": {
      const k = s.kubernetes;
      const provider = k.kubeconfigContext ? new k8s.Provider(`${name}-k8s`, { context: k.kubeconfigContext }) : undefined;
      server = new KubernetesServer(name, { ...base, ...k }, { ...opts, providers: provider ? { kubernetes: provider } : opts.providers });
      break;
    }
  }
  return {
    serverUrl: server.serverUrl,
    guiUrl: server.guiUrl,
    apiAddress: server.apiAddress,
    apiClientYaml: server.apiClientYaml,
    clientConfigYaml: server.clientConfigYaml,
    serverConfigYaml: server.serverConfigYaml,
    apiClientYamls: server.apiClientYamls,
    guiPasswords: server.guiPasswords,
    target: s.target,
    profile: s.profile,
    deploymentId: s.deploymentId,
  };
}
