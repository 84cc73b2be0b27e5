/**
 * Preflight: checks of a deployment target before anything is created. Each check passes, fails with the fix, or is
 * skipped with the reason — and none of them changes anything. The checks of each target are in its registry entry.
 */
import type { DeploymentSettings } from "../request/index.js";
import { targetOf } from "../targets/index.js";
import type { DeploymentSecrets } from "../targets/target.js";
import { checkDisk, type CheckResult } from "./checks.js";

export { dockerVersion, portFree, sshProbe, type CheckResult } from "./checks.js";

export async function preflight(s: DeploymentSettings, secrets: DeploymentSecrets = {}, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; checks: CheckResult[] }> {
  const checks: CheckResult[] = [checkDisk(), ...(await targetOf(s.target).preflight(s, { env, secrets }))];
  return { ok: !checks.some((c) => c.status === "fail"), checks };
}
