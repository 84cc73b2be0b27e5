/** Flow tools: list collections on a client, their status, their results (paged server-side), and cancel them. */
import { setTimeout as sleep } from "node:timers/promises";
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import type { Row } from "../../velociraptor/client.js";
import { CancelledError, NotFoundError } from "../../velociraptor/errors.js";
import { listPage, rowsOf } from "./common.js";
import { defineTool, type ToolContext } from "./define.js";
import { ArtifactName, ClientOrServerId, FlowId, OrgId } from "./ids.js";
import { PageInput, renderRowsText, RowsOutput, shapeRows, startOffset } from "./shape.js";

export async function flowRow(ctx: ToolContext, clientId: string, flowId: string): Promise<Row> {
  const rows = await rowsOf(ctx, "SELECT * FROM flows(client_id=ClientId, flow_id=FlowId)", { ClientId: clientId, FlowId: flowId });
  if (!rows[0]) throw new NotFoundError(`Flow ${flowId} on ${clientId}`, "List the client's flows with list_flows.");
  return rows[0];
}

const TERMINAL = new Set(["FINISHED", "ERROR"]);

/**
 * Waits for a flow to finish (progress notifications while it runs); returns the last state seen, or throws
 * CancelledError when the caller cancels — a cancelled wait must not look like a flow that is still RUNNING.
 */
export async function waitForFlow(ctx: ToolContext, clientId: string, flowId: string, timeoutSeconds: number, label = flowId): Promise<string> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const cancelled = () => new CancelledError(`Waiting for ${flowId} on ${clientId}`);
  let state = "RUNNING";
  for (let tick = 0; ; tick++) {
    if (ctx.signal.aborted) throw cancelled();
    state = String((await flowRow(ctx, clientId, flowId)).state);
    if (ctx.signal.aborted) throw cancelled();
    if (TERMINAL.has(state) || Date.now() > deadline) return state;
    await ctx.progress(tick, undefined, `${label}: ${state}`);
    await sleep(Math.min(2000, 250 * (tick + 1), Math.max(0, deadline - Date.now())), undefined, { signal: ctx.signal }).catch(() => undefined);
  }
}

export async function flowErrors(ctx: ToolContext, clientId: string, flowId: string): Promise<string[]> {
  const logs = await rowsOf(ctx, "SELECT level, message FROM flow_logs(client_id=ClientId, flow_id=FlowId)", { ClientId: clientId, FlowId: flowId }, 1000);
  return logs.filter((l) => /error|warn/i.test(String(l.level))).map((l) => String(l.message));
}

/**
 * One page of a flow's results, fetched server-side with source(start_row, count) so a page of a 1M-row flow
 * never loads the flow. With several sources and none requested, says which exist instead of returning nothing.
 */
export async function flowResultsPage(
  ctx: ToolContext,
  args: { client_id: string; flow_id: string; artifact?: string; source?: string; limit: number; offset?: number; cursor?: string; columns?: string[] },
) {
  const flow = await flowRow(ctx, args.client_id, args.flow_id);
  const available = ((flow.artifacts_with_results as string[] | null) ?? []).slice().sort();
  let target = args.artifact && args.source ? `${args.artifact}/${args.source}` : args.artifact;
  if (!target) {
    if (available.length === 0) target = undefined;
    else if (available.length === 1) target = available[0];
    else target = available[0];
  } else if (available.length && !available.includes(target)) {
    const sources = available.filter((a) => a.startsWith(`${target}/`));
    if (sources.length === 1) target = sources[0];
    else if (sources.length > 1) throw new InputError("artifact", `${target} has several sources with results`, `Pick one: ${sources.join(", ")} (pass artifact='Artifact/Source' or source=).`);
  }
  const key = JSON.stringify(["flow", args.client_id, args.flow_id, target]);
  const offset = startOffset(args, key);
  const rows = target
    ? await rowsOf(ctx, "SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName, start_row=int(int=StartRow), count=int(int=PageSize))", {
        ClientId: args.client_id,
        FlowId: args.flow_id,
        ArtifactName: target,
        StartRow: offset,
        PageSize: args.limit + 1,
      })
    : [];
  const running = ["RUNNING", "WAITING", "IN_PROGRESS"].includes(String(flow.state));
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
    "One page of a flow's results, fetched server-side (cheap even for million-row flows). For multi-source artifacts pass artifact='Artifact/Source'; the answer lists available_sources. Coverage says whether more rows exist (next_cursor) or the flow is still running (provisional).",
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
    return { structured: page, text: renderRowsText(`Results of ${args.flow_id} (flow ${page.state}) ${page.artifact ?? "(no results)"}${extra}`, page) };
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
