/**
 * `megaraptor tool <name>`: run any MCP tool from the terminal with the same validation, plan → confirm (--yes),
 * audit and handler — so timelines, IOC extraction, reports, triage and remediation work in scripts too.
 * `megaraptor iocs` is the shortcut for the common case: indicators from a file or stdin.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { InputError } from "../../common/errors.js";
import { didYouMean } from "../../tools/common.js";
import type { AnyTool } from "../../tools/define.js";
import { TOOLS } from "../../tools/index.js";
import { loadApiClientConfig, VelociraptorClient } from "../../velociraptor/index.js";
import { runToolCli } from "../run-tool.js";

function findTool(name: string): AnyTool {
  const t = TOOLS.find((x) => x.name === name || x.name === name.replace(/-/g, "_"));
  if (!t) {
    const near = didYouMean(name, TOOLS.map((x) => x.name));
    throw new InputError("tool", `no tool "${name}"`, near.length ? `Did you mean ${near.join(", ")}? (megaraptor tools lists them)` : "megaraptor tools lists them.");
  }
  return t;
}

function parseArgs(o: { args?: string; argsFile?: string }): Record<string, unknown> {
  const text = o.argsFile ? readFileSync(o.argsFile === "-" ? 0 : o.argsFile, "utf8") : (o.args ?? "{}");
  try {
    const v = JSON.parse(text) as unknown;
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("not an object");
    return v as Record<string, unknown>;
  } catch (err) {
    throw new InputError(o.argsFile ? "--args-file" : "--args", `is not a JSON object (${(err as Error).message})`, `e.g. --args '{"client_id": "C.1a2b3c4d5e6f7a01"}'`);
  }
}

/** A lazily connected client, so tools that never talk to Velociraptor need no config. */
function lazyClient(config?: string): { get: () => VelociraptorClient; close: () => void } {
  let c: VelociraptorClient | undefined;
  return { get: () => (c ??= VelociraptorClient.fromConfig(loadApiClientConfig({ path: config }))), close: () => c?.close() };
}

export function register(program: Command): void {
  program
    .command("tools")
    .description("List the tools `megaraptor tool` can run (the same as the MCP server offers)")
    .action(() => {
      for (const t of TOOLS) process.stdout.write(`${t.name.padEnd(28)} ${t.tier.padEnd(11)} ${t.title}\n`);
    });
  program
    .command("tool")
    .argument("<name>", "tool name, e.g. generate_timeline (see megaraptor tools)")
    .description("Run one tool with JSON arguments; the structured result goes to stdout")
    .option("-a, --args <json>", "arguments as a JSON object")
    .option("-f, --args-file <file>", "arguments from a JSON file (- for stdin)")
    .option("-c, --config <file>", "api_client.yaml (default: VELOCIRAPTOR_CONFIG_PATH or VELOCIRAPTOR_* variables)")
    .option("--org <id>", "org id")
    .option("--text", "print the human-readable text instead of JSON")
    .option("-y, --yes", "approve the plan of a plan → confirm tool (remediation tools need confirm and reason in --args)")
    .action(async (name: string, o: { args?: string; argsFile?: string; config?: string; org?: string; text?: boolean; yes?: boolean }) => {
      const client = lazyClient(o.config);
      try {
        await runToolCli(findTool(name), parseArgs(o), { yes: o.yes, json: !o.text, client: client.get, orgId: o.org });
      } finally {
        client.close();
      }
    });
  program
    .command("iocs")
    .description("Extract indicators from a file (or stdin), optionally with a client's or hunt's results")
    .argument("[file]", "text file; - or nothing for stdin")
    .option("--format <f>", "json | csv | stix | misp (csv/stix/misp write an evidence file)", "json")
    .option("--hunt <id...>", "also scan these hunts' results")
    .option("--client <id>", "also scan this client's recent flows")
    .option("--case <id>", "case id")
    .option("-c, --config <file>", "api_client.yaml")
    .action(async (file: string | undefined, o: { format: string; hunt?: string[]; client?: string; case?: string; config?: string }) => {
      const text = readFileSync(!file || file === "-" ? 0 : file, "utf8");
      const client = lazyClient(o.config);
      try {
        await runToolCli(findTool("extract_iocs"), { text, format: o.format, hunt_ids: o.hunt, client_id: o.client, case_id: o.case, limit: 5000 }, { json: o.format === "json", client: client.get });
      } finally {
        client.close();
      }
    });
}
