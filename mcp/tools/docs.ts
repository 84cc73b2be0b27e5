/**
 * Renders docs/tools.md from the tool declarations, so the documented tool table can never drift from the code.
 * `npm run docs:tools` rewrites the file; a test fails when it is stale.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { packageRoot } from "../../core/paths.js";
import { TOOLS } from "./index.js";

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
    "Tier = the lowest server mode that lists the tool (`read` tools are available in every mode). Destructive tools ask for confirmation (plan → `confirm_token`, or elicitation).",
    "",
    "| tool | tier | read-only | destructive | audited | parameters | what it does |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const t of TOOLS) {
    const desc = t.description.replace(/\|/g, "\\|").replace(/\n/g, " ");
    lines.push(`| \`${t.name}\` | ${t.tier} | ${t.annotations.readOnly ? "yes" : "no"} | ${t.annotations.destructive ? "yes" : "no"} | ${typeof t.audit === "function" ? "when state-changing" : t.audit ? "yes" : "no"} | ${params(t.input)} | ${desc} |`);
  }
  return lines.join("\n") + "\n";
}

export const TOOLS_DOC = join(packageRoot(), "docs", "tools.md");

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(TOOLS_DOC, renderToolsMarkdown());
  process.stderr.write(`wrote ${TOOLS_DOC}\n`);
}
