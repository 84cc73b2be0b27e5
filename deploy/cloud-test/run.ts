/** A cloud test run: its id, its expiry, and the tags every resource it creates carries. */
import { randomBytes } from "node:crypto";
import { numericSetting } from "../../core/settings.js";

export const TAG_RUN = "megaraptor:test-run";
export const TAG_EXPIRES = "megaraptor:expires-at";

export interface TestRun {
  runId: string;
  expiresAt: Date;
  tags: Record<string, string>;
}

export function ttlHours(env: NodeJS.ProcessEnv = process.env): number {
  return numericSetting("MEGARAPTOR_CLOUD_TTL_HOURS", env);
}

export function newTestRun(o: { owner: string; ttlHours?: number; now?: Date }): TestRun {
  const now = o.now ?? new Date();
  const runId = `t${now.toISOString().slice(0, 10).replace(/-/g, "")}-${randomBytes(3).toString("hex")}`;
  const expiresAt = new Date(now.getTime() + (o.ttlHours ?? 2) * 3600_000);
  return { runId, expiresAt, tags: { [TAG_RUN]: runId, [TAG_EXPIRES]: expiresAt.toISOString(), owner: o.owner } };
}
