/**
 * Collection templates: named, versioned bundles of artifacts (with parameters) for common incident scenarios,
 * shipped as YAML in ./templates and extendable by users (MEGARAPTOR_TEMPLATE_DIR or ~/.megaraptor/templates).
 * A bad file is rejected with its path, line and field, and never half-loaded.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LineCounter, parseDocument, isNode } from "yaml";
import { z } from "zod";
import { MegaraptorError } from "../../core/errors.js";
import { megaraptorHome, packageRoot } from "../../core/paths.js";

export const OSES = ["windows", "linux", "darwin"] as const;
export type Os = (typeof OSES)[number];

const ParamValue = z.union([z.string(), z.number(), z.boolean()]).transform(String);

export const TemplateArtifactSchema = z
  .object({
    artifact: z.string().regex(/^[A-Za-z0-9_.]+(\/[A-Za-z0-9_ .-]+)?$/, { message: "expected an artifact name such as Windows.System.Pslist" }),
    parameters: z.record(z.string(), ParamValue).default({}),
    /** Why this artifact is in the bundle (shown to the analyst). */
    why: z.string().default(""),
  })
  .strict();

export const TemplateSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, { message: "lower-case letters, digits and dashes, e.g. lateral-movement" }),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, { message: "semantic version such as 1.0.0" }),
    title: z.string().min(1),
    description: z.string().min(1),
    tags: z.array(z.string()).default([]),
    /** Template parameters, substituted as {{Name}} inside artifact parameter values (never into VQL text). */
    parameters: z.array(z.object({ name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/), description: z.string().default(""), default: ParamValue.optional() }).strict()).default([]),
    artifacts: z
      .object({ windows: z.array(TemplateArtifactSchema).optional(), linux: z.array(TemplateArtifactSchema).optional(), darwin: z.array(TemplateArtifactSchema).optional() })
      .strict()
      .refine((a) => Object.values(a).some((l) => l && l.length), { message: "at least one OS needs artifacts" }),
    timeout: z.number().int().min(30).max(86_400).default(1800),
  })
  .strict();
export type Template = z.infer<typeof TemplateSchema> & { source: string };

export class TemplateError extends MegaraptorError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly field: string,
    problem: string,
  ) {
    super("INVALID_TEMPLATE", `${file}${line ? `:${line}` : ""}: ${field}: ${problem}`, { hint: "Fix the template file (see docs/analysis.md for the format), or remove it from the template folder." });
  }
}

export function builtinTemplateDir(): string {
  // dist/dfir/collection → the YAML ships beside the sources; resolve from the package root either way.
  const here = dirname(fileURLToPath(import.meta.url));
  const local = join(here, "templates");
  return existsSync(local) ? local : join(packageRoot(), "dfir", "collection", "templates");
}

export function userTemplateDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEGARAPTOR_TEMPLATE_DIR ?? join(megaraptorHome(), "templates");
}

/** Parses and validates one template file; every problem names the file, line and field. */
export function parseTemplate(text: string, file: string): Template {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new TemplateError(file, e.linePos?.[0]?.line, "(yaml)", e.message.split("\n")[0]!);
  }
  const r = TemplateSchema.safeParse(doc.toJS());
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path = issue.path.map(String);
    // Point at the deepest node that exists (a missing key points at its parent).
    let line: number | undefined;
    for (let n = path.length; n >= 0 && line === undefined; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
      if (isNode(node) && node.range) line = lc.linePos(node.range[0]).line;
    }
    throw new TemplateError(file, line, path.join(".") || "(top level)", issue.message);
  }
  const t = r.data;
  const declared = new Set(t.parameters.map((p) => p.name));
  for (const [os, list] of Object.entries(t.artifacts))
    for (const [i, a] of (list ?? []).entries())
      for (const [k, v] of Object.entries(a.parameters))
        for (const m of v.matchAll(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g))
          if (!declared.has(m[1]!)) throw new TemplateError(file, undefined, `artifacts.${os}.${i}.parameters.${k}`, `uses {{${m[1]}}}, which is not declared under parameters`);
  return { ...t, source: file };
}

function loadDir(dir: string): Template[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => parseTemplate(readFileSync(join(dir, f), "utf8"), join(dir, f)));
}

/** Built-in templates, then the user's; a user template with a built-in's name replaces it (newer version wins). */
export function loadTemplates(opts: { builtinDir?: string; userDir?: string } = {}): Map<string, Template> {
  const out = new Map<string, Template>();
  for (const t of [...loadDir(opts.builtinDir ?? builtinTemplateDir()), ...loadDir(opts.userDir ?? userTemplateDir())]) out.set(t.name, t);
  return out;
}

/** The template's artifacts for an OS with {{Param}} substituted; unknown parameters are refused by name. */
export function expandTemplate(t: Template, os: Os, values: Record<string, string> = {}): { artifacts: string[]; spec: Record<string, Record<string, string>>; why: Record<string, string> } {
  const list = t.artifacts[os];
  if (!list?.length) throw new MegaraptorError("TEMPLATE_OS", `template ${t.name} has no artifacts for ${os}`, { hint: `It covers ${Object.keys(t.artifacts).join(", ")}; pick another template (list_collection_templates).` });
  const known = new Map(t.parameters.map((p) => [p.name, p.default]));
  for (const k of Object.keys(values)) if (!known.has(k)) throw new MegaraptorError("INVALID_INPUT", `template_parameters.${k}: template ${t.name} has no parameter ${k}`, { hint: `Its parameters: ${[...known.keys()].join(", ") || "none"}.` });
  const spec: Record<string, Record<string, string>> = {};
  const why: Record<string, string> = {};
  for (const a of list) {
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(a.parameters))
      params[k] = v.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_m, name: string) => {
        const value = values[name] ?? known.get(name);
        if (value === undefined) throw new MegaraptorError("INVALID_INPUT", `template_parameters.${name}: required by template ${t.name}`, { hint: `Pass template_parameters: {"${name}": "…"}.` });
        return value;
      });
    spec[a.artifact] = params;
    why[a.artifact] = a.why;
  }
  return { artifacts: list.map((a) => a.artifact), spec, why };
}
