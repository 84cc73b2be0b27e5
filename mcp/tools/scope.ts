/**
 * The evidence an analysis reads: a client's flows (all recent ones, or named ones) and/or hunts, expanded into one
 * stream of rows per artifact source. Rows are fetched lazily, so an analysis streams them instead of loading them.
 */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import type { Row } from "../../velociraptor/client.js";
import { vqlQuery } from "../../velociraptor/query.js";
import { rowsOf } from "./common.js";
import type { ToolContext } from "./define.js";
import { ClientId, FlowId, HuntId } from "./ids.js";

export const ScopeInput = {
  client_id: ClientId.optional().describe("the client whose flows to read (all recent flows unless flow_ids is given)"),
  flow_ids: z.array(FlowId).max(200).optional().describe("only these flows of client_id"),
  hunt_ids: z.array(HuntId).max(50).optional().describe("hunts whose results (all their clients) to read"),
  artifacts: z.array(z.string().min(1)).max(100).optional().describe("only these artifacts (name or Artifact/Source)"),
  max_flows: z.number().int().min(1).max(500).default(50).describe("most recent flows to read when flow_ids is not given"),
};
export type ScopeArgs = { client_id?: string; flow_ids?: string[]; hunt_ids?: string[]; artifacts?: string[]; max_flows: number };

export interface ScopeSource {
  artifact: string;
  client_id?: string;
  flow_id?: string;
  hunt_id?: string;
  rows: AsyncIterable<Row>;
}

function wanted(artifact: string, filter?: string[]): boolean {
  return !filter?.length || filter.some((f) => artifact === f || artifact.startsWith(`${f}/`) || f.startsWith(`${artifact}/`));
}

/** A hunt's artifacts from its hunts() row (`artifacts`, or `start_request.artifacts` on servers that omit it). */
export function huntArtifacts(row: Row): string[] {
  return (row.artifacts as string[] | null) ?? (row.start_request as { artifacts?: string[] } | null)?.artifacts ?? [];
}

/** The scope's sources; refuses an empty scope with what to pass. */
export async function resolveScope(ctx: ToolContext, a: ScopeArgs): Promise<ScopeSource[]> {
  if (!a.client_id && !a.hunt_ids?.length)
    throw new InputError("client_id", "give a client_id (with optional flow_ids) and/or hunt_ids", "Find clients with list_clients and their collections with list_flows.");
  if (a.flow_ids?.length && !a.client_id) throw new InputError("flow_ids", "flow ids belong to a client: give client_id too", "e.g. client_id=C.1a2b3c4d5e6f7a01 flow_ids=[F.CT1PSLIST01]");
  const out: ScopeSource[] = [];
  if (a.client_id) {
    const flows = a.flow_ids?.length
      ? await Promise.all(a.flow_ids.map(async (f) => (await rowsOf(ctx, "SELECT session_id, artifacts_with_results, request FROM flows(client_id=ClientId, flow_id=FlowId)", { ClientId: a.client_id, FlowId: f }))[0] ?? { session_id: f, missing: true }))
      : (await rowsOf(ctx, "SELECT session_id, artifacts_with_results, request FROM flows(client_id=ClientId)", { ClientId: a.client_id }, a.max_flows));
    for (const f of flows) {
      if (f.missing) throw new InputError("flow_ids", `flow ${String(f.session_id)} does not exist on ${a.client_id}`, "List the client's flows with list_flows.");
      for (const artifact of ((f.artifacts_with_results as string[] | null) ?? []).filter((x) => wanted(x, a.artifacts)))
        out.push({
          artifact,
          client_id: a.client_id,
          flow_id: String(f.session_id),
          rows: ctx.client().query(vqlQuery("SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", { ClientId: a.client_id, FlowId: f.session_id, ArtifactName: artifact }), { orgId: ctx.orgId, signal: ctx.signal }),
        });
    }
  }
  for (const h of a.hunt_ids ?? []) {
    const row = (await rowsOf(ctx, "SELECT * FROM hunts(hunt_id=HuntId)", { HuntId: h }))[0];
    if (!row) throw new InputError("hunt_ids", `hunt ${h} does not exist`, "List hunts with list_hunts.");
    for (const artifact of huntArtifacts(row).filter((x) => wanted(x, a.artifacts)))
      out.push({
        artifact,
        hunt_id: h,
        rows: ctx.client().query(vqlQuery("SELECT * FROM hunt_results(hunt_id=HuntId, artifact=ArtifactName)", { HuntId: h, ArtifactName: artifact }), { orgId: ctx.orgId, signal: ctx.signal }),
      });
  }
  return out;
}
