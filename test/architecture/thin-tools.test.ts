/**
 * Tools are thin over services (issue 12 item 3): a tool's handler or plan never calls another tool's handler or plan.
 * Shared work lives in dfir/ or deploy/ services (or a plain function), so each tool is one schema, one preset and
 * one service call, and the executor's checks run once per call.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../core/paths.js";

const TOOLS_DIR = join(packageRoot(), "mcp", "tools");

/** Names a file imports from sibling modules (./x.js), with their local aliases. */
function siblingImports(src: string): string[] {
  const names: string[] = [];
  for (const m of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*"\.\/[^"]+"/g))
    for (const part of m[1]!.split(",")) {
      const local = part.trim().replace(/^type\s+/, "").split(/\s+as\s+/).pop()?.trim();
      if (local) names.push(local);
    }
  return names;
}

/** Calls of `.handler(` / `.plan(` (also `.plan!(` and `.handler.call(`) on a name imported from another tool file. */
export function toolToToolCalls(src: string): string[] {
  const imported = new Set(siblingImports(src));
  return [...src.matchAll(/\b([A-Za-z_$][\w$]*)\s*\.\s*(handler|plan)\s*!?\s*(\(|\.call\(|\.apply\()/g)].filter((m) => imported.has(m[1]!)).map((m) => `${m[1]}.${m[2]}`);
}

describe("tools are thin", () => {
  it("the check finds a tool calling another tool's handler or plan", () => {
    const bad = 'import { collectArtifact } from "./artifacts.js";\nimport { createHunt as ch } from "./hunts.js";\nconst r = await collectArtifact.handler(a, ctx);\nconst p = await ch.plan!(a, ctx);';
    expect(toolToToolCalls(bad)).toEqual(["collectArtifact.handler", "ch.plan"]);
    expect(toolToToolCalls('import { planHunt } from "./hunts.js";\nawait planHunt(ctx, r, "x");\nconst x = call.plan(ctx);')).toEqual([]);
  });

  it("no file in mcp/tools calls another tool's handler or plan", () => {
    const files = readdirSync(TOOLS_DIR).filter((f) => f.endsWith(".ts"));
    expect(files.length).toBeGreaterThan(10);
    const found = files.flatMap((f) => toolToToolCalls(readFileSync(join(TOOLS_DIR, f), "utf8")).map((c) => `${f}: ${c}`));
    expect(found).toEqual([]);
  });
});
