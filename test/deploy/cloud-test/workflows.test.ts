import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";

const dir = ".github/workflows";

describe("GitHub Actions workflows", () => {
  it.each(readdirSync(dir).filter((f) => f.endsWith(".yml")))("%s validates against the workflow schema", (f) => {
    expect(validateWorkflow(readFileSync(join(dir, f), "utf8")).errors).toEqual([]);
  });

  it("the validator rejects a broken workflow", () => {
    expect(validateWorkflow("name: broken\non: push\njobs:\n  x:\n    steps: 3\n").errors.length).toBeGreaterThan(0);
  });

  it("cloud workflows use OIDC (id-token) and no long-lived cloud keys, one cloud at a time, and always reap", () => {
    for (const f of ["cloud-preview.yml", "cloud-e2e.yml"]) {
      const text = readFileSync(join(dir, f), "utf8");
      const wf = parse(text);
      expect(wf.permissions["id-token"]).toBe("write");
      expect(text).not.toMatch(/AWS_SECRET_ACCESS_KEY|AZURE_CLIENT_SECRET/);
      expect(wf.on.workflow_dispatch).toBeDefined();
      expect(wf.on.schedule).toBeDefined();
    }
    const e2e = parse(readFileSync(join(dir, "cloud-e2e.yml"), "utf8"));
    expect(e2e.jobs.lifecycle.strategy["max-parallel"]).toBe(1);
    const reap = e2e.jobs.lifecycle.steps.find((s: { name?: string }) => s.name?.startsWith("Reap"));
    expect(reap.if).toBe("always()");
  });
});
