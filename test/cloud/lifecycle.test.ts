/** AWS and Azure lifecycle (parameterised): deploy → healthy → observe → enrol a client + collect → destroy → nothing left. */
import { describe, expect, it } from "vitest";
import { numericSetting } from "../../core/settings.js";
import { PulumiEngine } from "../../deploy/automation/pulumi-engine.js";
import { checkBudget } from "../../deploy/cloud-test/budget.js";
import { runLifecycle } from "../../deploy/cloud-test/lifecycle.js";
import { newTestRun, ttlHours } from "../../deploy/cloud-test/run.js";
import { PROVIDERS, realStepsFor, reasonToSkip, testSettings } from "./setup.js";

describe.each(PROVIDERS)("%s lifecycle", (provider) => {
  const reason = reasonToSkip(provider);
  it.skipIf(!!reason)("deploys, answers, and cleans up", async () => {
    checkBudget({ provider, instanceType: provider === "aws" ? "t3.small" : "Standard_B1ms", hours: ttlHours(), spot: true, monthlyBudgetUsd: numericSetting("MEGARAPTOR_CLOUD_MONTHLY_BUDGET_USD"), spentThisMonthUsd: numericSetting("MEGARAPTOR_CLOUD_SPENT_USD"), maxVcpu: numericSetting("MEGARAPTOR_CLOUD_MAX_VCPU") });
    const run = newTestRun({ owner: process.env.GITHUB_ACTOR ?? "megaraptor-ci", ttlHours: ttlHours() });
    const r = await runLifecycle(new PulumiEngine(), testSettings(provider, `${run.runId}-${provider}`), run, realStepsFor(provider), (s) => console.warn(`[${provider}] ${s}`));
    expect(r.error).toBeUndefined();
    expect(r.observation!.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(r.observation!.leftovers).toBe(0);
    if (process.env.MEGARAPTOR_TEST_CLIENT_BINARY) expect(r.observation!.enrolment!.rows).toBeGreaterThan(0);
  }, 3_600_000);
});
