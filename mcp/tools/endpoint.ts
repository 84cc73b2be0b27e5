/** Two steps many tools share — who a client is, scheduling a collection on it — from the dfir/collection service. */
import { scheduleCollection as schedule, type ScheduleRequest } from "../../dfir/collection/endpoint.js";
import type { ToolContext } from "./define.js";
import { collectionSession } from "./session.js";

export { clientIdentity, type ClientIdentity } from "../../dfir/collection/endpoint.js";

/** Schedules one flow through the tool's gate (allow-list pins and the artifacts' effect against the mode). */
export function scheduleCollection(ctx: ToolContext, o: Omit<ScheduleRequest, "checked">): Promise<string> {
  return schedule(collectionSession(ctx), o);
}
