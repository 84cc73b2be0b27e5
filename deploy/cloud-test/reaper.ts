/**
 * The reaper: finds test deployments (stacks tagged megaraptor:test-run) whose megaraptor:expires-at has passed and
 * destroys them; --dry-run only lists. Cloud leftovers outside any stack come from an Inventory (tag queries) and are
 * reported so a human can act; selection is a pure function, tested on fake inventories.
 */
import type { AutomationEngine, DeploymentRecord } from "../automation/engine.js";
import { TAG_EXPIRES, TAG_RUN } from "./run.js";

export interface TaggedResource {
  provider: "aws" | "azure";
  id: string;
  type: string;
  tags: Record<string, string>;
}

export interface Inventory {
  provider: "aws" | "azure";
  /** Resources carrying the megaraptor:test-run tag. */
  listTestResources(): Promise<TaggedResource[]>;
}

export function isExpired(tags: Record<string, string>, now: Date): boolean {
  if (!tags[TAG_RUN]) return false; // never touch anything that is not a test run
  const at = Date.parse(tags[TAG_EXPIRES] ?? "");
  return Number.isFinite(at) && at <= now.getTime();
}

export function selectExpired<T extends { tags: Record<string, string> }>(items: T[], now: Date): T[] {
  return items.filter((i) => isExpired(i.tags, now));
}

export interface ReapReport {
  destroyed: string[];
  wouldDestroy: string[];
  leftovers: TaggedResource[];
  errors: { id: string; error: string }[];
}

export async function reap(engine: AutomationEngine, o: { now?: Date; dryRun: boolean; inventories?: Inventory[]; provider?: "aws" | "azure" | "all" }): Promise<ReapReport> {
  const now = o.now ?? new Date();
  const records = (await engine.list()).filter((r: DeploymentRecord) => r.status !== "destroyed" && (!o.provider || o.provider === "all" || r.settings.target === o.provider));
  const expired = selectExpired(records.map((r) => ({ id: r.id, tags: r.settings.tags })), now);
  const report: ReapReport = { destroyed: [], wouldDestroy: [], leftovers: [], errors: [] };
  for (const r of expired) {
    if (o.dryRun) report.wouldDestroy.push(r.id);
    else
      await engine.destroy(r.id).then(
        () => report.destroyed.push(r.id),
        (err: Error) => report.errors.push({ id: r.id, error: err.message }),
      );
  }
  for (const inv of o.inventories ?? []) report.leftovers.push(...selectExpired(await inv.listTestResources(), now));
  return report;
}
