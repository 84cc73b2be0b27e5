/** What the deploy tools share: output shapes, the text of a deployment, and the tool context as operation hooks. */
import { z } from "zod";
import type { DeploymentRecord } from "../../../deploy/automation/engine.js";
import type { OperationHooks } from "../../../deploy/operations/deploy.js";
import { summarize } from "../../../deploy/operations/index.js";
import type { CheckResult } from "../../../deploy/preflight/index.js";
import type { ToolContext } from "../define.js";

export const Summary = z.record(z.string(), z.unknown());
export const Check = z.object({ name: z.string(), status: z.enum(["pass", "fail", "skip"]), detail: z.string(), fix: z.string().optional() });
export const DeployOutput = z.object({ deployment: Summary, changes: z.record(z.string(), z.number()), checks: z.array(Check).optional() });

/** Progress and cancellation of a deploy operation go to the MCP client. */
export function hooksOf(ctx: ToolContext): OperationHooks {
  return { progress: (done, total, message) => void ctx.progress(done, total, message), signal: ctx.signal };
}

export function deployText(r: DeploymentRecord): string {
  const s = summarize(r);
  return `Deployment ${s.id}: ${s.status} (${s.target}, ${s.profile})\n${Object.entries(s.outputs).map(([k, v]) => `${k}: ${String(v)}`).join("\n")}`;
}

export function checkLines(checks: CheckResult[]): string {
  return checks.map((c) => `${c.status.toUpperCase()} ${c.name}: ${c.detail}${c.fix ? ` — ${c.fix}` : ""}`).join("\n");
}
