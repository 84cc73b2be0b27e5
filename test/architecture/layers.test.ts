/**
 * The layers of .dependency-cruiser.cjs hold: nothing below imports from above, and no module cycle exists. The second
 * case plants a violation in a scratch copy of the rules' view to prove the check can fail.
 */
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cruise, type ICruiseResult } from "dependency-cruiser";
import { describe, expect, it } from "vitest";

const require = createRequire(import.meta.url);
const config = require("../../.dependency-cruiser.cjs");
const LAYERS = ["core", "proto", "velociraptor", "profiles", "components", "dfir", "deploy", "test-server", "mcp", "cli"];

function violations(result: ICruiseResult): string[] {
  return (result.summary.violations ?? []).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`);
}

describe("architecture layers", () => {
  it("no lower layer imports a higher one, and no cycles", async () => {
    const r = await cruise(LAYERS, { ruleSet: config, ...config.options, validate: true });
    const result = r.output as ICruiseResult;
    expect(result.summary.totalCruised).toBeGreaterThan(100);
    expect(violations(result)).toEqual([]);
  }, 120_000);

  it("reports a planted upward import and a cycle", async () => {
    const dir = mkdtempSync(join(tmpdir(), "layers-"));
    try {
      for (const d of ["core", "mcp", "dfir"]) mkdirSync(join(dir, d));
      writeFileSync(join(dir, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext" } }));
      writeFileSync(join(dir, "core/errors.ts"), 'import { x } from "../mcp/tools.js";\nexport const e = x;\n');
      writeFileSync(join(dir, "mcp/tools.ts"), "export const x = 1;\n");
      writeFileSync(join(dir, "dfir/a.ts"), 'import { b } from "./b.js";\nexport const a = b;\n');
      writeFileSync(join(dir, "dfir/b.ts"), 'import { a } from "./a.js";\nexport const b = () => a;\n');
      const cwd = process.cwd();
      process.chdir(dir);
      try {
        const r = await cruise(["core", "mcp", "dfir"], { ruleSet: config, ...config.options, validate: true });
        const found = violations(r.output as ICruiseResult);
        expect(found).toContain("core-layer: core/errors.ts → mcp/tools.ts");
        expect(found.some((v) => v.startsWith("no-circular: dfir/"))).toBe(true);
      } finally {
        process.chdir(cwd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
