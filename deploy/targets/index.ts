/**
 * The deploy-target registry. A target is its component, its module here (settings section, preflight, build) and
 * one entry in this list; the settings schema, the deploy tools, the CLI, preflight and the stack program look
 * targets up here.
 */
import { MegaraptorError } from "../../core/errors.js";
import { awsTarget } from "./aws.js";
import { azureTarget } from "./azure.js";
import { dockerTarget } from "./docker.js";
import { kubernetesTarget } from "./kubernetes.js";
import { sshTarget } from "./ssh.js";
import type { DeployTarget } from "./target.js";

export const TARGET_LIST = [dockerTarget, sshTarget, awsTarget, azureTarget, kubernetesTarget] as const;

export type TargetName = (typeof TARGET_LIST)[number]["name"];
export const TARGET_NAMES: TargetName[] = TARGET_LIST.map((t) => t.name);

export function targetOf(name: string): DeployTarget {
  const t = TARGET_LIST.find((x) => x.name === name);
  // Settings are validated against TARGET_NAMES before anything looks a target up; this guards other callers.
  if (!t) throw new MegaraptorError("UNKNOWN_TARGET", `There is no deploy target "${name}".`, { hint: `Use one of ${TARGET_NAMES.join(", ")}.` });
  return t;
}
