/**
 * The scope input every analysis tool shares (timeline, indicators, correlation, report). The resolution — which flows
 * to read, read once, with failed flows as caveats and host names — is one service: dfir/scope/resolve.ts.
 */
import { z } from "zod";
import { ClientId, FlowId, HuntId } from "./ids.js";

export const ScopeInput = {
  client_id: ClientId.optional().describe("one client (its recent flows unless flow_ids)"),
  client_ids: z.array(ClientId).max(500).optional().describe("several clients (recent flows of each)"),
  flow_ids: z.array(FlowId).max(200).optional().describe("only these flows (with exactly one client)"),
  label: z.string().min(1).max(128).regex(/^[^\n\r]+$/, { message: "a label is single-line text" }).optional().describe("every client with this label"),
  hunt_ids: z.array(HuntId).max(50).optional().describe("hunts to read (all their clients); each flow is read once"),
  artifacts: z.array(z.string().min(1)).max(100).optional().describe("only these artifacts (name or Artifact/Source)"),
  max_flows: z.number().int().min(1).max(500).default(50).describe("recent flows per client"),
};

/** Whether the arguments name any scope (a tool may also accept pasted text instead). */
export function hasScope(a: { client_id?: string; client_ids?: string[]; label?: string; hunt_ids?: string[] }): boolean {
  return Boolean(a.client_id || a.client_ids?.length || a.label || a.hunt_ids?.length);
}
