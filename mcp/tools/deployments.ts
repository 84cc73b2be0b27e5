/**
 * Deployment tools (parity names of the Python server, backed by the Pulumi components and the Automation API):
 * deploy, preview, status, list, destroy, refresh, rollback, templates, credentials, agent and config generators.
 */
import { join } from "node:path";
import { z } from "zod";
import { generateAnsiblePlaybook, generateGpoPackage, offlineCollectorSpec } from "../../components/agents/generators.js";
import { DEFAULT_VELOCIRAPTOR_VERSION, releaseBinaryUrl } from "../../components/versions.js";
import { PROFILE_NAMES } from "../../profiles/schema.js";
import { VELOCIRAPTOR_ROLES } from "../../components/common/users.js";
import type { DeploymentRecord } from "../../deploy/automation/engine.js";
import { CredentialKind, CredentialStore } from "../../deploy/credentials/index.js";
import { automationEngine, deploymentDir, filterDeployments, requireDeployment, secretOutput, secretsFor, settingsFrom, summarize, writePrivate } from "../../deploy/operations/index.js";
import { DeploymentId, TARGETS } from "../../deploy/program/settings.js";
import { listTemplates, saveTemplate, settingsFromTemplate } from "../../deploy/templates/index.js";
import { InputError, MegaraptorError } from "../../core/errors.js";
import { preflight, type CheckResult } from "../../deploy/preflight/index.js";
import { checkHealth, healthTimeoutSeconds, waitHealthy } from "../../deploy/health/index.js";
import { binaryConfigured, runTrustedBinary, trustedBinary } from "../../deploy/operations/velociraptor-binary.js";
import { defineTool, type ToolContext } from "./define.js";
import { ArtifactName } from "./ids.js";

const Summary = z.record(z.string(), z.unknown());

const DeployInput = {
  deployment_id: DeploymentId.describe("3–40 lowercase letters, digits or '-', starting with a letter; names the stack and resources"),
  target: z.enum(TARGETS).optional().describe("docker | ssh | aws | azure | kubernetes"),
  deployment_type: z.enum(["docker", "binary", "aws", "azure"]).optional().describe("parity alias of target (binary = ssh)"),
  profile: z.enum(PROFILE_NAMES).optional().describe("default standard (or the template's)"),
  server_hostname: z.string().optional().describe("name clients and analysts use to reach the server"),
  template: z.string().optional().describe("start from a saved deployment template"),
  overrides: z.record(z.string(), z.unknown()).optional().describe("profile overrides, e.g. {resources: {memoryMb: 4096}}"),
  gui_port: z.number().int().min(1).max(65535).optional(),
  frontend_port: z.number().int().min(1).max(65535).optional(),
  target_host: z.string().optional().describe("ssh target host"),
  ssh_user: z.string().optional(),
  ssh_port: z.number().int().min(1).max(65535).optional().describe("ssh target: SSH port (default 22)"),
  ssh_credential: z.string().optional().describe("alias of a stored credential (store_credential) holding the SSH key or password"),
  binary_sha256: z.string().optional().describe("SHA-256 of the Velociraptor release binary (ssh/aws/azure)"),
  binary_url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//i.test(u), { message: "expected an http(s) URL" })
    .optional()
    .describe("ssh target: http(s) URL of the Velociraptor binary, checked against binary_sha256 (default: the GitHub release of the version)"),
  aws: z.record(z.string(), z.unknown()).optional(),
  azure: z.record(z.string(), z.unknown()).optional(),
  kubernetes: z.record(z.string(), z.unknown()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  case: z.string().optional(),
  owner: z.string().optional(),
  description: z.string().optional(),
  version: z.string().optional(),
  skip_preflight: z.boolean().default(false).describe("skip the target checks (not recommended)"),
  wait_healthy: z.boolean().default(true).describe("wait until /healthz and the API answer (MEGARAPTOR_HEALTH_TIMEOUT, default 300 s)"),
  health_timeout: z.number().int().min(1).max(3600).optional().describe("seconds to wait for health"),
};

type DeployArgs = { [K in keyof typeof DeployInput]?: unknown } & { deployment_id: string; profile?: string };

function settingsFromArgs(a: DeployArgs) {
  const target = (a.target as string | undefined) ?? (a.deployment_type === "binary" ? "ssh" : (a.deployment_type as string | undefined));
  const overrides: Record<string, unknown> = { ...((a.overrides as Record<string, unknown>) ?? {}) };
  if (a.gui_port || a.frontend_port) overrides.ports = { ...((overrides.ports as object) ?? {}), ...(a.gui_port ? { gui: a.gui_port } : {}), ...(a.frontend_port ? { frontend: a.frontend_port } : {}) };
  const raw: Record<string, unknown> = {
    target,
    profile: a.profile ?? (a.template ? undefined : "standard"),
    deploymentId: a.deployment_id,
    hostname: a.server_hostname ?? (target === "docker" ? "localhost" : undefined),
    overrides: Object.keys(overrides).length ? overrides : undefined,
    tags: a.tags,
    caseId: a.case,
    owner: a.owner,
    description: a.description,
    version: a.version,
    ...(target === "ssh" ? { ssh: { host: a.target_host, port: a.ssh_port, user: a.ssh_user ?? "root", binarySha256: a.binary_sha256, binaryUrl: a.binary_url } } : {}),
    ...(a.aws || target === "aws" ? { aws: { ...((a.aws as object) ?? {}), ...(a.binary_sha256 ? { binarySha256: a.binary_sha256 } : {}) } } : {}),
    ...(a.azure || target === "azure" ? { azure: { ...((a.azure as object) ?? {}), ...(a.binary_sha256 ? { binarySha256: a.binary_sha256 } : {}) } } : {}),
    ...(a.kubernetes ? { kubernetes: a.kubernetes } : {}),
  };
  for (const k of Object.keys(raw)) if (raw[k] === undefined) delete raw[k];
  if (a.template) return settingsFromTemplate(String(a.template), raw);
  if (!target) throw new InputError("target", "is required", `One of ${TARGETS.join(", ")} (or deployment_type docker|binary|aws|azure).`);
  return settingsFrom(raw);
}

function progressOf(ctx: ToolContext) {
  return (e: { step: string; resourcesDone: number; resourcesTotal?: number }) => void ctx.progress(e.resourcesDone, e.resourcesTotal, e.step);
}

function deployText(r: DeploymentRecord): string {
  const s = summarize(r);
  return `Deployment ${s.id}: ${s.status} (${s.target}, ${s.profile})\n${Object.entries(s.outputs).map(([k, v]) => `${k}: ${String(v)}`).join("\n")}`;
}

class PreflightFailedError extends MegaraptorError {
  constructor(checks: CheckResult[]) {
    const failed = checks.filter((c) => c.status === "fail");
    super("PREFLIGHT_FAILED", `Preflight failed: ${failed.map((c) => `${c.name}: ${c.detail}`).join("; ")}`, {
      hint: failed.map((c) => c.fix).filter(Boolean).join(" ") || "Fix the failing checks, then retry.",
      details: { checks },
    });
  }
}

function outputValue(r: { outputs?: Record<string, { value: unknown }> }, k: string): string | undefined {
  const v = r.outputs?.[k]?.value;
  return typeof v === "string" ? v : undefined;
}

async function deploy(args: DeployArgs, ctx: ToolContext, previewOnly: boolean) {
  const settings = settingsFromArgs(args);
  const secrets = secretsFor({ sshCredential: args.ssh_credential as string | undefined });
  // Checks first: nothing is created when the target is not ready.
  const checks = args.skip_preflight ? [] : (await preflight(settings, secrets)).checks;
  if (checks.some((c) => c.status === "fail") && !previewOnly) throw new PreflightFailedError(checks);
  const engine = await automationEngine();
  if (previewOnly) {
    const p = await engine.preview(settings, secrets, { onProgress: progressOf(ctx), signal: ctx.signal });
    return { structured: { deployment: { id: settings.deploymentId, status: "previewed", target: settings.target, profile: settings.profile }, changes: p.changes, checks }, text: `Preview of ${settings.deploymentId}: ${JSON.stringify(p.changes)}\n${checks.map((c) => `${c.status.toUpperCase()} ${c.name}: ${c.detail}${c.fix ? ` — ${c.fix}` : ""}`).join("\n")}`, auditSummary: "preview" };
  }
  const r = await engine.up(settings, secrets, { onProgress: progressOf(ctx), signal: ctx.signal });
  if (args.wait_healthy !== false) {
    await waitHealthy(
      { deploymentId: r.id, serverUrl: outputValue(r, "serverUrl"), guiUrl: undefined, apiClientYaml: outputValue(r, "apiClientYaml") },
      { timeoutSeconds: healthTimeoutSeconds(args.health_timeout as number | undefined), signal: ctx.signal, onProgress: (n, rep) => void ctx.progress(n, undefined, `health: ${rep.checks.map((c) => `${c.name} ${c.ok ? "ok" : c.detail}`).join(", ")}`) },
    );
  }
  return { structured: { deployment: summarize(r), changes: {}, checks }, text: deployText(r), auditSummary: `${r.status} ${settings.target}/${settings.profile}` };
}

const Check = z.object({ name: z.string(), status: z.enum(["pass", "fail", "skip"]), detail: z.string(), fix: z.string().optional() });
const DeployOutput = z.object({ deployment: Summary, changes: z.record(z.string(), z.number()), checks: z.array(Check).optional() });

export const deployServer = defineTool({
  name: "deploy_server",
  title: "Deploy a Velociraptor server",
  description:
    "Create or update a Velociraptor server deployment with Pulumi: target docker | ssh | aws | azure | kubernetes, a profile (minimal, rapid, standard, enterprise), overrides, tags and case. preview_only=true shows what would change. Needs the Pulumi CLI; progress is reported while resources are created. State persists under ~/.megaraptor/pulumi.",
  input: z.object({ ...DeployInput, preview_only: z.boolean().default(false) }),
  output: DeployOutput,
  preset: "deploy",
  handler: (args, ctx) => deploy(args as DeployArgs, ctx, args.preview_only),
});

export const previewDeployment = defineTool({
  name: "preview_deployment",
  title: "Preview a deployment",
  description: "What deploy_server would create or change (pulumi preview), without changing anything.",
  input: z.object(DeployInput),
  output: DeployOutput,
  preset: "read-remote",
  handler: (args, ctx) => deploy(args as DeployArgs, ctx, true),
});

export const deployServerDocker = defineTool({
  name: "deploy_server_docker",
  title: "Deploy Velociraptor on Docker",
  description: "Shortcut for deploy_server target=docker (parity): profile (default rapid), server_hostname, ports, memory_limit (e.g. 4g) and cpu_limit.",
  input: z.object({
    deployment_id: DeploymentId,
    profile: z.enum(PROFILE_NAMES).default("rapid"),
    server_hostname: z.string().default("localhost"),
    gui_port: z.number().int().optional(),
    frontend_port: z.number().int().optional(),
    memory_limit: z.string().regex(/^\d+[mg]$/i, { message: "like 512m or 4g" }).optional(),
    cpu_limit: z.string().regex(/^\d+(\.\d+)?$/, { message: "a number of CPUs, e.g. 2" }).optional(),
    case: z.string().optional(),
    skip_preflight: DeployInput.skip_preflight,
    wait_healthy: DeployInput.wait_healthy,
  }),
  output: DeployOutput,
  preset: "deploy",
  handler: (a, ctx) => {
    const mem = a.memory_limit ? Number(a.memory_limit.slice(0, -1)) * (/g$/i.test(a.memory_limit) ? 1024 : 1) : undefined;
    const resources = { ...(mem ? { memoryMb: mem } : {}), ...(a.cpu_limit ? { cpus: Number(a.cpu_limit) } : {}) };
    return deploy({ ...a, target: "docker", overrides: Object.keys(resources).length ? { resources } : undefined }, ctx, false);
  },
});

export const deployServerCloud = defineTool({
  name: "deploy_server_cloud",
  title: "Deploy Velociraptor on AWS or Azure",
  description: "Shortcut for deploy_server target=aws|azure (parity): cloud_provider, profile, region (AWS) or location (Azure), instance_type, server_hostname, admin_cidrs, binary_sha256.",
  input: z.object({
    deployment_id: DeploymentId,
    cloud_provider: z.enum(["aws", "azure"]),
    profile: z.enum(PROFILE_NAMES).default("standard"),
    region: z.string().optional(),
    instance_type: z.string().optional(),
    server_hostname: z.string(),
    admin_cidrs: z.array(z.string()).default([]),
    binary_sha256: z.string(),
    ssh_public_key: z.string().optional().describe("Azure: admin SSH public key"),
    case: z.string().optional(),
    skip_preflight: DeployInput.skip_preflight,
    wait_healthy: DeployInput.wait_healthy,
  }),
  output: DeployOutput,
  preset: "deploy",
  handler: (a, ctx) =>
    deploy(
      {
        ...a,
        target: a.cloud_provider,
        aws: a.cloud_provider === "aws" ? { region: a.region, instanceType: a.instance_type, adminCidrs: a.admin_cidrs } : undefined,
        azure: a.cloud_provider === "azure" ? { location: a.region, vmSize: a.instance_type, adminCidrs: a.admin_cidrs, sshPublicKey: a.ssh_public_key } : undefined,
      },
      ctx,
      false,
    ),
});

export const getDeploymentStatus = defineTool({
  name: "get_deployment_status",
  title: "Deployment status",
  description: "Status, target, profile, last update, resource count and non-secret outputs (URLs, API address) of a deployment.",
  input: z.object({ deployment_id: DeploymentId }),
  output: z.object({ deployment: Summary }),
  preset: "read",
  async handler(a) {
    const r = await requireDeployment(a.deployment_id);
    return { structured: { deployment: summarize(r) }, text: deployText(r) };
  },
});

export const listDeployments = defineTool({
  name: "list_deployments",
  title: "List deployments",
  description: "Deployments managed by Megaraptor (from the Pulumi state, so they survive restarts). Filter by profile, target, tag (key or key=value) and case; include_destroyed shows tombstones.",
  input: z.object({ profile_filter: z.enum(PROFILE_NAMES).optional(), target: z.enum(TARGETS).optional(), tag: z.string().optional(), case: z.string().optional(), include_destroyed: z.boolean().default(false) }),
  output: z.object({ deployments: z.array(Summary) }),
  preset: "read",
  async handler(a) {
    const all = await (await automationEngine()).list();
    const list = filterDeployments(all, { profile: a.profile_filter, target: a.target, tag: a.tag, caseId: a.case, includeDestroyed: a.include_destroyed }).map(summarize);
    return { structured: { deployments: list }, text: list.length ? list.map((d) => `${d.id}: ${d.status} ${d.target}/${d.profile} ${d.hostname}`).join("\n") : "No deployments." };
  },
});

export const destroyDeployment = defineTool({
  name: "destroy_deployment",
  title: "Destroy a deployment",
  description: "Delete every resource of a deployment (pulumi destroy). DESTRUCTIVE: returns a plan and confirm_token first; confirm with the token and the user's reason; needs respond mode. The deployment stays listed as destroyed (include_destroyed).",
  input: z.object({ deployment_id: DeploymentId, confirm: z.boolean().default(false).describe("parity flag; the confirm_token is what authorises"), reason: z.string().max(1000).optional(), confirm_token: z.string().optional() }),
  output: z.object({ deployment: Summary }),
  preset: "destructive",
  async plan(a) {
    const r = await requireDeployment(a.deployment_id);
    return { summary: `Destroy deployment ${r.id} (${r.settings.target}/${r.settings.profile}, ${r.resourceCount ?? "?"} resources) — its datastore goes with it unless the target keeps it`, details: summarize(r) };
  },
  async handler(a, ctx) {
    const r = await (await automationEngine()).destroy(a.deployment_id, { onProgress: progressOf(ctx), signal: ctx.signal });
    return { structured: { deployment: summarize(r) }, text: `Deployment ${r.id} destroyed.`, auditSummary: `destroyed${a.reason ? `: ${a.reason}` : ""}` };
  },
});

export const refreshDeployment = defineTool({
  name: "refresh_deployment",
  title: "Refresh a deployment's state",
  description: "Reconcile the recorded state with what really exists (pulumi refresh); reports drift in the status.",
  input: z.object({ deployment_id: DeploymentId }),
  output: z.object({ deployment: Summary }),
  preset: "deploy",
  async handler(a, ctx) {
    const r = await (await automationEngine()).refresh(a.deployment_id, { onProgress: progressOf(ctx), signal: ctx.signal });
    return { structured: { deployment: summarize(r) }, text: deployText(r) };
  },
});

export const rollbackDeployment = defineTool({
  name: "rollback_deployment",
  title: "Roll a deployment back",
  description: "Re-apply the previous successful settings of a deployment (e.g. after a bad override). Returns a plan and confirm_token first.",
  input: z.object({ deployment_id: DeploymentId, ssh_credential: z.string().optional(), confirm_token: z.string().optional() }),
  output: DeployOutput,
  preset: "disruptive",
  async plan(a) {
    const r = await requireDeployment(a.deployment_id);
    if (!r.previous) throw new InputError("deployment_id", `${a.deployment_id} has no earlier successful settings to return to`, "Only deployments updated at least twice can be rolled back.");
    return { summary: `Re-apply the previous settings of ${a.deployment_id}`, details: { current: r.settings, previous: r.previous } };
  },
  async handler(a, ctx) {
    const r = await requireDeployment(a.deployment_id);
    const up = await (await automationEngine()).up(r.previous!, secretsFor({ sshCredential: a.ssh_credential }), { onProgress: progressOf(ctx), signal: ctx.signal });
    return { structured: { deployment: summarize(up), changes: {} }, text: deployText(up), auditSummary: "rolled back" };
  },
});

export const saveDeploymentTemplate = defineTool({
  name: "save_deployment_template",
  title: "Save a deployment as a template",
  description: "Save a deployment's settings (no secrets, no id) as a named YAML template that others can reuse with deploy_server template=….",
  input: z.object({ deployment_id: DeploymentId, template_name: z.string(), description: z.string().default("") }),
  output: z.object({ path: z.string() }),
  preset: "local-write",
  async handler(a) {
    const r = await requireDeployment(a.deployment_id);
    const path = saveTemplate(a.template_name, r.settings, a.description);
    return { structured: { path }, text: `Template ${a.template_name} saved to ${path}` };
  },
});

export const listDeploymentTemplates = defineTool({
  name: "list_deployment_templates",
  title: "List deployment templates",
  description: "Saved deployment templates (name, target, profile, description).",
  input: z.object({}),
  output: z.object({ templates: z.array(Summary) }),
  preset: "read",
  async handler() {
    const t = listTemplates();
    return { structured: { templates: t }, text: t.map((x) => `${x.name}: ${x.target}/${x.profile} ${x.description}`).join("\n") || "No templates." };
  },
});

export const storeCredential = defineTool({
  name: "store_credential",
  title: "Store a credential",
  description: "Keep an SSH key, password or token encrypted at rest (AES-256-GCM, scrypt-derived key, file 0600) under an alias; deploy tools take the alias. The secret is never shown again.",
  input: z.object({ alias: z.string(), kind: CredentialKind, secret: z.string().min(1), description: z.string().default("") }),
  output: z.object({ alias: z.string(), kind: z.string() }),
  preset: "local-write",
  async handler(a) {
    new CredentialStore().store(a.alias, a.kind, a.secret, a.description);
    return { structured: { alias: a.alias, kind: a.kind }, text: `Stored ${a.kind} as "${a.alias}".` };
  },
});

export const listCredentials = defineTool({
  name: "list_credentials",
  title: "List stored credentials",
  description: "Aliases, kinds and descriptions of stored credentials — never the secrets.",
  input: z.object({}),
  output: z.object({ credentials: z.array(Summary) }),
  preset: "read",
  async handler() {
    const c = new CredentialStore().list();
    return { structured: { credentials: c }, text: c.map((x) => `${x.alias} (${x.kind}) ${x.description}`).join("\n") || "No credentials." };
  },
});

export const deleteCredential = defineTool({
  name: "delete_credential",
  title: "Delete a stored credential",
  description: "Remove a stored credential by alias. Returns a plan and confirm_token first (the secret cannot be recovered).",
  input: z.object({ alias: z.string() }),
  output: z.object({ alias: z.string(), deleted: z.boolean() }),
  preset: "local-delete",
  async plan(a) {
    if (!new CredentialStore().list().some((c) => c.alias === a.alias)) throw new InputError("alias", `no credential named "${a.alias}"`, "List them with list_credentials.");
    return { summary: `Delete the stored credential "${a.alias}" (it cannot be recovered)`, details: { alias: a.alias } };
  },
  async handler(a) {
    const deleted = new CredentialStore().delete(a.alias);
    if (!deleted) throw new InputError("alias", `no credential named "${a.alias}"`, "List them with list_credentials.");
    return { structured: { alias: a.alias, deleted }, text: `Deleted ${a.alias}.` };
  },
});

export const generateGpo = defineTool({
  name: "generate_gpo_package",
  title: "Windows GPO rollout package",
  description: "Write a GPO rollout folder for a deployment: the client config (0600), a startup script and instructions. Files stay on this machine.",
  input: z.object({ deployment_id: DeploymentId, domain_controller: z.string().optional(), labels: z.array(z.string()).optional() }),
  output: z.object({ files: z.array(z.string()) }),
  preset: "local-write",
  async handler(a) {
    const r = await requireDeployment(a.deployment_id);
    const files = generateGpoPackage({ outDir: deploymentDir(a.deployment_id, "gpo"), clientConfigYaml: await secretOutput(a.deployment_id, "clientConfigYaml"), version: r.settings.version ?? DEFAULT_VELOCIRAPTOR_VERSION, domainController: a.domain_controller, labels: a.labels });
    return { structured: { files }, text: `Wrote:\n${files.join("\n")}` };
  },
});

export const generateAnsible = defineTool({
  name: "generate_ansible_playbook",
  title: "Ansible playbook for agents",
  description: "Write an Ansible role and playbook installing the client (Linux, Windows, macOS) with the deployment's client config.",
  input: z.object({ deployment_id: DeploymentId, include_windows: z.boolean().default(true), include_linux: z.boolean().default(true), include_macos: z.boolean().default(false), labels: z.array(z.string()).optional() }),
  output: z.object({ files: z.array(z.string()) }),
  preset: "local-write",
  async handler(a) {
    const r = await requireDeployment(a.deployment_id);
    const files = generateAnsiblePlaybook({ outDir: deploymentDir(a.deployment_id, "ansible"), clientConfigYaml: await secretOutput(a.deployment_id, "clientConfigYaml"), version: r.settings.version ?? DEFAULT_VELOCIRAPTOR_VERSION, include: { linux: a.include_linux, windows: a.include_windows, macos: a.include_macos } });
    return { structured: { files }, text: `Wrote:\n${files.join("\n")}` };
  },
});

export const generateAgentInstaller = defineTool({
  name: "generate_agent_installer",
  title: "Agent installer for one OS",
  description: "Write the client config (0600) and an install script (Linux/macOS) or instructions (Windows MSI) for a deployment. Windows has no push-install tool: use this, generate_gpo_package (domain GPO) or generate_ansible_playbook include_windows=true (ansible.windows over your WinRM inventory).",
  input: z.object({ deployment_id: DeploymentId, os_type: z.enum(["windows", "linux", "macos"]), binary_sha256: z.string().optional().describe("SHA-256 of the client binary (Linux/macOS), to verify the download") }),
  output: z.object({ files: z.array(z.string()) }),
  preset: "local-write",
  async handler(a) {
    const r = await requireDeployment(a.deployment_id);
    const version = r.settings.version ?? DEFAULT_VELOCIRAPTOR_VERSION;
    const dir = deploymentDir(a.deployment_id, `installer-${a.os_type}`);
    const files = [writePrivate(dir, "client.config.yaml", await secretOutput(a.deployment_id, "clientConfigYaml"))];
    if (a.os_type === "windows") {
      files.push(writePrivate(dir, "README.md", `Install velociraptor-v${version}-windows-amd64.msi, then copy client.config.yaml to C:\\Program Files\\Velociraptor\\ and restart the Velociraptor service (or use generate_gpo_package).\n`));
    } else {
      if (!a.binary_sha256) throw new InputError("binary_sha256", "is required for Linux/macOS installers", "Take it from the release's checksums; the script refuses a binary that does not match.");
      const os = a.os_type === "linux" ? "linux" : "darwin";
      // The install script lives beside the SshAgents component, which loads the Pulumi SDK: only this path pays.
      const { installAgentScript } = await import("../../components/agents/ssh-agents.js");
      files.push(writePrivate(dir, "install.sh", `#!/bin/sh\n# usage: sh install.sh < client.config.yaml\n${installAgentScript(os, { url: releaseBinaryUrl(version, os === "linux" ? "linux-amd64" : "darwin-amd64"), sha256: a.binary_sha256 })}\n`));
    }
    return { structured: { files }, text: `Wrote:\n${files.join("\n")}` };
  },
});

export const createOfflineCollector = defineTool({
  name: "create_offline_collector",
  title: "Offline collector spec",
  description:
    "Write a `velociraptor collector` spec for hosts that cannot reach a server: target_os, artifacts (with parameters), optional encryption. The collector is also built when the operator configured a pinned Velociraptor binary (VELOCIRAPTOR_BINARY absolute path + VELOCIRAPTOR_BINARY_SHA256); a `velociraptor` on PATH is never run. Otherwise the answer says how to build it.",
  input: z.object({
    artifacts: z.array(ArtifactName).min(1),
    target_os: z.enum(["windows", "linux", "macos"]),
    parameters: z.record(z.string(), z.record(z.string(), z.string())).optional(),
    encrypt_output: z.boolean().default(false),
    password_credential: z.string().optional().describe("credential alias holding the ZIP password when encrypt_output is set"),
    deployment_id: DeploymentId.optional().describe("write into this deployment's folder (default: the offline-collectors folder)"),
  }),
  output: z.object({ path: z.string(), collector: z.string().optional(), note: z.string() }),
  preset: "local-write",
  async handler(a, ctx) {
    // A configured binary is checked before anything is written: a replaced or unpinned one is an error, not a note.
    const binary = binaryConfigured() ? trustedBinary() : undefined;
    const password = a.encrypt_output ? (a.password_credential ? new CredentialStore().reveal(a.password_credential).secret : undefined) : undefined;
    if (a.encrypt_output && !password) throw new InputError("password_credential", "is required with encrypt_output", "Store the password with store_credential kind=password, then pass its alias.");
    const spec = offlineCollectorSpec({ os: a.target_os === "windows" ? "Windows" : a.target_os === "linux" ? "Linux" : "MacOS", artifacts: Object.fromEntries(a.artifacts.map((n) => [n, a.parameters?.[n] ?? {}])), encryptPassword: password });
    const dir = deploymentDir(a.deployment_id ?? "offline-collectors");
    const stamp = Date.now();
    const path = writePrivate(dir, `collector-${a.target_os}-${stamp}.yaml`, spec);
    const out = join(dir, `collector-${a.target_os}-${stamp}`);
    const build = `velociraptor collector --datastore ${out} ${path}`;
    if (!binary) {
      const note = `Not built: no Velociraptor binary is configured (set VELOCIRAPTOR_BINARY to its absolute path and VELOCIRAPTOR_BINARY_SHA256 to its SHA-256; a velociraptor on PATH is never run). Build it with: ${build}`;
      return { structured: { path, note }, text: `Wrote ${path}. ${note}`, auditSummary: "spec written" };
    }
    const failed = await runTrustedBinary(binary, dir, ["collector", "--datastore", out, path], { timeoutMs: 600_000, signal: ctx.signal });
    const note = failed ? `The spec is written but the build failed: ${failed}. Build it by hand with: ${build}` : `Collector built in ${out} with ${binary.path} (SHA-256 ${binary.sha256}).`;
    return { structured: { path, collector: failed ? undefined : out, note }, text: `Wrote ${path}. ${note}`, auditSummary: failed ? "spec written, build failed" : `built with sha256 ${binary.sha256}` };
  },
});

export const validateDeployment = defineTool({
  name: "validate_deployment",
  title: "Validate a deployment",
  description: "Run the target preflight checks and the health checks (frontend /healthz, GUI, gRPC API with the generated API client) on an existing deployment.",
  input: z.object({ deployment_id: DeploymentId, ssh_credential: z.string().optional() }),
  output: z.object({ healthy: z.boolean(), preflight: z.array(Check), health: z.array(z.object({ name: z.string(), ok: z.boolean(), detail: z.string() })) }),
  preset: "read-remote",
  async handler(a) {
    const r = await requireDeployment(a.deployment_id);
    const pf = r.status === "destroyed" ? [] : (await preflight(r.settings, secretsFor({ sshCredential: a.ssh_credential }))).checks.filter((c) => !c.name.startsWith("port "));
    const h = await checkHealth({ deploymentId: r.id, serverUrl: outputValue(r, "serverUrl"), guiUrl: outputValue(r, "guiUrl"), apiClientYaml: outputValue(r, "apiClientYaml") });
    return {
      structured: { healthy: h.healthy, preflight: pf, health: h.checks },
      text: [...pf.map((c) => `${c.status.toUpperCase()} ${c.name}: ${c.detail}`), ...h.checks.map((c) => `${c.ok ? "OK" : "FAIL"} ${c.name}: ${c.detail}`)].join("\n"),
    };
  },
});

export const deployAgentsSsh = defineTool({
  name: "deploy_agents_ssh",
  title: "Install agents over SSH",
  description: "Install the Velociraptor client with this deployment's config on Linux/macOS hosts over SSH (checksum-verified binary, config 0600, systemd/launchd). Results per host. Use a stored credential alias for the key or password.",
  input: z.object({
    deployment_id: DeploymentId,
    targets: z.array(z.string()).min(1).max(500).describe("host or host:port"),
    username: z.string(),
    ssh_credential: z.string().optional(),
    key_path: z.string().optional().describe("path of a private key file on this machine"),
    target_os: z.enum(["linux", "macos"]).default("linux"),
    port: z.number().int().default(22),
    binary_sha256: z.string().describe("SHA-256 of the client binary"),
    binary_url: z.string().url().optional(),
    install_prefix: z.string().optional().describe("install under this directory (staging); default /"),
    start_service: z.boolean().default(true),
    labels: z.array(z.string()).optional(),
  }),
  output: z.object({ results: z.array(z.object({ host: z.string(), ok: z.boolean(), exitCode: z.number().nullable(), output: z.string() })) }),
  preset: "deploy",
  async handler(a, ctx) {
    const { readFileSync } = await import("node:fs");
    const { installOverSsh } = await import("../../deploy/agents/ssh.js");
    const r = await requireDeployment(a.deployment_id);
    const config = await secretOutput(a.deployment_id, "clientConfigYaml");
    const secrets = secretsFor({ sshCredential: a.ssh_credential });
    const privateKey = (secrets.sshPrivateKey as string | undefined) ?? (a.key_path ? readFileSync(a.key_path, "utf8") : undefined);
    const os = a.target_os === "macos" ? "darwin" : "linux";
    const version = r.settings.version ?? DEFAULT_VELOCIRAPTOR_VERSION;
    const binary = { url: a.binary_url ?? releaseBinaryUrl(version, os === "linux" ? "linux-amd64" : "darwin-amd64"), sha256: a.binary_sha256 };
    const results = [];
    for (const [i, t] of a.targets.entries()) {
      const [host, port] = t.includes(":") ? [t.slice(0, t.lastIndexOf(":")), Number(t.slice(t.lastIndexOf(":") + 1))] : [t, a.port];
      await ctx.progress(i, a.targets.length, `installing on ${host}`);
      results.push(await installOverSsh({ host, port, user: a.username, privateKey, password: secrets.sshPassword as string | undefined, os }, config, binary, { prefix: a.install_prefix, startService: a.start_service }));
    }
    const ok = results.filter((x) => x.ok).length;
    return { structured: { results }, text: `${ok}/${results.length} hosts installed\n${results.map((x) => `${x.ok ? "OK  " : "FAIL"} ${x.host}${x.ok ? "" : `: ${x.output.split("\n").slice(-2).join(" ")}`}`).join("\n")}`, auditSummary: `${ok}/${results.length} hosts` };
  },
});

export const checkAgentDeployment = defineTool({
  name: "check_agent_deployment",
  title: "Check agent enrolment",
  description: "Which endpoints have enrolled with a deployment's server: searches its clients (label or search verbs) through the deployment's own API client.",
  input: z.object({ deployment_id: DeploymentId, client_search: z.string().optional(), labels: z.array(z.string()).optional() }),
  output: z.object({ clients: z.array(Summary), total: z.number() }),
  preset: "read-remote",
  async handler(a) {
    const { parseApiClientYaml } = await import("../../velociraptor/config.js");
    const { VelociraptorClient } = await import("../../velociraptor/client.js");
    const { vqlQuery } = await import("../../velociraptor/query.js");
    const client = VelociraptorClient.fromConfig(parseApiClientYaml(await secretOutput(a.deployment_id, "apiClientYaml"), `deployment ${a.deployment_id}`));
    try {
      const search = a.client_search ?? (a.labels?.length ? `label:${a.labels[0]}` : "all");
      const { rows } = await client.queryAll(vqlQuery("SELECT client_id, os_info.hostname AS hostname, os_info.system AS os, labels, last_seen_at FROM clients(search=Search)", { Search: search }), { maxRows: 10_000 });
      const clients = a.labels?.length ? rows.filter((r) => a.labels!.every((l) => (r.labels as string[]).includes(l))) : rows;
      return { structured: { clients, total: clients.length }, text: `${clients.length} enrolled client(s)\n${clients.map((c) => `${String(c.client_id)} ${String(c.hostname)}`).join("\n")}` };
    } finally {
      client.close();
    }
  },
});

export const rotateCertificates = defineTool({
  name: "rotate_certificates",
  title: "Rotate a deployment's certificates",
  description: "Re-issue the deployment's server, gateway and API certificates under the same CA (certificateRotation + 1) and re-apply; enrolled clients keep working. With rotate_ca also a new CA and client nonce: every enrolled client then needs the new client config. Returns a plan and confirm_token first; confirm with the token and the user's reason.",
  input: z.object({ deployment_id: DeploymentId, rotate_ca: z.boolean().default(false), validity_days: z.number().int().min(1).max(3650).optional(), ssh_credential: z.string().optional(), confirm_token: z.string().optional() }),
  output: DeployOutput,
  preset: "destructive",
  async plan(a) {
    const r = await requireDeployment(a.deployment_id);
    return a.rotate_ca
      ? { summary: `Make a new CA and client nonce for ${a.deployment_id} and re-issue every certificate; every enrolled client must receive the new client config`, details: { rotation: r.settings.certificateRotation + 1, ca_rotation: r.settings.caRotation + 1, validity_days: a.validity_days ?? "profile default" } }
      : { summary: `Re-issue the server, gateway and API certificates of ${a.deployment_id} under the same CA; enrolled clients keep working`, details: { rotation: r.settings.certificateRotation + 1, validity_days: a.validity_days ?? "profile default" } };
  },
  async handler(a, ctx) {
    const r = await requireDeployment(a.deployment_id);
    const overrides = a.validity_days ? { ...r.settings.overrides, tls: { ...((r.settings.overrides.tls as object) ?? {}), certificateValidityDays: a.validity_days } } : r.settings.overrides;
    const next = { ...r.settings, overrides, certificateRotation: r.settings.certificateRotation + 1, caRotation: r.settings.caRotation + (a.rotate_ca ? 1 : 0) };
    const up = await (await automationEngine()).up(next, secretsFor({ sshCredential: a.ssh_credential }), { onProgress: progressOf(ctx), signal: ctx.signal });
    const rollout = a.rotate_ca ? "\nNew CA: roll out the new client config to every endpoint (generate_agent_installer / generate_gpo_package)." : "\nSame CA: enrolled clients keep working; API users need their new api_client.yaml (generate_api_credentials).";
    return { structured: { deployment: summarize(up), changes: {} }, text: `${deployText(up)}${rollout}`, auditSummary: `rotation ${next.certificateRotation}${a.rotate_ca ? `, CA rotation ${next.caRotation}` : ""}` };
  },
});

export const exportDeploymentDocs = defineTool({
  name: "export_deployment_docs",
  title: "Deployment runbook",
  description: "Write a Markdown runbook of a deployment into its folder (~/.megaraptor/deployments/<id>/): what it is, where it runs, how to reach it, how to enrol agents, check health, rotate certificates and destroy it.",
  input: z.object({ deployment_id: DeploymentId, output_path: z.string().min(1).max(1024).optional().describe("file name inside the deployment's folder (default RUNBOOK.md); paths outside it are refused") }),
  output: z.object({ path: z.string() }),
  preset: "local-write",
  async handler(a) {
    const r = await requireDeployment(a.deployment_id);
    const s = summarize(r);
    const md = `# Velociraptor deployment \`${s.id}\`

| | |
|---|---|
| status | ${s.status} (updated ${s.updated_at}) |
| target / profile | ${s.target} / ${s.profile} |
| host name | ${s.hostname} |
| case / owner | ${s.case ?? "—"} / ${s.owner ?? "—"} |
| resources | ${s.resource_count ?? "?"} |

## Endpoints
${Object.entries(s.outputs).filter(([, v]) => v !== "[secret]").map(([k, v]) => `- ${k}: \`${String(v)}\``).join("\n")}

## Operate
- Health: \`validate_deployment deployment_id=${s.id}\` (frontend /healthz, GUI, gRPC API).
- API access: \`pulumi stack output apiClientYaml --show-secrets\` in stack \`${s.id}\`, then \`VELOCIRAPTOR_CONFIG_PATH=api_client.yaml megaraptor mcp\`.
- Agents: \`generate_agent_installer\`, \`generate_gpo_package\`, \`generate_ansible_playbook\` or \`deploy_agents_ssh\`; check with \`check_agent_deployment\`.
- Certificates: \`rotate_certificates\` (then roll out the new client config).
- Changes: \`preview_deployment\` then \`deploy_server\`; undo with \`rollback_deployment\`.
- Remove: \`destroy_deployment deployment_id=${s.id}\` (plan + confirmation; the stack stays listed as destroyed).

## Settings
\`\`\`json
${JSON.stringify(r.settings, null, 2)}
\`\`\`
`;
    // Confined to the deployment's folder: a relative name, or an absolute path that resolves inside it (no '..', no
    // symbolic link out). Anything else is refused naming output_path — this tool never writes elsewhere.
    const path = writePrivate(deploymentDir(a.deployment_id), a.output_path ?? "RUNBOOK.md", md, "output_path");
    return { structured: { path }, text: `Runbook written to ${path}` };
  },
});

export const generateServerConfig = defineTool({
  name: "generate_server_config",
  title: "Write the server config to a file",
  description: "Write a deployment's server.config.yaml (YAML or JSON) to its private folder (0600). It holds the CA and server keys: the content is never returned, only the path.",
  input: z.object({ deployment_id: DeploymentId, output_format: z.enum(["yaml", "json"]).default("yaml") }),
  output: z.object({ path: z.string() }),
  preset: "local-write",
  async handler(a) {
    const r = await requireDeployment(a.deployment_id);
    const yaml = outputValue(r, "serverConfigYaml");
    if (!yaml) throw new InputError("deployment_id", `${a.deployment_id} has no server config output`, "Deploy it first (deploy_server).");
    const { parse } = await import("yaml");
    const content = a.output_format === "json" ? JSON.stringify(parse(yaml), null, 2) : yaml;
    const path = writePrivate(deploymentDir(a.deployment_id), `server.config.${a.output_format}`, content);
    return { structured: { path }, text: `Server config written to ${path} (0600; it contains private keys).` };
  },
});

export const generateApiCredentials = defineTool({
  name: "generate_api_credentials",
  title: "Issue API credentials",
  description: "Add an API user (certificate signed by the deployment's CA) by re-applying the deployment, then write its api_client.yaml (0600) to the deployment folder. The deployment creates the user with its roles on the server before the server's next start (SSH and Docker restart it on the change). The acl grant command is returned for servers Megaraptor does not manage.",
  input: z.object({ deployment_id: DeploymentId, client_name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/).default("megaraptor_api"), roles: z.array(z.enum(VELOCIRAPTOR_ROLES)).min(1).default(["api", "investigator"]), ssh_credential: z.string().optional() }),
  output: z.object({ path: z.string(), grant_command: z.string() }),
  preset: "deploy",
  async handler(a, ctx) {
    const r = await requireDeployment(a.deployment_id);
    const users = [...(r.settings.apiUsers ?? [{ name: "megaraptor", roles: ["api", "investigator"] }]).filter((u) => u.name !== a.client_name), { name: a.client_name, roles: a.roles }];
    const up = await (await automationEngine()).up({ ...r.settings, apiUsers: users }, secretsFor({ sshCredential: a.ssh_credential }), { onProgress: progressOf(ctx), signal: ctx.signal });
    const all = up.outputs?.apiClientYamls?.value as Record<string, string> | undefined;
    const yaml = all?.[a.client_name];
    if (!yaml) throw new InputError("client_name", `the deployment did not produce credentials for ${a.client_name}`, "Check get_deployment_status and retry.");
    const path = writePrivate(deploymentDir(a.deployment_id), `api_client.${a.client_name}.yaml`, yaml);
    const grant = `velociraptor --config server.config.yaml acl grant ${a.client_name} --role ${a.roles.join(",")}`;
    return { structured: { path, grant_command: grant }, text: `api_client.yaml for ${a.client_name}: ${path}\nThe deployment creates ${a.client_name} with roles ${a.roles.join(",")} before the server starts (components/common/users.ts). A server not managed by Megaraptor needs: ${grant}` };
  },
});

export const deploymentTools = [
  generateServerConfig,
  generateApiCredentials,
  deployAgentsSsh,
  checkAgentDeployment,
  rotateCertificates,
  exportDeploymentDocs,
  validateDeployment,
  deployServer, previewDeployment, deployServerDocker, deployServerCloud, getDeploymentStatus, listDeployments, destroyDeployment,
  refreshDeployment, rollbackDeployment, saveDeploymentTemplate, listDeploymentTemplates, storeCredential, listCredentials,
  deleteCredential, generateGpo, generateAnsible, generateAgentInstaller, createOfflineCollector,
];
