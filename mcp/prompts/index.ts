/**
 * Investigation and deployment playbooks as MCP prompts. Each names the tools to call in order, the artifacts to
 * collect per OS (only real built-ins, see known-artifacts.ts), and what to look for.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { z } from "zod";

export interface PromptDef {
  name: string;
  title: string;
  description: string;
  args: Record<string, z.ZodOptional<z.ZodString> | z.ZodString>;
  render(a: Record<string, string | undefined>): string;
}

const triageArtifacts = `Windows: Windows.System.Pslist, Windows.Network.NetstatEnriched, Windows.System.Services, Windows.System.TaskScheduler, Windows.Sys.StartupItems, Windows.Forensics.Prefetch.
Linux: Linux.Sys.Pslist, Linux.Network.Netstat, Linux.Sys.Crontab, Linux.Sys.BashHistory, Linux.Sys.LastUserLogin, Linux.Ssh.AuthorizedKeys.
macOS: Generic.System.Pstree, Generic.Client.Info.`;

export const PROMPTS: PromptDef[] = [
  {
    name: "investigate_endpoint",
    title: "Investigate one endpoint",
    description: "Step-by-step investigation of a single client",
    args: { client_id: z.string().describe("client id, e.g. C.1a2b3c4d5e6f7a01") },
    render: (a) => `Investigate Velociraptor client ${a.client_id}.
1. get_client_info client_id=${a.client_id}: note OS, hostname, last_seen (stale > 1 day means results will wait), labels.
2. list_flows client_id=${a.client_id}: reuse recent collections before scheduling new ones.
3. quick_triage client_id=${a.client_id}: one flow with the OS bundle; read the notable rows first (each has its reasons). If the server lacks some artifacts, it says which; collect_artifact wait=true covers the rest:
${triageArtifacts}
4. get_flow_results per artifact (page with next_cursor; coverage "truncated" means there is more). Look for: processes running from temp/user folders, unsigned or oddly named binaries (svch0st.exe), encoded PowerShell, connections to public IPs on unusual ports, services/tasks created recently, new local users.
5. generate_timeline client_id=${a.client_id} to order what happened; extract_iocs client_id=${a.client_id} for the indicators (then correlate to see which other clients have them).
6. Record findings with evidence (flow id, row). Do not quarantine without the user's go-ahead: quarantine_client returns a plan to show them first.`,
  },
  {
    name: "threat_hunt",
    title: "Hunt for indicators across the fleet",
    description: "Turn indicators into a scoped, paused hunt and review results",
    args: { indicators: z.string().describe("hashes, IPs, domains, file names, comma separated"), hunt_type: z.string().optional().describe("process | network | file | persistence") },
    render: (a) => `Hunt for: ${a.indicators} (type: ${a.hunt_type ?? "any"}).
1. Pick artifacts by type — process: Windows.System.Pslist, Linux.Sys.Pslist; network: Windows.Network.NetstatEnriched, Linux.Network.Netstat; file: Generic.Detection.Yara.Glob, Windows.NTFS.MFT; persistence: Windows.System.Services, Windows.System.TaskScheduler, Linux.Sys.Crontab.
2. get_artifact for each to set parameters; never put indicator text into VQL — pass it as parameters.
3. create_hunt (it is created PAUSED and shows how many clients match); narrow with include_labels / os_filter if the scope is large.
4. Confirm with the user, then modify_hunt action=start (returns a plan + confirm_token; repeat with the token once they approve).
5. get_hunt_results page by page; stack_results groups values rarest first. Coverage "provisional" means clients are still reporting.
6. correlate hunt_ids=[…] indicators=[…] (or client_ids=[…], or label=…) gives the host × indicator matrix with first-seen times; extract_iocs on the hits finds the next indicators to hunt. Read the caveats: failed or cancelled flows are listed there, not dropped.`,
  },
  {
    name: "triage_incident",
    title: "Triage an incident on a host",
    description: "First-hour triage for a reported incident",
    args: { client_id: z.string(), incident_type: z.string().optional().describe("ransomware | malware | intrusion | insider") },
    render: (a) => `Triage ${a.incident_type ?? "an incident"} on ${a.client_id}.
1. get_client_info; confirm the host and OS with the user.
2. quick_triage (one flow, notable rows first), then collect_template with the scenario template (list_collection_templates: ransomware, malware, lateral-movement, persistence, credential-theft, insider-exfiltration, …); bundles by OS:
${triageArtifacts}
3. ${a.incident_type === "ransomware" ? "Look for mass file renames in Windows.NTFS.MFT, vssadmin/wbadmin in process command lines, new services." : "Look for unusual parents (Office → PowerShell), persistence, outbound connections."}
4. generate_timeline for the host; extract_iocs; correlate the indicators across the fleet.
5. Summarise: what happened, since when (earliest timestamp), which accounts, which hosts it talked to; generate_report with a case_id (and client_ids, a label or hunt_ids for every host involved) keeps it with the evidence.
6. If containment is needed, propose quarantine_client; it returns a plan and confirm_token that the user must approve. Removal (remediate_file, kill_process, remove_persistence) needs respond mode: run it with dry_run=true first and show the result; the real call returns a plan and confirm_token — repeat it with the token and the user's reason only after they approve. Every change is in list_changes and can often be undone with rollback_change (same plan → confirm).`,
  },
  {
    name: "malware_analysis",
    title: "Analyse suspected malware on a host",
    description: "Find, characterise and scope a suspicious binary",
    args: { client_id: z.string(), target: z.string().optional().describe("process name, path or hash") },
    render: (a) => `Analyse ${a.target ?? "suspicious binaries"} on ${a.client_id}.
1. collect_artifact Windows.System.Pslist (or Linux.Sys.Pslist) wait=true; find the process, its parent, command line, hash.
2. Windows.Detection.Amcache and Windows.Forensics.Prefetch: first execution time and run count.
3. Windows.Network.NetstatEnriched: its connections.
4. Windows.Detection.Yara.Process if you have a rule.
5. Scope: correlate pivot=process_hash over a process hunt, or threat_hunt with the hash across the fleet (create_hunt, paused).
6. With the user's approval and respond mode: remediate_file action=quarantine with expected_sha256 (dry_run=true first), then kill_process.`,
  },
  {
    name: "lateral_movement",
    title: "Look for lateral movement",
    description: "Trace remote logons and remote execution across hosts",
    args: { scope: z.string().optional().describe("label or search for the hosts in scope"), timeframe: z.string().optional() },
    render: (a) => `Look for lateral movement in ${a.scope ?? "the fleet"} during ${a.timeframe ?? "the incident window"}.
1. list_clients search=${a.scope ?? "all"} to size the scope.
2. Windows: hunt Windows.EventLogs.RDPAuth and Windows.EventLogs.EvtxHunter (logon types 3 and 10, 4624/4648), Windows.System.Services (PsExec-like services). Linux: Linux.Syslog.SSHLogin, Linux.Ssh.AuthorizedKeys.
3. Build the source → destination graph from the results; note accounts used on many hosts.`,
  },
  {
    name: "rapid_ir_deployment",
    title: "Stand up Velociraptor quickly for an incident",
    description: "Deploy a short-lived server and enrol endpoints",
    args: { target_count: z.string().optional(), environment: z.string().optional().describe("docker | aws | azure | kubernetes | ssh") },
    render: (a) => `Rapid IR deployment for about ${a.target_count ?? "?"} endpoints on ${a.environment ?? "docker"}.
1. preview_deployment with profile rapid (self-signed, short certificate validity, auto-expiry tag).
2. deploy_server; wait for health; note the API client credentials (stored, never shown in full).
3. generate_agent_installer or deploy_agents_ssh for the endpoints; check_agent_deployment until they enrol (list_clients).
4. Start with investigate_endpoint on the first suspicious host. Destroy with destroy_deployment when done (plan + confirm_token, then the token and the user's reason).`,
  },
  {
    name: "deploy_and_triage",
    title: "Deploy and triage in one go",
    description: "Deploy, enrol affected systems, triage them",
    args: { incident_type: z.string().optional(), affected_systems: z.string().optional() },
    render: (a) => `Deploy Velociraptor and triage ${a.affected_systems ?? "the affected systems"} (${a.incident_type ?? "incident"}).
1. Follow rapid_ir_deployment.
2. For each enrolled system: triage_incident.
3. Scope with threat_hunt using the indicators found.`,
  },
  {
    name: "offline_collection_kit",
    title: "Build an offline collector",
    description: "Collect from hosts that cannot reach a server",
    args: { target_os: z.string().describe("windows | linux | macos"), collection_type: z.string().optional().describe("triage | full") },
    render: (a) => `Build an offline collector for ${a.target_os} (${a.collection_type ?? "triage"}).
1. create_offline_collector with artifacts: ${a.target_os === "windows" ? "Windows.KapeFiles.Targets, Windows.System.Pslist, Windows.Network.NetstatEnriched" : "Linux.Sys.Pslist, Linux.Network.Netstat, Linux.Sys.BashHistory"}; encrypt the output.
2. Ship the binary; run it as administrator/root; collect the ZIP.
3. Import the ZIP on the server and read results with get_flow_results.`,
  },
  {
    name: "deploy_velociraptor",
    title: "Deploy Velociraptor",
    description: "Choose a target and profile and deploy",
    args: { target: z.string().optional(), profile: z.string().optional() },
    render: (a) => `Deploy Velociraptor to ${a.target ?? "docker"} with profile ${a.profile ?? "standard"}.
1. Profiles: minimal (lab), rapid (incident, expires), standard (production, one site), enterprise (multi-frontend, monitoring).
2. preview_deployment first; read the plan with the user.
3. deploy_server; then get_deployment_status and validate_deployment.
4. generate_api_credentials for analysts with the least role they need.`,
  },
  {
    name: "scale_deployment",
    title: "Scale a deployment",
    description: "Grow a deployment for more endpoints",
    args: { deployment_id: z.string(), target_clients: z.string().optional() },
    render: (a) => `Scale ${a.deployment_id} to ${a.target_clients ?? "more"} clients.
1. get_deployment_status: current profile, resources, client count (list_clients).
2. Standard handles a few thousand clients per frontend; beyond that use enterprise (extra frontends, Kubernetes minions).
3. preview_deployment with the new profile/overrides, then deploy_server on the same deployment id; validate_deployment afterwards.`,
  },
  {
    name: "troubleshoot_deployment",
    title: "Troubleshoot a deployment",
    description: "Find why a server or its clients misbehave",
    args: { deployment_id: z.string(), symptom: z.string().optional() },
    render: (a) => `Troubleshoot ${a.deployment_id}${a.symptom ? ` (${a.symptom})` : ""}.
1. validate_deployment: health of frontend /healthz, API Check, GUI.
2. get_server_info: version, your roles; PERMISSION_DENIED means the API key lacks a role.
3. Clients not enrolling: check the client config's server_urls and that port 8000 is reachable; list_clients search=recent:.
4. TLS errors name their fix (wrong CA, name mismatch, expired): rotate_certificates if certificates expired.`,
  },
];

export function registerPrompts(server: McpServer): void {
  for (const p of PROMPTS) {
    server.registerPrompt(p.name, { title: p.title, description: p.description, argsSchema: p.args }, (args: Record<string, string | undefined>) => ({
      description: p.description,
      messages: [{ role: "user", content: { type: "text", text: p.render(args) } }],
    }));
  }
}
