/**
 * Renders docs/tools.md from the tool declarations, so the documented tool table can never drift from the code.
 * `npm run docs:tools` rewrites the file; a test fails when it is stale.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { packageRoot } from "../../core/paths.js";
import { PRESETS, safetyOf } from "./define.js";
import { TOOLS } from "./index.js";
import { DEFAULT_TOOLSETS, TOOLSET_NAMES, TOOLSETS, toolsetOf } from "./toolsets.js";

const yn = (b: boolean) => (b ? "yes" : "no");

function params(schema: z.ZodObject): string {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as { properties?: Record<string, { description?: string }>; required?: string[] };
  return Object.entries(json.properties ?? {})
    .map(([k]) => (json.required?.includes(k) ? `\`${k}\`` : `\`${k}?\``))
    .join(", ");
}

export function renderToolsMarkdown(): string {
  const lines = [
    "# Tools",
    "",
    "Generated from the tool declarations by `npm run docs:tools`; do not edit by hand.",
    "",
    "Each tool declares one safety preset; its tier (the lowest server mode that lists and runs it), its MCP annotations and whether it is audited follow from the preset. Tiers `read`, `evidence` and `query` are available in every mode. A tool with a plan answers `CONFIRMATION_REQUIRED` with the plan and a `confirm_token` (or asks through elicitation); it runs when called again with the same arguments plus the token — and a `reason` for respond-tier tools and destructive plans.",
    "",
    "| preset | tier | read-only | destructive | idempotent | open world | audited | what it means |",
    "|---|---|---|---|---|---|---|---|",
    ...Object.entries(PRESETS).map(([name, p]) => `| \`${name}\` | ${p.tier} | ${yn(p.annotations.readOnly)} | ${yn(p.annotations.destructive)} | ${yn(p.annotations.idempotent)} | ${yn(p.annotations.openWorld)} | ${yn(p.audit)} | ${p.means} |`),
    "",
    "Tools come in toolsets. An MCP session lists the toolsets given by `--toolsets` / `MEGARAPTOR_TOOLSETS` (default: " +
      DEFAULT_TOOLSETS.map((n) => `\`${n}\``).join(", ") +
      "; `all` for every one) and, over stdio, more on request with `enable_toolsets`. The mode still decides which of a toolset's tools are listed. The CLI (`megaraptor tool`) runs every tool.",
    "",
    "| toolset | default | what it covers |",
    "|---|---|---|",
    ...TOOLSET_NAMES.map((n) => `| \`${n}\` | ${yn(DEFAULT_TOOLSETS.includes(n))} | ${TOOLSETS[n].description} |`),
    "",
    "| tool | toolset | preset | tier | audited | confirmation | parameters | what it does |",
    "|---|---|---|---|---|---|---|---|",
  ];
  for (const t of TOOLS) {
    const s = safetyOf(t);
    const desc = t.description.replace(/\|/g, "\\|").replace(/\n/g, " ");
    const audited = s.audit ? (t.auditsPerCall ? "when it changes something" : "yes") : "no";
    const confirmation = t.hasPlan ? (s.reasonRequired ? "plan → confirm + reason" : "plan → confirm") : "—";
    lines.push(`| \`${t.name}\` | ${toolsetOf(t.name) ?? "—"} | ${t.preset} | ${s.tier} | ${audited} | ${confirmation} | ${params(t.inputSchema)} | ${desc} |`);
  }
  return lines.join("\n") + "\n";
}

export const TOOLS_DOC = join(packageRoot(), "docs", "tools.md");

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(TOOLS_DOC, renderToolsMarkdown());
  process.stderr.write(`wrote ${TOOLS_DOC}\n`);
}
