/** Flow tools: list collections on a client, their status, their results (paged server-side), and cancel them. */
import { z } from "zod";
import type { Waited } from "../../dfir/collection/collect.js";
import { flowErrors, flowRow, pickSource, readSource, RUNNING_STATES, sourcesWithResults } from "../../dfir/collection/flows.js";
import { NotFoundError } from "../../velociraptor/errors.js";
import { listPage, rowsOf } from "./common.js";
import { defineTool, type ToolContext } from "./define.js";
import { ArtifactName, ClientOrServerId, FlowId, OrgId } from "./ids.js";
import { renderRowsText } from "./page-text.js";
import { PageInput, RowsOutput, shapeRows, startOffset, type Shaped } from "./shape.js";

export { flowErrors, flowRow, waitForFlow } from "../../dfir/collection/flows.js";

/**
 * One page of a flow's results, fetched server-side with source(start_row, count) so a page of a 1M-row flow
 * never loads the flow. With several result sets and none (or an artifact without its source) named, reads the first
 * with results and lists all of them in available_sources.
 */
export async function flowResultsPage(
  ctx: ToolContext,
  args: { client_id: string; flow_id: string; artifact?: string; source?: string; limit: number; offset?: number; cursor?: string; columns?: string[] },
) {
  const flow = await flowRow(ctx, args.client_id, args.flow_id);
  const available = sourcesWithResults(flow);
  const target = pickSource(available, args.artifact, args.source);
  const key = JSON.stringify(["flow", args.client_id, args.flow_id, target]);
  const offset = startOffset(args, key);
  const rows = target ? await readSource(ctx, args.client_id, args.flow_id, target, offset, args.limit + 1) : [];
  const running = RUNNING_STATES.has(String(flow.state));
  const shaped = shapeRows({
    rows,
    offset,
    limit: args.limit,
    queryKey: key,
    columns: args.columns,
    total: typeof flow.total_collected_rows === "number" && available.length <= 1 ? flow.total_collected_rows : undefined,
    provisional: running ? `The flow is still ${String(flow.state)}; more results may arrive. Check get_flow_status, then page again.` : undefined,
    failed: flow.state === "ERROR" ? `The flow ended in ERROR (${String(flow.status || "no status recorded")}): ${offset + Math.min(rows.length, args.limit)} row(s) are all it collected before it stopped, not all there is. get_flow_status shows its error log; collect again for the rest.` : undefined,
  });
  return { ...shaped, artifact: target ?? null, available_sources: available, state: String(flow.state) };
}

export const FirstPageOutput = z.object({ artifact: z.string(), ...RowsOutput });

/** The first page of each result set of a waited-for flow, shaped like get_flow_results pages (with their cursors). */
export function shapeFirstPages(clientId: string, flowId: string, waited: Waited, limit: number): (Shaped & { artifact: string })[] {
  const running = RUNNING_STATES.has(waited.state);
  return waited.pages.map((p) => ({
    artifact: p.artifact,
    ...shapeRows({
      rows: p.rows,
      offset: 0,
      limit,
      queryKey: JSON.stringify(["flow", clientId, flowId, p.artifact]),
      total: waited.pages.length === 1 ? waited.totalRows : undefined,
      provisional: running ? `The flow is still ${waited.state}; more results may arrive. Check get_flow_status, then page with get_flow_results.` : undefined,
    }),
  }));
}

/** The text of first pages: each result set under its name, or why there are none. */
export function firstPagesText(flowId: string, state: string, errors: string[], pages: (Shaped & { artifact: string })[]): string {
  return [
    `Flow ${flowId} is ${state}.`,
    ...errors.map((e) => `error: ${e}`),
    ...(pages.length ? pages.map((p) => renderRowsText(`First page of ${p.artifact} (get_flow_results artifact=${p.artifact})`, p)) : [state === "FINISHED" ? "No result set has rows." : "No rows yet."]),
  ].join("\n");
}

export const listFlows = defineTool({
  name: "list_flows",
  title: "List collections on a client",
  description: "Collections (flows) on one client, newest first: flow id, artifacts, state, row counts. Use get_flow_results to read one.",
  input: z.object({ client_id: ClientOrServerId, org_id: OrgId, ...PageInput }),
  output: z.object(RowsOutput),
  preset: "read",
  async handler(args, ctx) {
    return listPage(ctx, args, {
      key: ["list_flows", args.client_id, args.org_id],
      vql: "SELECT session_id AS flow_id, request.artifacts AS artifacts, state, status, create_time, total_collected_rows, total_uploaded_files FROM flows(client_id=ClientId)",
      params: { ClientId: args.client_id },
      title: `Flows on ${args.client_id}`,
    });
  },
});

export const getFlowStatus = defineTool({
  name: "get_flow_status",
  title: "Collection status",
  description: "State of one flow (RUNNING, FINISHED, ERROR…), timing, row and upload counts, and its error log lines if it failed.",
  input: z.object({ client_id: ClientOrServerId, flow_id: FlowId, org_id: OrgId }),
  output: z.object({ flow: z.record(z.string(), z.unknown()), errors: z.array(z.string()) }),
  preset: "read",
  async handler(args, ctx) {
    const flow = shapeRows({ rows: [await flowRow(ctx, args.client_id, args.flow_id)], offset: 0, limit: 1, queryKey: "x" }).rows[0]!;
    const errors = flow.state === "ERROR" ? await flowErrors(ctx, args.client_id, args.flow_id) : [];
    return { structured: { flow, errors }, text: `Flow ${args.flow_id}: ${String(flow.state)}${errors.length ? `\nErrors:\n${errors.join("\n")}` : ""}` };
  },
});

export const getFlowResults = defineTool({
  name: "get_flow_results",
  title: "Read collection results",
  description:
    "One page of a flow's results, read server-side (cheap for million-row flows). Multi-source artifacts: artifact='Artifact/Source'; the answer lists the sources. Coverage says whether more rows exist (next_cursor) or the flow still runs (provisional).",
  input: z.object({
    client_id: ClientOrServerId,
    flow_id: FlowId,
    artifact: ArtifactName.optional(),
    source: z.string().optional().describe("source name within a multi-source artifact"),
    org_id: OrgId,
    ...PageInput,
  }),
  output: z.object({ ...RowsOutput, artifact: z.string().nullable(), available_sources: z.array(z.string()), state: z.string() }),
  preset: "read",
  async handler(args, ctx) {
    const page = await flowResultsPage(ctx, args);
    const extra = page.available_sources.length > 1 ? ` (sources with results: ${page.available_sources.join(", ")})` : "";
    return { structured: page, text: renderRowsText(`Results of ${args.flow_id} (flow ${page.state}) ${page.artifact ?? "(no results)"}${extra}`, page), textCarriesAll: true };
  },
});

export const cancelFlow = defineTool({
  name: "cancel_flow",
  title: "Cancel a collection",
  description: "Cancel a running flow on a client. Changes state; audited.",
  input: z.object({ client_id: ClientOrServerId, flow_id: FlowId, org_id: OrgId }),
  output: z.object({ flow_id: z.string(), cancelled: z.boolean(), state: z.string() }),
  preset: "change",
  async handler(args, ctx) {
    const rows = await rowsOf(ctx, "SELECT cancel_flow(client_id=ClientId, flow_id=FlowId) AS R FROM scope()", { ClientId: args.client_id, FlowId: args.flow_id });
    if (!rows[0]?.R) throw new NotFoundError(`Flow ${args.flow_id} on ${args.client_id}`, "List the client's flows with list_flows.");
    const flow = await flowRow(ctx, args.client_id, args.flow_id);
    return {
      structured: { flow_id: args.flow_id, cancelled: true, state: String(flow.state) },
      text: `Cancelled ${args.flow_id}; state now ${String(flow.state)}.`,
    };
  },
});

export const flowTools = [listFlows, getFlowStatus, getFlowResults, cancelFlow];
