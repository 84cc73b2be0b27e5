/**
 * validate_vql: check model-written VQL before it runs — syntax (line:column), plugins and functions against the
 * live server's help() (cached per process), argument names where the server lists them, and Artifact.X names and
 * parameters against the live artifact catalog, with "did you mean" suggestions.
 */
import { z } from "zod";
import { callSites, parseVql, references } from "../../velociraptor/vql/index.js";
import type { Row } from "../../velociraptor/client.js";
import { loadCatalog } from "./catalog.js";
import { didYouMean, rowsOf } from "./common.js";
import { defineTool, type ToolContext } from "./define.js";
import { OrgId } from "./ids.js";

export interface VqlIssue {
  severity: "error" | "warning";
  message: string;
  line: number;
  column: number;
  hint?: string;
}

const helpCache = new Map<string, Promise<Map<string, { type: string; args: string[] }> | undefined>>();

async function serverCatalog(ctx: ToolContext): Promise<Map<string, { type: string; args: string[] }> | undefined> {
  const client = ctx.client();
  const key = `${client.address}/${ctx.orgId ?? ""}`;
  if (!helpCache.has(key))
    helpCache.set(
      key,
      rowsOf(ctx, "SELECT name, type, args FROM help()", {}, 10_000)
        .then((rows: Row[]) => new Map(rows.map((r) => [String(r.name), { type: String(r.type).toLowerCase(), args: Array.isArray(r.args) ? r.args.map((a) => (typeof a === "string" ? a : String((a as { name?: string }).name ?? ""))) : [] }])))
        .catch(() => {
          helpCache.delete(key);
          return undefined;
        }),
    );
  return helpCache.get(key)!;
}

export async function validateVql(query: string, ctx: ToolContext): Promise<{ valid: boolean; issues: VqlIssue[]; checked: string[] }> {
  const parsed = parseVql(query);
  const issues: VqlIssue[] = parsed.errors.map((e) => ({ severity: "error", message: e.message.replace(/ at line \d+, column \d+$/, ""), line: e.line, column: e.column }));
  const checked = ["syntax"];
  if (!parsed.errors.length) {
    const refs = references(parsed.statements);
    const known = await serverCatalog(ctx).catch(() => undefined);
    if (known) {
      checked.push("plugins and functions (live help())");
      for (const site of callSites(parsed.statements)) {
        if (site.name.startsWith("Artifact.") || refs.defined.has(site.name)) continue;
        const entry = known.get(site.name);
        if (!entry) {
          const near = didYouMean(site.name, known.keys());
          issues.push({ severity: "error", message: `unknown ${site.kind} ${site.name}`, line: site.line, column: site.column, hint: near.length ? `did you mean ${near.join(", ")}?` : "see vql_help" });
          continue;
        }
        if (entry.args.length)
          for (const a of site.args)
            if (!entry.args.includes(a))
              issues.push({ severity: "error", message: `${site.name}: unexpected argument ${a}`, line: site.line, column: site.column, hint: `arguments: ${entry.args.join(", ")}` });
      }
    }
    const artifactSites = callSites(parsed.statements).filter((s) => s.name.startsWith("Artifact."));
    if (artifactSites.length) {
      checked.push("artifact names and parameters (live catalog)");
      const catalog = await loadCatalog(ctx);
      for (const s of artifactSites) {
        const name = s.name.slice("Artifact.".length);
        const entry = catalog.get(name);
        if (!entry) {
          const near = didYouMean(name, catalog.keys());
          issues.push({ severity: "error", message: `unknown artifact ${name}`, line: s.line, column: s.column, hint: near.length ? `did you mean ${near.join(", ")}?` : "see list_artifacts" });
        } else
          for (const a of s.args)
            if (a !== "source" && !entry.parameters.includes(a))
              issues.push({ severity: "error", message: `${name} has no parameter ${a}`, line: s.line, column: s.column, hint: `parameters: ${entry.parameters.join(", ") || "(none)"}` });
      }
    }
  }
  return { valid: !issues.some((i) => i.severity === "error"), issues, checked };
}

export const validateVqlTool = defineTool({
  name: "validate_vql",
  title: "Check VQL before running it",
  description: "Check VQL against the live server: syntax errors (line:column), unknown plugins, functions, arguments, artifacts and parameters, with suggestions. run_vql runs this first unless skip_validation.",
  input: z.object({ query: z.string().min(1).max(100_000), org_id: OrgId }),
  output: z.object({ valid: z.boolean(), issues: z.array(z.object({ severity: z.enum(["error", "warning"]), message: z.string(), line: z.number(), column: z.number(), hint: z.string().optional() })), checked: z.array(z.string()) }),
  preset: "read",
  async handler(args, ctx) {
    let r: Awaited<ReturnType<typeof validateVql>>;
    try {
      r = await validateVql(args.query, ctx);
    } catch {
      // Without a server only the syntax can be checked; say so rather than fail.
      const p = parseVql(args.query);
      r = { valid: p.errors.length === 0, issues: p.errors.map((e) => ({ severity: "error" as const, message: e.message, line: e.line, column: e.column })), checked: ["syntax (server not reachable: names not checked)"] };
    }
    const text = r.valid ? `VQL is valid (checked: ${r.checked.join(", ")})` : r.issues.map((i) => `${i.line}:${i.column} ${i.message}${i.hint ? ` — ${i.hint}` : ""}`).join("\n");
    return { structured: r, text };
  },
});
