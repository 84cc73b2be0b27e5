/**
 * Tool safety is declared once, as a preset; this checks the presets and every tool against the rules that make tier,
 * MCP annotations, audit and confirmation agree — and that the registry needs no type-erasing casts.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../../core/paths.js";
import { allows, TIER_MODE } from "../../../mcp/safety/mode.js";
import { PRESETS, safetyOf } from "../../../mcp/tools/define.js";
import { TOOLS } from "../../../mcp/tools/index.js";

describe("safety presets", () => {
  it.each(Object.entries(PRESETS))("%s is consistent", (_name, p) => {
    const a = p.annotations;
    // A read tier is read-only, idempotent and not audited; read-only means the read tier.
    expect(p.tier === "read").toBe(a.readOnly);
    if (p.tier === "read") expect([a.destructive, a.idempotent, p.audit]).toEqual([false, true, false]);
    // Everything that is not read-only is audited.
    if (!a.readOnly) expect(p.audit).toBe(true);
    // Evidence only adds local files: never destructive, never beyond this machine; available in read-only mode.
    if (p.tier === "evidence") expect([a.destructive, a.openWorld, allows("read-only", p.tier)]).toEqual([false, false, true]);
    // The respond tier is destructive; nothing destructive is available in read-only mode except the classified query.
    if (p.tier === "respond") expect(a.destructive).toBe(true);
    if (a.destructive && p.tier !== "query") expect(TIER_MODE[p.tier]).not.toBe("read-only");
  });

  it.each(TOOLS.map((t) => [t.name, t] as const))("%s follows its preset", (_name, t) => {
    const s = safetyOf(t);
    // Destructive tools plan before they act: plan → confirm (+ reason for the respond tier).
    if (s.annotations.destructive) expect(t.hasPlan).toBe(true);
    if (s.tier === "respond") expect(s.reasonRequired).toBe(true);
    // Only audited tools may skip the audit for calls that change nothing.
    if (t.auditsPerCall) expect(s.audit).toBe(true);
    // A tool with a plan accepts confirm_token and reason.
    if (t.hasPlan) expect(Object.keys(t.inputSchema.shape)).toEqual(expect.arrayContaining(["confirm_token", "reason"]));
  });

  it("has no read-tier tool that is not read-only", () => {
    expect(TOOLS.filter((t) => safetyOf(t).tier === "read" && !safetyOf(t).annotations.readOnly).map((t) => t.name)).toEqual([]);
    expect(new Set(TOOLS.map((t) => t.name)).size).toBe(TOOLS.length);
  });

  it("types the registry, the resources and the CLI's tool lookups without `as unknown as`", () => {
    for (const f of ["mcp/tools/index.ts", "mcp/resources/index.ts", "mcp/server/tools.ts", "mcp/server/executor.ts", "cli/run-tool.ts", "cli/commands/tool.ts", "cli/commands/deploy.ts"])
      expect(readFileSync(join(packageRoot(), f), "utf8"), f).not.toContain("as unknown as");
  });
});
