/**
 * Agent rollout tools: install over SSH, check enrolment, and the rollout packages (GPO, Ansible, installer, collector).
 * Windows has no push-install tool (no maintained WS-Management client for Node.js): the GPO package, the MSI
 * installer notes and the Ansible playbook cover it.
 */
import { z } from "zod";
import { DeploymentId } from "../../../deploy/request/base.js";
import { enrolledClients, installAgentsOverSsh } from "../../../deploy/operations/agents.js";
import { writeAgentInstaller, writeAnsiblePlaybook, writeGpoPackage, writeOfflineCollector } from "../../../deploy/operations/files.js";
import { defineTool } from "../define.js";
import { ArtifactName } from "../ids.js";
import { hooksOf, Summary } from "./common.js";

export const deployAgentsSsh = defineTool({
  name: "deploy_agents_ssh",
  title: "Install agents over SSH",
  description: "Install the Velociraptor client with this deployment's config on Linux/macOS hosts over SSH (checksum-verified binary, config 0600, systemd/launchd). Results per host. Use a stored credential alias for the key or password.",
  input: z.object({
    deployment_id: DeploymentId,
    targets: z.array(z.string()).min(1).max(500).describe("host or host:port"),
    username: z.string(),
    ssh_credential: z.string().optional(),
    key_path: z.string().optional().describe("absolute path of a private key file on this machine, mode 0600"),
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
    const results = await installAgentsOverSsh(a, hooksOf(ctx));
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
    const clients = await enrolledClients(a.deployment_id, { clientSearch: a.client_search, labels: a.labels });
    return { structured: { clients, total: clients.length }, text: `${clients.length} enrolled client(s)\n${clients.map((c) => `${String(c.client_id)} ${String(c.hostname)}`).join("\n")}` };
  },
});

const wrote = (files: string[]) => ({ structured: { files }, text: `Wrote:\n${files.join("\n")}` });

export const generateGpo = defineTool({
  name: "generate_gpo_package",
  title: "Windows GPO rollout package",
  description: "Write a GPO rollout folder for a deployment: the client config (0600), a startup script and instructions. Files stay on this machine.",
  input: z.object({ deployment_id: DeploymentId, domain_controller: z.string().optional(), labels: z.array(z.string()).optional() }),
  output: z.object({ files: z.array(z.string()) }),
  preset: "local-write",
  handler: async (a) => wrote(await writeGpoPackage(a.deployment_id, { domainController: a.domain_controller, labels: a.labels })),
});

export const generateAnsible = defineTool({
  name: "generate_ansible_playbook",
  title: "Ansible playbook for agents",
  description: "Write an Ansible role and playbook installing the client (Linux, Windows, macOS) with the deployment's client config.",
  input: z.object({ deployment_id: DeploymentId, include_windows: z.boolean().default(true), include_linux: z.boolean().default(true), include_macos: z.boolean().default(false), labels: z.array(z.string()).optional() }),
  output: z.object({ files: z.array(z.string()) }),
  preset: "local-write",
  handler: async (a) => wrote(await writeAnsiblePlaybook(a.deployment_id, { linux: a.include_linux, windows: a.include_windows, macos: a.include_macos })),
});

export const generateAgentInstaller = defineTool({
  name: "generate_agent_installer",
  title: "Agent installer for one OS",
  description: "Write the client config (0600) and an install script (Linux/macOS) or instructions (Windows MSI) for a deployment. Windows has no push-install tool: use this, generate_gpo_package (domain GPO) or generate_ansible_playbook include_windows=true (ansible.windows over your WinRM inventory).",
  input: z.object({ deployment_id: DeploymentId, os_type: z.enum(["windows", "linux", "macos"]), binary_sha256: z.string().optional().describe("SHA-256 of the client binary (Linux/macOS), to verify the download") }),
  output: z.object({ files: z.array(z.string()) }),
  preset: "local-write",
  handler: async (a) => wrote(await writeAgentInstaller(a.deployment_id, a.os_type, a.binary_sha256)),
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
    const r = await writeOfflineCollector(a, ctx.signal);
    return { structured: { path: r.path, collector: r.collector, note: r.note }, text: `Wrote ${r.path}. ${r.note}`, auditSummary: r.auditSummary };
  },
});
