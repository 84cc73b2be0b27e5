/** `megaraptor deploy | preview | deployments | status | verify | destroy | credentials`: the deploy tools from a shell. */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import type { Tool } from "../../mcp/tools/define.js";
import { runToolCli } from "../run-tool.js";

type DeployTools = typeof import("../../mcp/tools/deploy/index.js");
/** The exports of the deploy tools module that are tool declarations. */
type DeployToolName = { [K in keyof DeployTools]: DeployTools[K] extends Tool ? K : never }[keyof DeployTools];
/** The deploy tools (and through them Pulumi) load only when a deploy subcommand runs, not for --help. */
async function deployTool(name: DeployToolName): Promise<Tool> {
  return (await import("../../mcp/tools/deploy/index.js"))[name];
}

function kv(value: string, prev: Record<string, string>): Record<string, string> {
  const i = value.indexOf("=");
  return i > 0 ? { ...prev, [value.slice(0, i)]: value.slice(i + 1) } : prev;
}

function setPath(value: string, prev: Record<string, unknown>): Record<string, unknown> {
  const i = value.indexOf("=");
  if (i <= 0) return prev;
  const out = structuredClone(prev);
  let cur = out as Record<string, unknown>;
  const keys = value.slice(0, i).split(".");
  for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  const raw = value.slice(i + 1);
  cur[keys.at(-1)!] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === "true" ? true : raw === "false" ? false : raw;
  return out;
}

/**
 * The deploy request's fields as flags: each flag is the field's name (--deployment-id, --case-id, --ssh-host for
 * ssh.host); deployRequest below is the one place they are mapped onto the request deploy_server takes.
 */
function deployOptions(c: Command): Command {
  return c
    .requiredOption("--deployment-id <id>", "deployment id (lowercase, digits, -)")
    .option("--target <target>", "docker | ssh | aws | azure | kubernetes (or the template's)")
    .option("--profile <profile>", "minimal | rapid | standard | enterprise (default standard)")
    .option("--hostname <host>", "name clients and analysts use")
    .option("--template <name>", "start from a saved template")
    .option("--set <path=value>", "profile override, repeatable (e.g. resources.memoryMb=4096)", setPath, {})
    .option("--tag <key=value>", "tag, repeatable", kv, {})
    .option("--case-id <id>", "case the deployment serves")
    .option("--owner <name>", "owner")
    .option("--ssh-host <host>", "ssh target: host")
    .option("--ssh-port <port>", "ssh target: SSH port (default 22)", (v: string) => Number(v))
    .option("--ssh-user <user>", "ssh target: user (default root)")
    .option("--ssh-credential <alias>", "stored credential with the SSH key/password")
    .option("--binary-url <url>", "ssh/aws/azure: http(s) URL of the Velociraptor binary, checked against --binary-sha256")
    .option("--binary-sha256 <hex>", "ssh/aws/azure: SHA-256 of the Velociraptor binary")
    .option("--skip-preflight", "skip target checks")
    .option("--no-wait-healthy", "do not wait for health");
}

const nonEmpty = <T extends object>(o: T): T | undefined => (Object.keys(o).length ? o : undefined);
const defined = (o: Record<string, unknown>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

/** The one mapping from `megaraptor deploy|preview` flags (commander's camelCase keys) to deploy_server's request. */
export function deployRequest(o: Record<string, unknown>) {
  // Binary flags belong to the target's own section; the ssh flags make the ssh section.
  const binary = defined({ binary_url: o.binaryUrl, binary_sha256: o.binarySha256 });
  const ssh = defined({ host: o.sshHost, port: o.sshPort, user: o.sshUser, ...(o.target === "ssh" ? binary : {}) });
  const section = o.target === "ssh" ? nonEmpty(ssh) : o.target === "aws" || o.target === "azure" ? nonEmpty(binary) : undefined;
  return {
    deployment_id: o.deploymentId,
    target: o.target,
    profile: o.profile,
    hostname: o.hostname,
    template: o.template,
    overrides: nonEmpty(o.set as object),
    tags: nonEmpty(o.tag as object),
    case_id: o.caseId,
    owner: o.owner,
    ...(typeof o.target === "string" && section ? { [o.target]: section } : {}),
    ssh_credential: o.sshCredential,
    skip_preflight: !!o.skipPreflight,
    wait_healthy: o.waitHealthy !== false,
  };
}

export function register(program: Command): void {
  deployOptions(program.command("deploy").description("Create or update a Velociraptor deployment (Pulumi)")).action(async (o) => runToolCli(await deployTool("deployServer"), deployRequest(o)));
  deployOptions(program.command("preview").description("Preflight checks and what a deployment would change")).action(async (o) => {
    const { wait_healthy: _w, ...a } = deployRequest(o);
    return runToolCli(await deployTool("previewDeployment"), a);
  });
  program
    .command("deployments")
    .description("List deployments (from the Pulumi state)")
    .option("--all", "include destroyed")
    .option("--case-id <id>")
    .option("--target <target>")
    .option("--profile <profile>")
    .action(async (o) => runToolCli(await deployTool("listDeployments"), { include_destroyed: !!o.all, case_id: o.caseId, target: o.target, profile_filter: o.profile }, { json: false }));
  program.command("status").argument("<deployment-id>").description("Status and outputs of a deployment").action(async (id: string) => runToolCli(await deployTool("getDeploymentStatus"), { deployment_id: id }));
  program.command("verify").argument("<deployment-id>").description("Preflight and health checks of a deployment").action(async (id: string) => runToolCli(await deployTool("validateDeployment"), { deployment_id: id }, { json: false }));
  program
    .command("destroy")
    .argument("<deployment-id>")
    .description("Destroy a deployment (shows the plan; --yes to proceed)")
    .option("--reason <text>", "why (required with --yes; recorded in the audit log)")
    .option("--yes", "confirm")
    .action(async (id: string, o: { reason?: string; yes?: boolean }) => runToolCli(await deployTool("destroyDeployment"), { deployment_id: id, reason: o.reason }, { yes: o.yes, reason: o.reason }));
  const cred = program.command("credentials").description("Encrypted credentials for deploy tools");
  cred
    .command("store")
    .argument("<alias>")
    .requiredOption("--kind <kind>", "ssh_private_key | password | token | cloud_secret")
    .option("--file <path>", "read the secret from a file (default: stdin)")
    .option("--description <text>", "", "")
    .action(async (alias: string, o: { kind: string; file?: string; description: string }) =>
      runToolCli(await deployTool("storeCredential"), { alias, kind: o.kind, secret: readFileSync(o.file ?? 0, "utf8").replace(/\n$/, o.kind === "ssh_private_key" ? "\n" : ""), description: o.description }, { json: false }),
    );
  cred.command("list").action(async () => runToolCli(await deployTool("listCredentials"), {}, { json: false }));
  cred
    .command("delete")
    .argument("<alias>")
    .option("--yes", "confirm (the secret cannot be recovered)")
    .action(async (alias: string, o: { yes?: boolean }) => runToolCli(await deployTool("deleteCredential"), { alias }, { json: false, yes: o.yes }));
}
