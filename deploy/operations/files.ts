/**
 * Files generated for a deployment, written owner-only to its private folder: the server config, API credentials,
 * agent rollout packages (GPO, Ansible, per-OS installer), offline collector specs and the runbook. Paths are
 * returned, never the keys inside.
 */
import { join } from "node:path";
import { generateAnsiblePlaybook, generateGpoPackage, offlineCollectorSpec } from "../../components/agents/generators.js";
import { DEFAULT_VELOCIRAPTOR_VERSION, releaseBinaryUrl } from "../../components/versions.js";
import { InputError } from "../../core/errors.js";
import { CredentialStore } from "../credentials/index.js";
import { binaryConfigured, runTrustedBinary, trustedBinary } from "./velociraptor-binary.js";
import { deploymentDir, outputValue, requireDeployment, secretOutput, summarize, writePrivate } from "./index.js";

export async function writeServerConfig(id: string, format: "yaml" | "json"): Promise<string> {
  const r = await requireDeployment(id);
  const yaml = outputValue(r, "serverConfigYaml");
  if (!yaml) throw new InputError("deployment_id", `${id} has no server config output`, "Deploy it first (deploy_server).");
  const { parse } = await import("yaml");
  const content = format === "json" ? JSON.stringify(parse(yaml), null, 2) : yaml;
  return writePrivate(deploymentDir(id), `server.config.${format}`, content);
}

export function writeApiClient(id: string, clientName: string, yaml: string): string {
  return writePrivate(deploymentDir(id), `api_client.${clientName}.yaml`, yaml);
}

export async function writeGpoPackage(id: string, o: { domainController?: string; labels?: string[] }): Promise<string[]> {
  const r = await requireDeployment(id);
  return generateGpoPackage({ outDir: deploymentDir(id, "gpo"), clientConfigYaml: await secretOutput(id, "clientConfigYaml"), version: r.settings.version ?? DEFAULT_VELOCIRAPTOR_VERSION, domainController: o.domainController, labels: o.labels });
}

export async function writeAnsiblePlaybook(id: string, include: { linux: boolean; windows: boolean; macos: boolean }): Promise<string[]> {
  const r = await requireDeployment(id);
  return generateAnsiblePlaybook({ outDir: deploymentDir(id, "ansible"), clientConfigYaml: await secretOutput(id, "clientConfigYaml"), version: r.settings.version ?? DEFAULT_VELOCIRAPTOR_VERSION, include });
}

export async function writeAgentInstaller(id: string, os: "windows" | "linux" | "macos", binarySha256?: string): Promise<string[]> {
  const r = await requireDeployment(id);
  const version = r.settings.version ?? DEFAULT_VELOCIRAPTOR_VERSION;
  const dir = deploymentDir(id, `installer-${os}`);
  const files = [writePrivate(dir, "client.config.yaml", await secretOutput(id, "clientConfigYaml"))];
  if (os === "windows") {
    files.push(writePrivate(dir, "README.md", `Install velociraptor-v${version}-windows-amd64.msi, then copy client.config.yaml to C:\\Program Files\\Velociraptor\\ and restart the Velociraptor service (or use generate_gpo_package).\n`));
    return files;
  }
  if (!binarySha256) throw new InputError("binary_sha256", "is required for Linux/macOS installers", "Take it from the release's checksums; the script refuses a binary that does not match.");
  const platform = os === "linux" ? "linux" : "darwin";
  // The install script lives beside the SshAgents component, which loads the Pulumi SDK: only this path pays.
  const { installAgentScript } = await import("../../components/agents/ssh-agents.js");
  files.push(writePrivate(dir, "install.sh", `#!/bin/sh\n# usage: sh install.sh < client.config.yaml\n${installAgentScript(platform, { url: releaseBinaryUrl(version, platform === "linux" ? "linux-amd64" : "darwin-amd64"), sha256: binarySha256 })}\n`));
  return files;
}

export interface CollectorRequest {
  artifacts: string[];
  target_os: "windows" | "linux" | "macos";
  parameters?: Record<string, Record<string, string>>;
  encrypt_output: boolean;
  password_credential?: string;
  deployment_id?: string;
}

/**
 * Writes the collector spec and, when the operator configured a pinned Velociraptor binary, builds it with that
 * binary's private copy (deploy/operations/velociraptor-binary.ts) — never a `velociraptor` found on PATH.
 */
export async function writeOfflineCollector(a: CollectorRequest, signal?: AbortSignal): Promise<{ path: string; collector?: string; note: string; auditSummary: string }> {
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
    return { path, note, auditSummary: "spec written" };
  }
  const failed = await runTrustedBinary(binary, dir, ["collector", "--datastore", out, path], { timeoutMs: 600_000, signal });
  const note = failed ? `The spec is written but the build failed: ${failed}. Build it by hand with: ${build}` : `Collector built in ${out} with ${binary.path} (SHA-256 ${binary.sha256}).`;
  return { path, collector: failed ? undefined : out, note, auditSummary: failed ? "spec written, build failed" : `built with sha256 ${binary.sha256}` };
}

/** A Markdown runbook: what the deployment is, where it runs, how to reach, check, rotate and destroy it. */
export async function writeRunbook(id: string, outputPath?: string): Promise<string> {
  const r = await requireDeployment(id);
  const s = summarize(r);
  const md = `# Velociraptor deployment \`${s.id}\`

| | |
|---|---|
| status | ${s.status} (updated ${s.updated_at}) |
| target / profile | ${s.target} / ${s.profile} |
| host name | ${s.hostname} |
| case / owner | ${s.case_id ?? "—"} / ${s.owner ?? "—"} |
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
  // symbolic link out). Anything else is refused naming output_path — this never writes elsewhere.
  return writePrivate(deploymentDir(id), outputPath ?? "RUNBOOK.md", md, "output_path");
}
