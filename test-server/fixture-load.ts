/**
 * Loading a fixture file: JSON, then the schema (./fixture-schema.ts), then its references — flows on clients that
 * exist, hunts pointing at flows that exist, artifacts that are defined in the fixture and are Velociraptor built-ins
 * (the project's list, velociraptor/known-artifacts.ts) or Custom.* ones. Every problem is one `path: problem` line;
 * the file's content is never echoed (a fixture may hold anything) and no stack trace is shown.
 */
import { readFileSync } from "node:fs";
import type { z } from "zod";
import { MegaraptorError } from "../core/errors.js";
import { isBuiltinArtifact } from "../velociraptor/known-artifacts.js";
import { FixtureSchema, type Fixture } from "./fixture-schema.js";

export class FixtureError extends MegaraptorError {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super("FIXTURE_INVALID", `${source}: ${problems.length} problem(s)\n${problems.join("\n")}`, { hint: "Fix each path named above; docs/test-server.md describes the fixture format." });
  }
}

/** `orgs[0].flows[2].session_id` from zod's path. */
function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, p) => (typeof p === "number" ? `${out}[${p}]` : out ? `${out}.${String(p)}` : String(p)), "") || "(root)";
}

/** One line per schema issue; zod's messages name the expectation, not the value found. */
function schemaProblems(error: z.ZodError): string[] {
  return error.issues.map((i) => `${pathText(i.path)}: ${i.message}`);
}

const base = (artifact: string) => artifact.split("/")[0]!;

/** Problems with what the fixture's parts point at. */
export function referenceProblems(f: Fixture): string[] {
  const out: string[] = [];
  const defined = new Set(f.artifacts.map((a) => a.name));
  f.artifacts.forEach((a, i) => {
    if (!a.name.startsWith("Custom.") && !isBuiltinArtifact(a.name)) out.push(`artifacts[${i}].name: unknown artifact "${a.name}" — not a Velociraptor built-in in the project's list (velociraptor/known-artifacts.ts); name your own Custom.*`);
  });
  const used = (path: string, artifact: string) => {
    if (!defined.has(base(artifact))) out.push(`${path}: unknown artifact "${base(artifact)}" — define it in artifacts[]`);
  };
  f.orgs.forEach((o, oi) => {
    const clients = new Set(o.clients.map((c) => c.client_id));
    const flows = new Set(o.flows.map((fl) => `${fl.client_id}/${fl.session_id}`));
    o.flows.forEach((fl, fi) => {
      const at = `orgs[${oi}].flows[${fi}]`;
      if (fl.client_id !== "server" && !clients.has(fl.client_id)) out.push(`${at}.client_id: no client ${fl.client_id} in org "${o.id}"`);
      fl.artifacts.forEach((a, ai) => used(`${at}.artifacts[${ai}]`, a));
      for (const key of Object.keys(fl.results)) {
        used(`${at}.results["${key}"]`, key);
        if (!fl.artifacts.map(base).includes(base(key))) out.push(`${at}.results["${key}"]: ${base(key)} is not one of the flow's artifacts`);
      }
    });
    o.hunts.forEach((h, hi) => {
      const at = `orgs[${oi}].hunts[${hi}]`;
      h.artifacts.forEach((a, ai) => used(`${at}.artifacts[${ai}]`, a));
      h.flows.forEach((ref, ri) => {
        if (!flows.has(`${ref.client_id}/${ref.flow_id}`)) out.push(`${at}.flows[${ri}]: no flow ${ref.flow_id} on ${ref.client_id} in org "${o.id}"`);
      });
    });
  });
  return out;
}

/** Validates a fixture object against the schema; throws FixtureError with `path: problem` lines. */
export function parseFixture(input: unknown, source = "fixture"): Fixture {
  const r = FixtureSchema.safeParse(input);
  if (!r.success) throw new FixtureError(source, schemaProblems(r.error));
  return r.data;
}

/** Reads, validates and checks the references of a fixture file. */
export function loadFixtureFile(path: string): Fixture {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new FixtureError(path, [`(file): cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"})`]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    // The parser's message quotes the text around the error; say where instead.
    const msg = (err as Error).message;
    const at = /position (\d+)/.exec(msg)?.[1];
    const line = /line (\d+)/.exec(msg)?.[1] ?? (at === undefined ? undefined : text.slice(0, Number(at)).split("\n").length);
    throw new FixtureError(path, [`(file): not valid JSON${line ? ` (line ${line})` : ""}`]);
  }
  const fixture = parseFixture(raw, path);
  const problems = referenceProblems(fixture);
  if (problems.length) throw new FixtureError(path, problems);
  return fixture;
}
