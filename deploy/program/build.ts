/**
 * buildDeployment: one deployment from settings, for the stack program (`pulumi up`) and the Automation API alike.
 * It never reads pulumi.Config itself; secrets (SSH key/password) are passed in as Pulumi inputs. The target's
 * component comes from the target registry (deploy/targets).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentBaseArgs } from "../../components/common/index.js";
import type { ServerOutputs } from "../../components/common/server.js";
import type { ProfileOverrides } from "../../profiles/schema.js";
import type { DeploymentSettings } from "../request/index.js";
import { targetOf } from "../targets/index.js";
import type { DeploymentSecrets } from "../targets/target.js";

export type { DeploymentSecrets } from "../targets/target.js";

export interface DeploymentOutputs extends ServerOutputs {
  serverConfigYaml: pulumi.Output<string>;
  apiClientYamls: pulumi.Output<Record<string, string>>;
  /** GUI user -> generated password (secret). */
  guiPasswords: pulumi.Output<Record<string, string>>;
  target: string;
  profile: string;
  deploymentId: string;
}

/** The settings' shared fields as every component's Args take them (Pulumi components speak camelCase). */
export function baseArgs(s: DeploymentSettings): DeploymentBaseArgs {
  return {
    deploymentId: s.deployment_id,
    profile: s.profile,
    overrides: s.overrides as ProfileOverrides,
    version: s.version,
    hostname: s.hostname,
    caseId: s.case_id,
    owner: s.owner,
    description: s.description,
    tags: s.tags,
    apiUsers: s.api_users,
    guiUsers: s.gui_users,
    certificateRotation: s.certificate_rotation,
    caRotation: s.ca_rotation,
  };
}

export async function buildDeployment(s: DeploymentSettings, secrets: DeploymentSecrets = {}, opts: pulumi.ComponentResourceOptions = {}): Promise<DeploymentOutputs> {
  const server = await targetOf(s.target).build(s, { name: s.deployment_id, base: baseArgs(s), secrets, opts });
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
    deploymentId: s.deployment_id,
  };
}
