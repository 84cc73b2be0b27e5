/**
 * Preflight: checks of a deployment target before anything is created. Each check passes, fails with the fix, or is
 * skipped with the reason — and none of them changes anything.
 */
import { existsSync, readFileSync, statfsSync } from "node:fs";
import { request } from "node:http";
import { createServer } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { loadProfile } from "../../profiles/index.js";
import type { DeploymentSecrets } from "../program/build.js";
import type { DeploymentSettings } from "../program/settings.js";

export interface CheckResult {
  name: string;
  status: "pass" | "fail" | "skip";
  detail: string;
  fix?: string;
}

const pass = (name: string, detail: string): CheckResult => ({ name, status: "pass", detail });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: "fail", detail, fix });
const skip = (name: string, detail: string): CheckResult => ({ name, status: "skip", detail });

export async function portFree(port: number, host = "0.0.0.0"): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

/** Docker Engine API over the unix socket (or DOCKER_HOST tcp://): GET /version. */
export function dockerVersion(env: NodeJS.ProcessEnv = process.env, timeoutMs = 5000): Promise<{ Version: string; ApiVersion: string }> {
  const hostVar = env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
  const opts = hostVar.startsWith("unix://") ? { socketPath: hostVar.slice(7) } : (() => { const u = new URL(hostVar.replace(/^tcp:/, "http:")); return { host: u.hostname, port: Number(u.port || 2375) }; })();
  return new Promise((resolve, reject) => {
    const req = request({ ...opts, path: "/version", method: "GET", timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => (res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end();
  });
}

/** Connects with the key/password and runs `sudo -n true`. */
export async function sshProbe(o: { host: string; port: number; user: string; privateKey?: string; password?: string; timeoutMs?: number }): Promise<{ connected: boolean; sudo: boolean; error?: string }> {
  // ssh2 loads its crypto bindings on import: only sessions that deploy over SSH pay for it.
  const { Client: SshClient } = await import("ssh2");
  return new Promise((resolve) => {
    const c = new SshClient();
    const done = (r: { connected: boolean; sudo: boolean; error?: string }) => {
      c.end();
      resolve(r);
    };
    c.on("ready", () => {
      // root needs no sudo (minimal images often lack it); anyone else needs passwordless sudo.
      c.exec('[ "$(id -u)" = 0 ] || sudo -n true', (err, stream) => {
        if (err) return done({ connected: true, sudo: false, error: err.message });
        stream.on("close", (code: number) => done({ connected: true, sudo: code === 0 }));
        stream.resume();
        stream.stderr.resume();
      });
    });
    c.on("error", (err) => resolve({ connected: false, sudo: false, error: err.message }));
    try {
      c.connect({ host: o.host, port: o.port, username: o.user, privateKey: o.privateKey, password: o.password, readyTimeout: o.timeoutMs ?? 10_000 });
    } catch (err) {
      // ssh2 rejects an unreadable key synchronously (e.g. an unsupported format): report it like any other failure.
      resolve({ connected: false, sudo: false, error: `${(err as Error).message} (use an OpenSSH or PEM private key)` });
    }
  });
}

async function checkDocker(env: NodeJS.ProcessEnv, s: DeploymentSettings): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  try {
    const v = await dockerVersion(env);
    const major = Number(v.Version.split(".")[0]);
    out.push(major >= 20 ? pass("docker daemon", `Docker ${v.Version} (API ${v.ApiVersion})`) : fail("docker daemon", `Docker ${v.Version} is too old`, "Upgrade to Docker Engine 20.10 or newer."));
  } catch (err) {
    out.push(fail("docker daemon", `not reachable: ${(err as Error).message}`, "Start Docker (systemctl start docker / Docker Desktop), or set DOCKER_HOST to the remote engine."));
  }
  if (env.DOCKER_HOST && !env.DOCKER_HOST.startsWith("unix://")) out.push(skip("ports free", "remote Docker host: ports are checked there at deploy time"));
  else {
    const p = loadProfile(s.profile, s.overrides).ports;
    for (const [name, port] of Object.entries(p)) {
      if (name === "monitoring" && !loadProfile(s.profile, s.overrides).monitoring) continue;
      out.push((await portFree(port)) ? pass(`port ${port} free`, `${name} port`) : fail(`port ${port} free`, `${name} port ${port} is in use`, `Stop what listens on ${port}, or override ports.${name}.`));
    }
  }
  return out;
}

async function checkSsh(s: DeploymentSettings, secrets: DeploymentSecrets): Promise<CheckResult[]> {
  const ssh = s.ssh!;
  const r = await sshProbe({ host: ssh.host, port: ssh.port, user: ssh.user, privateKey: secrets.sshPrivateKey as string | undefined, password: secrets.sshPassword as string | undefined });
  if (!r.connected) return [fail("ssh reachable", `${ssh.user}@${ssh.host}:${ssh.port}: ${r.error}`, "Check host, port, user and the key (store it with store_credential and pass ssh_credential).")];
  return [pass("ssh reachable", `${ssh.user}@${ssh.host}:${ssh.port}`), r.sudo ? pass("sudo without a password", "root, or sudo -n true succeeded") : fail("sudo without a password", "sudo -n true failed", `Give ${ssh.user} passwordless sudo (e.g. /etc/sudoers.d/megaraptor) or use root.`)];
}

function checkAws(env: NodeJS.ProcessEnv, s: DeploymentSettings): CheckResult[] {
  const creds = env.AWS_ACCESS_KEY_ID || env.AWS_PROFILE || env.AWS_WEB_IDENTITY_TOKEN_FILE || existsSync(join(homedir(), ".aws", "credentials"));
  const region = s.aws?.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  return [
    creds ? pass("aws credentials", "found in the environment or ~/.aws") : fail("aws credentials", "none found", "Set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or configure OIDC (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)."),
    region && /^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region) ? pass("aws region", region) : fail("aws region", region ? `"${region}" is not a region name` : "not set", "Set aws.region (e.g. eu-west-1) or AWS_REGION."),
  ];
}

function checkAzure(env: NodeJS.ProcessEnv, s: DeploymentSettings): CheckResult[] {
  const creds = (env.ARM_CLIENT_ID || env.AZURE_CLIENT_ID) && (env.ARM_TENANT_ID || env.AZURE_TENANT_ID) || existsSync(join(homedir(), ".azure", "azureProfile.json"));
  return [
    creds ? pass("azure credentials", "service principal variables or az login profile found") : fail("azure credentials", "none found", "Run `az login`, or set ARM_CLIENT_ID, ARM_CLIENT_SECRET (or OIDC), ARM_TENANT_ID, ARM_SUBSCRIPTION_ID."),
    s.azure?.location && /^[a-z0-9]+$/.test(s.azure.location) ? pass("azure location", s.azure.location) : fail("azure location", `"${s.azure?.location ?? ""}" is not a location name`, "Use a location like westeurope or eastus."),
  ];
}

async function checkKubernetes(env: NodeJS.ProcessEnv, s: DeploymentSettings): Promise<CheckResult[]> {
  const path = env.KUBECONFIG?.split(":")[0] ?? join(homedir(), ".kube", "config");
  if (!existsSync(path)) return [fail("kubeconfig", `${path} not found`, "Set KUBECONFIG or create ~/.kube/config for the cluster.")];
  const kc = parse(readFileSync(path, "utf8")) as { "current-context"?: string; contexts?: { name: string; context: { cluster: string } }[]; clusters?: { name: string; cluster: { server: string } }[] };
  const ctxName = s.kubernetes.kubeconfigContext ?? kc["current-context"];
  const context = kc.contexts?.find((c) => c.name === ctxName);
  if (!context) return [fail("kubernetes context", `context "${ctxName ?? "(none)"}" not in ${path}`, "Set kubernetes.kubeconfigContext to one of: " + (kc.contexts ?? []).map((c) => c.name).join(", "))];
  const server = kc.clusters?.find((c) => c.name === context.context.cluster)?.cluster.server;
  if (!server) return [fail("kubernetes context", `cluster of context ${ctxName} has no server`, "Fix the kubeconfig.")];
  try {
    const res = await fetch(`${server}/version`, { signal: AbortSignal.timeout(5000) });
    return [pass("kubernetes context", `${ctxName} → ${server}`), res.status < 500 ? pass("kubernetes API", `${server} answered ${res.status}`) : fail("kubernetes API", `${server} answered ${res.status}`, "Check the cluster's health.")];
  } catch (err) {
    return [pass("kubernetes context", `${ctxName} → ${server}`), fail("kubernetes API", `${server}: ${(err as Error).message}`, "Check network access to the API server (VPN, firewall) and that the cluster runs.")];
  }
}

function checkDisk(): CheckResult {
  try {
    const st = statfsSync(homedir());
    const freeGb = (st.bavail * st.bsize) / 1e9;
    return freeGb >= 1 ? pass("local disk", `${freeGb.toFixed(1)} GB free for state and generated files`) : fail("local disk", `${freeGb.toFixed(2)} GB free`, "Free some space in your home directory (Pulumi state, evidence).");
  } catch (err) {
    return skip("local disk", (err as Error).message);
  }
}

export async function preflight(s: DeploymentSettings, secrets: DeploymentSecrets = {}, env: NodeJS.ProcessEnv = process.env): Promise<{ ok: boolean; checks: CheckResult[] }> {
  const checks: CheckResult[] = [checkDisk()];
  if (s.target === "docker") checks.push(...(await checkDocker(env, s)));
  if (s.target === "ssh") checks.push(...(await checkSsh(s, secrets)));
  if (s.target === "aws") checks.push(...checkAws(env, s));
  if (s.target === "azure") checks.push(...checkAzure(env, s));
  if (s.target === "kubernetes") checks.push(...(await checkKubernetes(env, s)));
  return { ok: !checks.some((c) => c.status === "fail"), checks };
}
