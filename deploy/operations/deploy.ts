/**
 * Deploy and preview: a request becomes settings (deploy/request), the target is checked (nothing is created when a
 * check fails), the engine applies it, and the server's health is awaited.
 */
import { MegaraptorError } from "../../core/errors.js";
import { checkHealth, healthTimeoutSeconds, waitHealthy } from "../health/index.js";
import { preflight, type CheckResult } from "../preflight/index.js";
import { settingsOf, type DeployRequest, type DeploymentSettings } from "../request/index.js";
import { templateSettings } from "../templates/index.js";
import type { DeploymentRecord } from "../automation/engine.js";
import { automationEngine, outputValue, requireDeployment, secretsFor } from "./index.js";

/** How an operation reports progress and is cancelled (the MCP tool context maps onto it). */
export interface OperationHooks {
  progress?(done: number, total: number | undefined, message: string): void;
  signal?: AbortSignal;
}

export function engineOptions(h: OperationHooks) {
  return { onProgress: (e: { step: string; resourcesDone: number; resourcesTotal?: number }) => h.progress?.(e.resourcesDone, e.resourcesTotal, e.step), signal: h.signal };
}

export class PreflightFailedError extends MegaraptorError {
  constructor(checks: CheckResult[]) {
    const failed = checks.filter((c) => c.status === "fail");
    super("PREFLIGHT_FAILED", `Preflight failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join("; ")}`, {
      hint: failed.map((c) => c.fix).filter(Boolean).join(" ") || "Fix the failing checks, then retry.",
      details: { checks },
    });
  }
}

export interface PreviewResult {
  changes: Record<string, number>;
  checks: CheckResult[];
  settings: DeploymentSettings;
}

export interface DeployResult {
  record: DeploymentRecord;
  checks: CheckResult[];
  settings: DeploymentSettings;
}

/** The settings a request resolves to (a template's, with the request's fields on top). */
export function requestedSettings(request: DeployRequest): DeploymentSettings {
  return settingsOf(request, (name) => templateSettings(name));
}

/** Checks, then `pulumi preview`: what the request would create or change. Failing checks are reported, not thrown. */
export async function previewDeployment(request: DeployRequest, hooks: OperationHooks = {}): Promise<PreviewResult> {
  const settings = requestedSettings(request);
  const secrets = secretsFor({ sshCredential: request.ssh_credential });
  const checks = request.skip_preflight ? [] : (await preflight(settings, secrets)).checks;
  const p = await (await automationEngine()).preview(settings, secrets, engineOptions(hooks));
  return { changes: p.changes, checks, settings };
}

/** Checks (nothing is created when one fails), `pulumi up`, then the health wait unless the request skips it. */
export async function deploy(request: DeployRequest, hooks: OperationHooks = {}): Promise<DeployResult> {
  const settings = requestedSettings(request);
  const secrets = secretsFor({ sshCredential: request.ssh_credential });
  const checks = request.skip_preflight ? [] : (await preflight(settings, secrets)).checks;
  if (checks.some((c) => c.status === "fail")) throw new PreflightFailedError(checks);
  const r = await (await automationEngine()).up(settings, secrets, engineOptions(hooks));
  if (request.wait_healthy) {
    await waitHealthy(
      { deploymentId: r.id, serverUrl: outputValue(r, "serverUrl"), guiUrl: undefined, apiClientYaml: outputValue(r, "apiClientYaml") },
      {
        timeoutSeconds: healthTimeoutSeconds(request.health_timeout),
        signal: hooks.signal,
        onProgress: (n, rep) => hooks.progress?.(n, undefined, `health: ${rep.checks.map((c) => `${c.name} ${c.ok ? "ok" : c.detail}`).join(", ")}`),
      },
    );
  }
  return { record: r, checks, settings };
}

/** Preflight (without the local port checks: the server holds those ports) and health of an existing deployment. */
export async function validateDeployment(id: string, o: { sshCredential?: string } = {}) {
  const r = await requireDeployment(id);
  const pf = r.status === "destroyed" ? [] : (await preflight(r.settings, secretsFor({ sshCredential: o.sshCredential }))).checks.filter((c) => !c.name.startsWith("port "));
  const h = await checkHealth({ deploymentId: r.id, serverUrl: outputValue(r, "serverUrl"), guiUrl: outputValue(r, "guiUrl"), apiClientYaml: outputValue(r, "apiClientYaml") });
  return { healthy: h.healthy, preflight: pf, health: h.checks };
}
