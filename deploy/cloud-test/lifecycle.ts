/**
 * One provider's lifecycle test: deploy (tagged with the run), wait healthy, observe the server through its API
 * (version, call shapes, artifacts), enrol a client and run a small collection, then destroy — in `finally` and on SIGINT/SIGTERM — and
 * count what is left with the run id. Steps that touch the network are injected, so the sequence is testable.
 */
import type { AutomationEngine, DeploymentRecord } from "../automation/engine.js";
import type { DeploymentSettings } from "../request/index.js";
import type { Enrolment } from "./enrol.js";
import type { Observation } from "./parity.js";
import type { TestRun } from "./run.js";

export interface LifecycleSteps {
  waitHealthy(r: DeploymentRecord): Promise<void>;
  observe(r: DeploymentRecord): Promise<Omit<Observation, "provider" | "leftovers" | "enrolment">>;
  /** Enrol a client and run a small collection; undefined when not possible here (the reason is logged). */
  enrol?(r: DeploymentRecord): Promise<Enrolment | undefined>;
  /** Resources still tagged with the run id after destroy. */
  leftovers(runId: string): Promise<number>;
}

export interface LifecycleResult {
  observation?: Observation;
  steps: string[];
  error?: string;
}

export async function runLifecycle(engine: AutomationEngine, settings: DeploymentSettings, run: TestRun, steps: LifecycleSteps, log: (s: string) => void = () => undefined): Promise<LifecycleResult> {
  const tagged: DeploymentSettings = { ...settings, tags: { ...settings.tags, ...run.tags } };
  const done: string[] = [];
  const step = (s: string) => {
    done.push(s);
    log(s);
  };
  let created = false;
  let destroyed = false;
  const destroy = async () => {
    if (!created || destroyed) return;
    destroyed = true;
    step("destroy");
    await engine.destroy(tagged.deployment_id);
  };
  const onSignal = () => void destroy().finally(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    step("deploy");
    created = true; // even a failed `up` may have created resources: destroy must run
    const record = await engine.up(tagged, {});
    step("wait healthy");
    await steps.waitHealthy(record);
    step("observe");
    const seen = await steps.observe(record);
    let enrolment: Enrolment | undefined;
    if (steps.enrol) {
      step("enrol client + collect");
      enrolment = await steps.enrol(record);
    }
    await destroy();
    step("check leftovers");
    const leftovers = await steps.leftovers(run.runId);
    return { observation: { provider: settings.target, leftovers, ...seen, ...(enrolment ? { enrolment: { rows: enrolment.rows, columns: enrolment.columns } } : {}) }, steps: done };
  } catch (err) {
    return { steps: done, error: (err as Error).message };
  } finally {
    await destroy().catch((err: Error) => log(`destroy failed: ${err.message} — run \`megaraptor cloud reap\``));
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
