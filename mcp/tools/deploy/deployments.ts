/**
 * Deployment tools: deploy, preview, status, list, destroy, refresh, roll back, rotate certificates, validate. Each
 * is its schema, its safety preset and one call into deploy/operations.
 */
import { z } from "zod";
import { DeploymentId } from "../../../deploy/request/base.js";
import { deploy, previewDeployment as preview, validateDeployment as validate, type DeployResult, type PreviewResult } from "../../../deploy/operations/deploy.js";
import { automationEngine, filterDeployments, requireDeployment, summarize } from "../../../deploy/operations/index.js";
import { destroyDeployment as destroy, destroyPlan, refreshDeployment as refresh, rollbackDeployment as rollback, rollbackPlan, rotateCertificates as rotate, rotationPlan } from "../../../deploy/operations/lifecycle.js";
import { DEFAULT_PROFILE, DeployRequestSchema, TargetSchema } from "../../../deploy/request/index.js";
import { CloudShortcutSchema, cloudShortcutRequest, DockerShortcutSchema, dockerShortcutRequest } from "../../../deploy/request/shortcuts.js";
import { TARGET_NAMES } from "../../../deploy/targets/index.js";
import { PROFILE_NAMES } from "../../../profiles/schema.js";
import { defineTool } from "../define.js";
import { Check, checkLines, DeployOutput, deployText, hooksOf, Summary } from "./common.js";

const TARGETS = TARGET_NAMES.join(" | ");

function deployedResult(r: DeployResult) {
  return { structured: { deployment: summarize(r.record), changes: {}, checks: r.checks }, text: deployText(r.record), auditSummary: `${r.record.status} ${r.settings.target}/${r.settings.profile}` };
}

function previewedResult(r: PreviewResult) {
  const s = r.settings;
  return { structured: { deployment: { id: s.deployment_id, status: "previewed", target: s.target, profile: s.profile }, changes: r.changes, checks: r.checks }, text: `Preview of ${r.settings.deployment_id}: ${JSON.stringify(r.changes)}\n${checkLines(r.checks)}`, auditSummary: "preview" };
}

export const deployServer = defineTool({
  name: "deploy_server",
  title: "Deploy a Velociraptor server",
  description: `Create or update a Velociraptor server deployment with Pulumi: target ${TARGETS} (its settings under the target's name, e.g. ssh: {host, port, user, binary_url, binary_sha256}), a profile (minimal, rapid, standard, enterprise; default ${DEFAULT_PROFILE}), overrides, tags and case_id. preview_only=true shows what would change. Needs the Pulumi CLI; progress is reported while resources are created. State persists under ~/.megaraptor/pulumi.`,
  input: DeployRequestSchema.extend({ preview_only: z.boolean().default(false) }),
  output: DeployOutput,
  preset: "deploy",
  async handler({ preview_only, ...request }, ctx) {
    if (preview_only) return previewedResult(await preview(request, hooksOf(ctx)));
    return deployedResult(await deploy(request, hooksOf(ctx)));
  },
});

export const previewDeployment = defineTool({
  name: "preview_deployment",
  title: "Preview a deployment",
  description: "What deploy_server would create or change (pulumi preview), without changing anything.",
  input: DeployRequestSchema,
  output: DeployOutput,
  preset: "read-remote",
  handler: async (request, ctx) => previewedResult(await preview(request, hooksOf(ctx))),
});

export const deployServerDocker = defineTool({
  name: "deploy_server_docker",
  title: "Deploy Velociraptor on Docker",
  description: `Shortcut for deploy_server target=docker (parity): profile (default ${DEFAULT_PROFILE}), hostname, ports, memory_limit (e.g. 4g) and cpu_limit.`,
  input: DockerShortcutSchema,
  output: DeployOutput,
  preset: "deploy",
  handler: async (a, ctx) => deployedResult(await deploy(dockerShortcutRequest(a), hooksOf(ctx))),
});

export const deployServerCloud = defineTool({
  name: "deploy_server_cloud",
  title: "Deploy Velociraptor on AWS or Azure",
  description: "Shortcut for deploy_server target=aws|azure (parity): cloud_provider, profile, region (AWS) or location (Azure), instance_type, hostname, admin_cidrs, binary_sha256.",
  input: CloudShortcutSchema,
  output: DeployOutput,
  preset: "deploy",
  handler: async (a, ctx) => deployedResult(await deploy(cloudShortcutRequest(a), hooksOf(ctx))),
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
  description: "Deployments managed by Megaraptor (from the Pulumi state, so they survive restarts). Filter by profile, target, tag (key or key=value) and case_id; include_destroyed shows tombstones.",
  input: z.object({ profile_filter: z.enum(PROFILE_NAMES).optional(), target: TargetSchema.optional(), tag: z.string().optional(), case_id: z.string().optional(), include_destroyed: z.boolean().default(false) }),
  output: z.object({ deployments: z.array(Summary) }),
  preset: "read",
  async handler(a) {
    const all = await (await automationEngine()).list();
    const list = filterDeployments(all, { profile: a.profile_filter, target: a.target, tag: a.tag, case_id: a.case_id, includeDestroyed: a.include_destroyed }).map(summarize);
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
  plan: (a) => destroyPlan(a.deployment_id),
  async handler(a, ctx) {
    const r = await destroy(a.deployment_id, hooksOf(ctx));
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
    const r = await refresh(a.deployment_id, hooksOf(ctx));
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
  plan: (a) => rollbackPlan(a.deployment_id),
  async handler(a, ctx) {
    const up = await rollback(a.deployment_id, { sshCredential: a.ssh_credential }, hooksOf(ctx));
    return { structured: { deployment: summarize(up), changes: {} }, text: deployText(up), auditSummary: "rolled back" };
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
    const v = await validate(a.deployment_id, { sshCredential: a.ssh_credential });
    return {
      structured: v,
      text: [...v.preflight.map((c) => `${c.status.toUpperCase()} ${c.name}: ${c.detail}`), ...v.health.map((c) => `${c.ok ? "OK" : "FAIL"} ${c.name}: ${c.detail}`)].join("\n"),
    };
  },
});

export const rotateCertificates = defineTool({
  name: "rotate_certificates",
  title: "Rotate a deployment's certificates",
  description: "Re-issue the deployment's server, gateway and API certificates under the same CA (certificate_rotation + 1) and re-apply; enrolled clients keep working. With rotate_ca also a new CA and client nonce: every enrolled client then needs the new client config. Returns a plan and confirm_token first; confirm with the token and the user's reason.",
  input: z.object({ deployment_id: DeploymentId, rotate_ca: z.boolean().default(false), validity_days: z.number().int().min(1).max(3650).optional(), ssh_credential: z.string().optional(), confirm_token: z.string().optional() }),
  output: DeployOutput,
  preset: "destructive",
  plan: (a) => rotationPlan(a.deployment_id, a),
  async handler(a, ctx) {
    const { record, settings } = await rotate(a.deployment_id, { ...a, sshCredential: a.ssh_credential }, hooksOf(ctx));
    const rollout = a.rotate_ca ? "\nNew CA: roll out the new client config to every endpoint (generate_agent_installer / generate_gpo_package)." : "\nSame CA: enrolled clients keep working; API users need their new api_client.yaml (generate_api_credentials).";
    return { structured: { deployment: summarize(record), changes: {} }, text: `${deployText(record)}${rollout}`, auditSummary: `rotation ${settings.certificate_rotation}${a.rotate_ca ? `, CA rotation ${settings.ca_rotation}` : ""}` };
  },
});
