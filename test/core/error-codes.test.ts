/**
 * Error codes are exactly as the README documents them: every code Megaraptor's own code can raise has a row in the
 * README's "Error codes" table, and every row names a code that exists. Codes are read from the sources (the first
 * argument of `super(...)` in error classes and of `new MegaraptorError(...)`), so a new code without docs fails here.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../core/paths.js";

const ROOT = packageRoot();
// The layers that raise Megaraptor's errors (the test server speaks Velociraptor's errors, not these).
const LAYERS = ["core", "velociraptor", "dfir", "deploy", "mcp", "cli", "profiles", "components"];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}

function codesInSources(): Set<string> {
  const codes = new Set<string>();
  for (const f of LAYERS.flatMap((l) => sources(join(ROOT, l)))) {
    const text = readFileSync(f, "utf8");
    // The code argument may be a literal or a choice between literals (e.g. kind === … ? "A" : "B").
    for (const m of text.matchAll(/(?:\bsuper|new MegaraptorError)\(\s*([^,]*?),/g)) for (const c of m[1]!.matchAll(/(?<![=!]==\s*)"([A-Z][A-Z0-9_]{2,})"/g)) codes.add(c[1]!);
  }
  return codes;
}

function codesInReadme(): Set<string> {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const table = readme.slice(readme.indexOf("### Error codes"), readme.indexOf("\n## ", readme.indexOf("### Error codes")));
  return new Set([...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
}

describe("error codes", () => {
  it("every code raised in the sources is documented in the README, and every documented code is raised", () => {
    const raised = codesInSources();
    const documented = codesInReadme();
    expect(raised.size).toBeGreaterThan(20);
    expect([...raised].filter((c) => !documented.has(c)).sort()).toEqual([]);
    expect([...documented].filter((c) => !raised.has(c)).sort()).toEqual([]);
  });
});
