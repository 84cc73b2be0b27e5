/**
 * The Pulumi program behind Pulumi.yaml: reads the stack config (`megaraptor:<field>`, the same field names as a
 * deploy request), validates it, builds the deployment and exports its URLs and (secret) credentials. See
 * docs/platform.md and the Pulumi.<name>.yaml examples.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { buildDeployment } from "./build.js";
import { DeploymentSettingsSchema, parseDeploymentSettings } from "../request/index.js";

const NS = "megaraptor:";
/** Secret config (never part of the settings): the SSH key or password for the ssh target. */
const SECRET_KEYS = new Set(["sshPrivateKey", "sshPassword"]);

/**
 * Pulumi hands every config value over as a string; objects and numbers are JSON. A value the field accepts as it is
 * stays a string (a case id "2024" is not a number); anything else is read as JSON.
 */
const FIELDS: Record<string, z.ZodType> = DeploymentSettingsSchema.shape;

function configValue(key: string, text: string): unknown {
  const field = Object.hasOwn(FIELDS, key) ? FIELDS[key] : undefined;
  if (field?.safeParse(text).success) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

// Every megaraptor:* key goes to the one settings schema, so a misspelt or renamed key is refused by name.
const raw: Record<string, unknown> = {};
for (const [k, text] of Object.entries(pulumi.runtime.allConfig())) {
  if (!k.startsWith(NS) || SECRET_KEYS.has(k.slice(NS.length))) continue;
  raw[k.slice(NS.length)] = configValue(k.slice(NS.length), text);
}
raw.deployment_id ??= pulumi.getStack().toLowerCase().replace(/[^a-z0-9-]/g, "-");
const settings = parseDeploymentSettings(raw, "stack");
const cfg = new pulumi.Config("megaraptor");
const out = await buildDeployment(settings, { sshPrivateKey: cfg.getSecret("sshPrivateKey"), sshPassword: cfg.getSecret("sshPassword") });

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
