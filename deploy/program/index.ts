/**
 * The Pulumi program behind Pulumi.yaml: reads stack config (megaraptor:*), validates it, builds the deployment
 * and exports its URLs and (secret) credentials. See docs/platform.md and the Pulumi.<name>.yaml examples.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildDeployment } from "./build.js";
import { parseDeploymentSettings } from "./settings.js";

const cfg = new pulumi.Config("megaraptor");
const settings = parseDeploymentSettings({
  target: cfg.require("target"),
  profile: cfg.get("profile"),
  deploymentId: cfg.get("deploymentId") ?? pulumi.getStack().toLowerCase().replace(/[^a-z0-9-]/g, "-"),
  hostname: cfg.require("hostname"),
  overrides: cfg.getObject("overrides"),
  version: cfg.get("version"),
  caseId: cfg.get("case"),
  owner: cfg.get("owner"),
  description: cfg.get("description"),
  tags: cfg.getObject("tags"),
  apiUsers: cfg.getObject("apiUsers"),
  guiUsers: cfg.getObject("guiUsers"),
  certificateRotation: cfg.getNumber("certificateRotation"),
  caRotation: cfg.getNumber("caRotation"),
  docker: cfg.getObject("docker"),
  ssh: cfg.getObject("ssh"),
  aws: cfg.getObject("aws"),
  azure: cfg.getObject("azure"),
  kubernetes: cfg.getObject("kubernetes"),
});
const out = buildDeployment(settings, { sshPrivateKey: cfg.getSecret("sshPrivateKey"), sshPassword: cfg.getSecret("sshPassword") });

export const serverUrl = out.serverUrl;
export const guiUrl = out.guiUrl;
export const apiAddress = out.apiAddress;
export const apiClientYaml = out.apiClientYaml;
export const clientConfigYaml = out.clientConfigYaml;
export const serverConfigYaml = out.serverConfigYaml;
export const apiClientYamls = out.apiClientYamls;
export const guiPasswords = out.guiPasswords;
export const target = out.target;
export const profile = out.profile;
export const deploymentId = out.deploymentId;
