/**
 * Health wait after a deployment: the frontend's /healthz (TLS, verified against the deployment's own CA), the GUI
 * (200/401/307 all mean "up"), and the gRPC API (Check + the server's version, and its host where the key may read it)
 * with the generated API client. Retries until the timeout; on timeout the deployment stays in place and the error
 * says how to look at it and how to remove it.
 */
import { request } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { MegaraptorError } from "../../core/errors.js";
import { numericSetting } from "../../core/settings.js";
import { parseApiClientYaml } from "../../velociraptor/config.js";
import { checkVelociraptorHealth } from "../../velociraptor/client.js";
import { CancelledError } from "../../velociraptor/errors.js";

export interface HealthTargets {
  deploymentId: string;
  serverUrl?: string;
  guiUrl?: string;
  apiClientYaml?: string;
}

export interface HealthReport {
  healthy: boolean;
  checks: { name: string; ok: boolean; detail: string }[];
}

export class HealthTimeoutError extends MegaraptorError {
  constructor(id: string, seconds: number, report: HealthReport) {
    const failing = report.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`).join("; ");
    super("HEALTH_TIMEOUT", `Deployment ${id} did not become healthy within ${seconds} s (${failing}).`, {
      retryable: true,
      hint: `The deployment is left in place. Inspect it with get_deployment_status ${id} / validate_deployment (server logs: docker logs megaraptor-${id}, or journalctl -u velociraptor_server); raise MEGARAPTOR_HEALTH_TIMEOUT for slow hosts; remove it with destroy_deployment ${id}.`,
      details: { checks: report.checks },
    });
  }
}

function httpsStatus(url: string, ca?: string, timeoutMs = 5000): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    // Velociraptor's certificates are for VelociraptorServer (+ the deployment's names); verify against its CA.
    const req = request({ host: u.hostname, port: u.port || 443, path: u.pathname, method: "GET", ca, servername: "VelociraptorServer", checkServerIdentity: () => undefined, rejectUnauthorized: !!ca, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

export async function checkHealth(t: HealthTargets): Promise<HealthReport> {
  const checks: HealthReport["checks"] = [];
  let ca: string | undefined;
  let cfg: ReturnType<typeof parseApiClientYaml> | undefined;
  if (t.apiClientYaml) {
    try {
      cfg = parseApiClientYaml(t.apiClientYaml, "deployment api_client.yaml");
      ca = cfg.ca_certificate;
    } catch (err) {
      checks.push({ name: "api client config", ok: false, detail: (err as Error).message });
    }
  }
  if (t.serverUrl) {
    const url = new URL("healthz", t.serverUrl).href;
    await httpsStatus(url, ca).then(
      (s) => checks.push({ name: "frontend /healthz", ok: s === 200, detail: `HTTP ${s}` }),
      (e: Error) => checks.push({ name: "frontend /healthz", ok: false, detail: e.message }),
    );
  }
  if (t.guiUrl) {
    await httpsStatus(t.guiUrl, ca).then(
      (s) => checks.push({ name: "GUI", ok: [200, 401, 307, 302].includes(s), detail: `HTTP ${s}` }),
      (e: Error) => checks.push({ name: "GUI", ok: false, detail: e.message }),
    );
  }
  if (cfg) {
    await checkVelociraptorHealth(cfg, 10).then(
      // A key without MACHINE_STATE (the default api,investigator one) cannot read the host name: still healthy, said so.
      (h) => checks.push({ name: "gRPC API", ok: h.serving, detail: `${h.status}, version ${h.serverVersion ?? "?"}${h.hostname ? ` on ${h.hostname}` : ""}, ${h.latencyMs} ms${h.unavailable.map((u) => `; ${u.fields.join("/")} not readable: needs ${u.permission}`).join("")}` }),
      (e: Error) => checks.push({ name: "gRPC API", ok: false, detail: e.message }),
    );
  }
  return { healthy: checks.length > 0 && checks.every((c) => c.ok), checks };
}

export function healthTimeoutSeconds(perCall?: number, env: NodeJS.ProcessEnv = process.env): number {
  return perCall ?? numericSetting("MEGARAPTOR_HEALTH_TIMEOUT", env);
}

export async function waitHealthy(t: HealthTargets, o: { timeoutSeconds: number; onProgress?: (attempt: number, report: HealthReport) => void; signal?: AbortSignal }): Promise<HealthReport> {
  const end = Date.now() + o.timeoutSeconds * 1000;
  let report: HealthReport = { healthy: false, checks: [] };
  for (let attempt = 1; ; attempt++) {
    report = await checkHealth(t);
    o.onProgress?.(attempt, report);
    if (report.healthy) return report;
    if (o.signal?.aborted) throw new CancelledError(`Waiting for ${t.deploymentId} to become healthy`);
    if (Date.now() >= end) throw new HealthTimeoutError(t.deploymentId, o.timeoutSeconds, report);
    await sleep(Math.min(5000, 500 * attempt, Math.max(0, end - Date.now())), undefined, { signal: o.signal }).catch(() => undefined);
  }
}
