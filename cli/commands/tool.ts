/**
 * `megaraptor tool <name>`: run any MCP tool from the terminal with the same validation, plan → confirm (--yes),
 * audit and handler — so timelines, IOC extraction, reports, triage and remediation work in scripts too.
 * `megaraptor iocs` extracts indicators from files or stdin of any size, streamed through the same aggregator.
 */
import { createReadStream, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import { InputError } from "../../core/errors.js";
import type { Tool } from "../../mcp/tools/define.js";
import { runToolCli } from "../run-tool.js";

/** The tool registry (and through it gRPC and the analysis code) loads only when a tool runs, not for --help. */
const registry = async () => (await import("../../mcp/tools/index.js")).TOOLS;

async function findTool(name: string): Promise<Tool> {
  const TOOLS = await registry();
  const t = TOOLS.find((x) => x.name === name || x.name === name.replace(/-/g, "_"));
  if (!t) {
    const { didYouMean } = await import("../../mcp/tools/common.js");
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

export function register(program: Command): void {
  program
    .command("tools")
    .description("List the tools `megaraptor tool` can run (the same as the MCP server offers)")
    .action(async () => {
      const { safetyOf } = await import("../../mcp/tools/define.js");
      for (const t of await registry()) process.stdout.write(`${t.name.padEnd(28)} ${safetyOf(t).tier.padEnd(11)} ${t.title}\n`);
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
    .option("-y, --yes", "approve the tool's plan (plan → confirm); without it the plan is printed and nothing runs")
    .option("--reason <text>", "why: recorded in the audit log and the case ledger; required with --yes for destructive actions")
    .action(async (name: string, o: { args?: string; argsFile?: string; config?: string; org?: string; text?: boolean; yes?: boolean; reason?: string }) => {
      await runToolCli(await findTool(name), parseArgs(o), { yes: o.yes, reason: o.reason, json: !o.text, config: o.config, orgId: o.org });
    });
  program
    .command("iocs")
    .description("Extract indicators from text files or stdin (streamed, any size), or from a client's or hunt's results")
    .argument("[files...]", "text files; - or nothing for stdin")
    .option("--format <f>", "json | csv | stix | misp, written to stdout", "json")
    .option("--hunt <id...>", "scan these hunts' results instead (through the extract_iocs tool)")
    .option("--client <id...>", "scan these clients' recent flows instead (through the extract_iocs tool)")
    .option("--label <label>", "scan the recent flows of every client with this label instead")
    .option("--artifact <name...>", "with --client/--label/--hunt: only these artifacts (name or Artifact/Source)")
    .option("--allow <file>", "extra allow-list YAML (domains, cidrs, values, include_private)")
    .option("--no-default-allowlist", "do not suppress private ranges and well-known infrastructure")
    .option("--case <id>", "case id (labels STIX/MISP exports)")
    .option("-c, --config <file>", "api_client.yaml")
    .action(async (files: string[], o: { format: string; hunt?: string[]; client?: string[]; label?: string; artifact?: string[]; allow?: string; defaultAllowlist: boolean; case?: string; config?: string }) => {
      const { IOC_FORMATS, toCsv, toMisp, toStix } = await import("../../dfir/analysis/iocs/export.js");
      if (!(IOC_FORMATS as readonly string[]).includes(o.format)) throw new InputError("--format", `unknown format "${o.format}"`, `Use one of ${IOC_FORMATS.join(", ")}.`);
      if (o.hunt?.length || o.client?.length || o.label) {
        if (files.length) throw new InputError("files", "cannot be combined with --client, --label or --hunt", "Run megaraptor iocs once for the files and once for the scope.");
        // The same case-wide scope as the tool: several clients, a label and hunts together, each flow read once.
        await runToolCli(await findTool("extract_iocs"), { format: o.format, hunt_ids: o.hunt, client_ids: o.client, label: o.label, artifacts: o.artifact, case_id: o.case, limit: 5000 }, { json: o.format === "json", config: o.config });
        return;
      }
      if (o.artifact?.length) throw new InputError("--artifact", "only applies with --client, --label or --hunt", "Add the scope to read, or drop --artifact.");
      const { AllowMatcher, DEFAULT_ALLOW, loadAllowListFile, mergeAllowLists } = await import("../../dfir/analysis/iocs/allowlist.js");
      const { IocAggregator } = await import("../../dfir/analysis/iocs/aggregate.js");
      const allow = mergeAllowLists(o.defaultAllowlist ? DEFAULT_ALLOW : undefined, loadAllowListFile(), o.allow ? loadAllowListFile(o.allow) : undefined);
      const agg = new IocAggregator(new AllowMatcher(allow));
      for (const f of files.length ? files : ["-"]) {
        // Line-sized pieces grouped into ~1 MB chunks: memory stays flat for multi-gigabyte logs.
        const lines = createInterface({ input: f === "-" ? process.stdin : createReadStream(f), crlfDelay: Infinity });
        let chunk: string[] = [];
        let size = 0;
        for await (const line of lines) {
          chunk.push(line);
          size += line.length + 1;
          if (size >= 1 << 20) {
            agg.addText(chunk.join("\n"), { artifact: f === "-" ? "stdin" : f });
            chunk = [];
            size = 0;
          }
        }
        if (chunk.length) agg.addText(chunk.join("\n"), { artifact: f === "-" ? "stdin" : f });
      }
      const all = agg.results();
      const out = o.format === "csv" ? toCsv(all) : JSON.stringify(o.format === "stix" ? toStix(all, { caseId: o.case }) : o.format === "misp" ? toMisp(all, { caseId: o.case }) : { indicators: all, total: all.length, suppressed: Object.fromEntries(agg.suppressed), suppressed_values: Object.fromEntries([...agg.suppressedValues].map(([rule, v]) => [rule, [...v]])), bytes_scanned: agg.bytesScanned }, null, 2) + "\n";
      process.stdout.write(out);
      process.stderr.write(`${all.length} indicators from ${agg.bytesScanned.toLocaleString()} characters; ${[...agg.suppressed.values()].reduce((x, y) => x + y, 0)} suppressed as known-good\n`);
      // What was suppressed, per rule with its values: a suppression the user did not expect must be visible.
      for (const [rule, n] of agg.suppressed) process.stderr.write(`  suppressed (${rule}): ${n}: ${[...(agg.suppressedValues.get(rule) ?? [])].slice(0, 10).join(", ")}\n`);
    });
}
