/**
 * Deployment operations: one implementation behind the MCP deploy tools and the CLI (deploy.ts: deploy and preview;
 * lifecycle.ts: day-2 changes, destroy, checks; files.ts: generated files). This module holds what they share. The
 * engine is a seam: the Pulumi Automation API in production, an in-memory engine in tests.
 */
import { dirname, join } from "node:path";
import { InputError } from "../../core/errors.js";
import { confinedPath, megaraptorHome, safeName } from "../../core/paths.js";
import { DeploymentNotFoundError, type AutomationEngine, type DeploymentRecord } from "../automation/engine.js";
import { CredentialStore } from "../credentials/index.js";
import type { DeploymentSecrets } from "../targets/target.js";
import { DEPLOYMENT_ID, DEPLOYMENT_ID_FORM } from "../request/base.js";
import { ensureFolder, writeFileAtomic } from "../../core/write.js";

let engine: AutomationEngine | undefined;
/** Loaded on first use: the Automation API and the provider SDKs are heavy, and most sessions never deploy. */
export async function automationEngine(): Promise<AutomationEngine> {
  if (!engine) {
    const { PulumiEngine } = await import("../automation/pulumi-engine.js");
    engine ??= new PulumiEngine();
  }
  return engine;
}
/** Tests and embedders swap the engine (e.g. an in-memory one). */
export function setAutomationEngine(e: AutomationEngine): void {
  engine = e;
}

export type DeploymentSummary = ReturnType<typeof summarize>;

/** A string output of a deployment (URLs, and secret configs for local files only). */
export function outputValue(r: DeploymentRecord, key: string): string | undefined {
  const v = r.outputs?.[key]?.value;
  return typeof v === "string" ? v : undefined;
}

/** What a listing shows about a deployment: no secrets, outputs only when not secret. */
export function summarize(r: DeploymentRecord) {
  const outputs = Object.fromEntries(Object.entries(r.outputs ?? {}).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
  return {
    id: r.id,
    status: r.status,
    target: r.settings.target,
    profile: r.settings.profile,
    hostname: r.settings.hostname,
    case_id: r.settings.case_id ?? null,
    owner: r.settings.owner ?? null,
    tags: r.settings.tags,
    description: r.settings.description ?? null,
    updated_at: r.updatedAt,
    resource_count: r.resourceCount ?? null,
    outputs,
    last_error: r.lastError ?? null,
    can_roll_back: !!r.previous,
  };
}

/** Every deployment's summary (the velociraptor://deployments resource). */
export async function listDeploymentSummaries() {
  return (await (await automationEngine()).list()).map(summarize);
}

export async function getDeploymentSummary(id: string) {
  const r = await (await automationEngine()).get(id);
  return r ? summarize(r) : undefined;
}

/** Resolves credential aliases into Pulumi secret inputs for the deployment. */
export function secretsFor(o: { sshCredential?: string; sshPassword?: string }): DeploymentSecrets {
  const store = new CredentialStore();
  const out: DeploymentSecrets = {};
  if (o.sshCredential) {
    const c = store.reveal(o.sshCredential);
    if (c.kind === "password") out.sshPassword = c.secret;
    else out.sshPrivateKey = c.secret;
  }
  if (o.sshPassword) out.sshPassword = o.sshPassword;
  return out;
}

export async function requireDeployment(id: string): Promise<DeploymentRecord> {
  safeName("deployment_id", id, DEPLOYMENT_ID, DEPLOYMENT_ID_FORM);
  const r = await (await automationEngine()).get(id);
  if (!r) throw new DeploymentNotFoundError(id);
  return r;
}

export function filterDeployments(all: DeploymentRecord[], f: { profile?: string; target?: string; tag?: string; case_id?: string; includeDestroyed?: boolean }) {
  return all.filter(
    (r) =>
      (f.includeDestroyed || r.status !== "destroyed") &&
      (!f.profile || r.settings.profile === f.profile) &&
      (!f.target || r.settings.target === f.target) &&
      (!f.case_id || r.settings.case_id === f.case_id) &&
      (!f.tag || Object.entries(r.settings.tags).some(([k, v]) => f.tag === k || f.tag === `${k}=${v}`)),
  );
}

/** Secret outputs of a deployment, for writing files locally (never for tool output). */
export async function secretOutput(id: string, key: "clientConfigYaml" | "apiClientYaml"): Promise<string> {
  const r = await requireDeployment(id);
  const v = r.outputs?.[key]?.value;
  if (typeof v !== "string" || !v) throw new InputError("deployment_id", `${id} has no ${key} output yet`, "Deploy it first (deploy_server), then retry.");
  return v;
}

/** The folder every deployment's generated files live under: `$MEGARAPTOR_HOME/deployments`. */
export function deploymentsRoot(): string {
  return ensureFolder(join(megaraptorHome(), "deployments"), { what: "deployments folder", redirect: "MEGARAPTOR_HOME" });
}

/**
 * A private folder per deployment for generated files (configs, installers), optionally a subfolder of it. The id is
 * checked first (one path component), and the folder must really lie under deploymentsRoot(): a deployment folder or
 * subfolder that is a symbolic link pointing elsewhere is refused, so nothing is written through it.
 */
export function deploymentDir(id: string, sub?: string): string {
  safeName("deployment_id", id, DEPLOYMENT_ID, DEPLOYMENT_ID_FORM);
  const dir = confinedPath(deploymentsRoot(), sub ? join(id, sub) : id, "deployment_id");
  return ensureFolder(dir, { what: "deployment folder", redirect: "MEGARAPTOR_HOME" });
}

/**
 * Writes a generated file (owner-only) all or nothing: a failed write leaves no half file and names the folder. The
 * file must stay inside `dir` (no '..', no symbolic link on the way out).
 */
export function writePrivate(dir: string, name: string, content: string, field = "output file"): string {
  ensureFolder(dir, { what: "generated file", redirect: "MEGARAPTOR_HOME" });
  const p = confinedPath(dir, name, field);
  ensureFolder(dirname(p), { what: "generated file", redirect: "MEGARAPTOR_HOME" });
  writeFileAtomic(p, content, { what: `generated file ${name}`, redirect: "MEGARAPTOR_HOME", mode: 0o600 });
  return p;
}
