/** `megaraptor deploy | preview | deployments | status | verify | destroy | credentials`: the deploy tools from a shell. */
import type { Command } from "commander";
import { readFileSync } from "node:fs";
import type { Tool } from "../../mcp/tools/define.js";
import { runToolCli } from "../run-tool.js";

type DeployTools = typeof import("../../mcp/tools/deployments.js");
/** The exports of the deploy tools module that are tool declarations. */
type DeployToolName = { [K in keyof DeployTools]: DeployTools[K] extends Tool ? K : never }[keyof DeployTools];
/** The deploy tools (and through them Pulumi) load only when a deploy subcommand runs, not for --help. */
async function deployTool(name: DeployToolName): Promise<Tool> {
  return (await import("../../mcp/tools/deployments.js"))[name];
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

function deployOptions(c: Command): Command {
  return c
    .requiredOption("--id <deployment-id>", "deployment id (lowercase, digits, -)")
    .option("--target <target>", "docker | ssh | aws | azure | kubernetes")
    .option("--profile <profile>", "minimal | rapid | standard | enterprise")
    .option("--hostname <host>", "name clients and analysts use")
    .option("--template <name>", "start from a saved template")
    .option("--set <path=value>", "profile override, repeatable (e.g. resources.memoryMb=4096)", setPath, {})
    .option("--tag <key=value>", "tag, repeatable", kv, {})
    .option("--case <id>", "case number")
    .option("--owner <name>", "owner")
    .option("--ssh-host <host>", "ssh target host")
    .option("--ssh-user <user>", "ssh user")
    .option("--ssh-port <port>", "ssh port (default 22)", (v: string) => Number(v))
    .option("--ssh-credential <alias>", "stored credential with the SSH key/password")
    .option("--sha256 <hex>", "SHA-256 of the Velociraptor release binary (ssh/aws/azure)")
    .option("--binary-url <url>", "ssh: http(s) URL of the Velociraptor binary, checked against --sha256")
    .option("--skip-preflight", "skip target checks")
    .option("--no-wait", "do not wait for health");
}

function deployArgs(o: Record<string, unknown>) {
  return {
    deployment_id: o.id,
    target: o.target,
    profile: o.profile,
    server_hostname: o.hostname,
    template: o.template,
    overrides: Object.keys(o.set as object).length ? o.set : undefined,
    tags: Object.keys(o.tag as object).length ? o.tag : undefined,
    case: o.case,
    owner: o.owner,
    target_host: o.sshHost,
    ssh_user: o.sshUser,
    ssh_port: o.sshPort,
    ssh_credential: o.sshCredential,
    binary_sha256: o.sha256,
    binary_url: o.binaryUrl,
    skip_preflight: !!o.skipPreflight,
    wait_healthy: o.wait !== false,
  };
}

export function register(program: Command): void {
  deployOptions(program.command("deploy").description("Create or update a Velociraptor deployment (Pulumi)")).action(async (o) => runToolCli(await deployTool("deployServer"), deployArgs(o)));
  deployOptions(program.command("preview").description("Preflight checks and what a deployment would change")).action(async (o) => {
    const { wait_healthy: _w, ...a } = deployArgs(o);
    return runToolCli(await deployTool("previewDeployment"), a);
  });
  program
    .command("deployments")
    .description("List deployments (from the Pulumi state)")
    .option("--all", "include destroyed")
    .option("--case <id>")
    .option("--target <target>")
    .option("--profile <profile>")
    .action(async (o) => runToolCli(await deployTool("listDeployments"), { include_destroyed: !!o.all, case: o.case, target: o.target, profile_filter: o.profile }, { json: false }));
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
