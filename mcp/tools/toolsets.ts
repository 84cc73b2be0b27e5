/**
 * Toolsets: named groups of tools, so an MCP client lists what its work needs instead of every tool (the full list
 * costs a model's context 25k–30k tokens). Which toolsets an MCP session lists is chosen at start (`--toolsets`,
 * MEGARAPTOR_TOOLSETS; default: the investigation toolsets) and, over stdio, widened at run time with
 * `enable_toolsets` (the server then sends notifications/tools/list_changed). The mode still decides what runs:
 * a toolset never lists a tool above the mode. The CLI (`megaraptor tool`) runs every tool whatever the toolsets.
 *
 * Membership is by tool name in one table; test/mcp/toolsets.test.ts fails when a tool is in no toolset, in two, or
 * a name here is not a tool.
 */
import { InputError } from "../../core/errors.js";

export const TOOLSETS = {
  core: {
    description: "server, orgs, clients, labels, and these toolset tools",
    tools: ["get_server_info", "list_orgs", "find_client", "list_clients", "get_client_info", "label_client", "list_toolsets", "enable_toolsets"],
  },
  collection: {
    description: "artifacts, collections on one or many clients, flows and their results, collection templates, quick triage",
    tools: ["list_artifacts", "get_artifact", "collect_artifact", "list_flows", "get_flow_status", "get_flow_results", "cancel_flow", "list_collection_templates", "collect_template", "collect_bulk", "quick_triage"],
  },
  hunts: {
    description: "hunts across the fleet: create (plan → confirm to start), list, results, modify, from a template",
    tools: ["create_hunt", "list_hunts", "get_hunt_results", "modify_hunt", "hunt_template"],
  },
  vql: {
    description: "run, check and look up VQL (each query classified by what it would change)",
    tools: ["run_vql", "vql_help", "validate_vql"],
  },
  evidence: {
    description: "stacking, exports and uploaded files of flows, kept as evidence with hashes",
    tools: ["stack_results", "export_results", "list_flow_uploads", "download_flow_file", "export_flow"],
  },
  analysis: {
    description: "timelines, IOC extraction, cross-host correlation and case reports",
    tools: ["generate_timeline", "extract_iocs", "correlate", "generate_report"],
  },
  response: {
    description: "containment and remediation on endpoints with a per-case change ledger (respond mode)",
    tools: ["quarantine_client", "remediate_file", "kill_process", "remove_persistence", "list_changes", "rollback_change"],
  },
  deploy: {
    description: "Velociraptor server deployments (SSH, Docker, AWS, Azure) with Pulumi: preview, deploy, status, day-2, destroy; stored credentials and templates",
    tools: [
      "deploy_server",
      "preview_deployment",
      "deploy_server_docker",
      "deploy_server_cloud",
      "get_deployment_status",
      "list_deployments",
      "destroy_deployment",
      "refresh_deployment",
      "rollback_deployment",
      "save_deployment_template",
      "list_deployment_templates",
      "validate_deployment",
      "rotate_certificates",
      "export_deployment_docs",
      "generate_server_config",
      "generate_api_credentials",
      "store_credential",
      "list_credentials",
      "delete_credential",
    ],
  },
  agents: {
    description: "getting agents onto endpoints: SSH rollout, GPO and Ansible packages, installers, offline collectors",
    tools: ["generate_gpo_package", "generate_ansible_playbook", "generate_agent_installer", "create_offline_collector", "deploy_agents_ssh", "check_agent_deployment"],
  },
} as const satisfies Record<string, { description: string; tools: readonly string[] }>;

export type ToolsetName = keyof typeof TOOLSETS;
export const TOOLSET_NAMES = Object.keys(TOOLSETS) as ToolsetName[];

/** What an investigation needs; deployment and agent rollout are asked for when wanted. */
export const DEFAULT_TOOLSETS: readonly ToolsetName[] = ["core", "collection", "hunts", "vql", "evidence", "analysis", "response"];

const byTool = new Map<string, ToolsetName>(TOOLSET_NAMES.flatMap((set) => TOOLSETS[set].tools.map((t) => [t, set] as const)));

/** The toolset a tool belongs to (undefined only for a tool missing from the table, which a test forbids). */
export function toolsetOf(tool: string): ToolsetName | undefined {
  return byTool.get(tool);
}

function isToolset(name: string): name is ToolsetName {
  return Object.hasOwn(TOOLSETS, name);
}

/**
 * Parses `--toolsets` / MEGARAPTOR_TOOLSETS: comma-separated names, `all`, or `default` (combinable, e.g.
 * `default,deploy`). `core` is always included: without it a model could not find out how to ask for more.
 */
export function parseToolsets(spec: string | undefined, field = "--toolsets"): ToolsetName[] {
  const words = (spec ?? "default").split(",").map((w) => w.trim().toLowerCase()).filter(Boolean);
  const out = new Set<ToolsetName>(["core"]);
  for (const w of words.length ? words : ["default"]) {
    if (w === "all") TOOLSET_NAMES.forEach((n) => out.add(n));
    else if (w === "default") DEFAULT_TOOLSETS.forEach((n) => out.add(n));
    else if (isToolset(w)) out.add(w);
    else throw new InputError(field, `"${w}" is not a toolset`, `Use a comma-separated list of: ${TOOLSET_NAMES.join(", ")}, or "default" or "all".`);
  }
  return TOOLSET_NAMES.filter((n) => out.has(n));
}

/** One MCP session's toolsets, handed to the toolset tools through their context. */
export interface ToolsetSession {
  enabled(): readonly ToolsetName[];
  /**
   * false where the list cannot change for the rest of the session: Streamable HTTP here is stateless (a fresh
   * server per request), and the CLI runs every tool anyway.
   */
  readonly dynamic: boolean;
  /** Whether the session's mode lets this tool run (tools above the mode are never listed). */
  allowedInMode(tool: string): boolean;
  /** Enables toolsets and tells the client its tool list changed; returns those that were not enabled before. */
  enable(names: readonly ToolsetName[]): Promise<ToolsetName[]>;
}
