/** Preview-only: every target profile on the provider, creating nothing; a long-lived stack must show no drift. */
import { describe, expect, it } from "vitest";
import { PulumiEngine } from "../../deploy/automation/pulumi-engine.js";
import { PROVIDERS, reasonToSkip, testSettings } from "./setup.js";

describe.each(PROVIDERS)("%s preview", (provider) => {
  const reason = reasonToSkip(provider);
  it.skipIf(!!reason).each(["minimal", "rapid", "standard", "enterprise"] as const)("%s previews cleanly", async (profile) => {
    const engine = new PulumiEngine();
    const settings = testSettings(provider, `preview-${provider}-${profile}`, profile === "minimal" ? "minimal" : "rapid");
    const p = await engine.preview({ ...settings, profile }, {});
    expect(Object.keys(p.changes).length).toBeGreaterThan(0);
  }, 1_800_000);

  const longLived = process.env.MEGARAPTOR_LONG_LIVED_STACK;
  it.skipIf(!!reason || !longLived)("the long-lived stack has no drift", async () => {
    const engine = new PulumiEngine();
    const r = await engine.get(longLived!);
    const p = await engine.preview(r!.settings, {});
    expect(Object.entries(p.changes).filter(([k, v]) => k !== "same" && v > 0)).toEqual([]);
  }, 1_800_000);
});
