/** Cross-cloud parity: the same checks on both providers, compared. */
import { describe, expect, it } from "vitest";
import { PulumiEngine } from "../../deploy/automation/pulumi-engine.js";
import { runLifecycle } from "../../deploy/cloud-test/lifecycle.js";
import { compareParity, type Observation } from "../../deploy/cloud-test/parity.js";
import { newTestRun } from "../../deploy/cloud-test/run.js";
import { realStepsFor, reasonToSkip, testSettings } from "./setup.js";

const reasons = (["aws", "azure"] as const).map(reasonToSkip).filter(Boolean);

describe("cross-cloud parity", () => {
  it.skipIf(reasons.length > 0)("both clouds run the same Velociraptor with the same API shapes and artifacts", async () => {
    const run = newTestRun({ owner: "megaraptor-ci" });
    const obs: Observation[] = [];
    for (const p of ["aws", "azure"] as const) {
      const r = await runLifecycle(new PulumiEngine(), testSettings(p, `${run.runId}-${p}`, "minimal"), run, realStepsFor(p));
      expect(r.error, p).toBeUndefined();
      obs.push(r.observation!);
    }
    expect(compareParity(obs).differences).toEqual([]);
  }, 7_200_000);
});
