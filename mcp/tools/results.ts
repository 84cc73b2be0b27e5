/** Whole-result tools: stack a flow's or hunt's results server-side, or spill them to an evidence file. */
import { numericSetting } from "../../core/settings.js";
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { spillRows } from "../../dfir/results/evidence.js";
import { stackRows } from "../../dfir/results/stack.js";
import type { Row } from "../../velociraptor/client.js";
import { vqlQuery } from "../../velociraptor/query.js";
import { defineTool, type ToolContext } from "./define.js";
import { ArtifactName, ClientOrServerId, FlowId, HuntId, OrgId } from "./ids.js";

const Source = {
  client_id: ClientOrServerId.optional(),
  flow_id: FlowId.optional(),
  hunt_id: HuntId.optional(),
  artifact: ArtifactName.optional().describe("Artifact or Artifact/Source (required for hunts with several artifacts)"),
  org_id: OrgId,
};

type SourceArgs = { client_id?: string; flow_id?: string; hunt_id?: string; artifact?: string };

/** Streams every row of a flow or hunt result through the client (consumed as it arrives). */
export function resultRows(ctx: ToolContext, a: SourceArgs): AsyncIterable<Row> {
  if (a.hunt_id) {
    const q = a.artifact ? vqlQuery("SELECT * FROM hunt_results(hunt_id=HuntId, artifact=ArtifactName)", { HuntId: a.hunt_id, ArtifactName: a.artifact }) : vqlQuery("SELECT * FROM hunt_results(hunt_id=HuntId)", { HuntId: a.hunt_id });
    return ctx.client().query(q, { orgId: ctx.orgId, signal: ctx.signal });
  }
  if (!a.client_id || !a.flow_id) throw new InputError("flow_id", "give client_id and flow_id, or hunt_id", "e.g. client_id=C.1a2b3c4d5e6f7a01 flow_id=F.CT1PSLIST01");
  const q = a.artifact
    ? vqlQuery("SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", { ClientId: a.client_id, FlowId: a.flow_id, ArtifactName: a.artifact })
    : vqlQuery("SELECT * FROM source(client_id=ClientId, flow_id=FlowId)", { ClientId: a.client_id, FlowId: a.flow_id });
  return ctx.client().query(q, { orgId: ctx.orgId, signal: ctx.signal });
}

export const stackResults = defineTool({
  name: "stack_results",
  title: "Stack results (least frequency of occurrence)",
  description:
    "Aggregate a flow's or hunt's results by columns (nested paths work) — count, distinct clients, first/last time — rarest first, so a million rows become a few dozen lines: the classic DFIR pivot for rare process names, paths or hashes across a hunt. Bounded memory.",
  input: z.object({
    ...Source,
    group_by: z.array(z.string().min(1)).min(1).max(5).describe("columns to group by, e.g. [\"Name\", \"Exe\"]; nested paths such as Authenticode.Trusted are accepted"),
    time_field: z.string().optional().describe("column with a timestamp for first/last seen"),
    order: z.enum(["rarest", "commonest"]).default("rarest"),
    limit: z.number().int().min(1).max(1000).default(50),
  }),
  output: z.object({
    groups: z.array(z.object({ key: z.record(z.string(), z.unknown()), count: z.number(), clients: z.number(), first: z.string().optional(), last: z.string().optional() })),
    rows_scanned: z.number(),
    groups_total: z.number(),
    coverage: z.object({ status: z.enum(["exhaustive", "truncated"]), note: z.string() }),
  }),
  preset: "read",
  async handler(args, ctx) {
    const r = await stackRows(resultRows(ctx, args), { groupBy: args.group_by, timeField: args.time_field, order: args.order, maxGroups: numericSetting("MEGARAPTOR_STACK_MAX_GROUPS") });
    const shown = r.groups.slice(0, args.limit);
    const cut = shown.length < r.groups.length || r.overflowGroups;
    const coverage = cut
      ? { status: "truncated" as const, note: `${shown.length} of ${r.groupsTotal} groups shown${r.overflowGroups ? `; ${r.overflowRows} rows fell outside the group cap` : ""}. Raise limit, or group by fewer/coarser columns.` }
      : { status: "exhaustive" as const, note: `All ${r.groupsTotal} groups from ${r.rowsScanned} rows.` };
    const text = [`${r.rowsScanned} rows → ${r.groupsTotal} groups (${args.order} first) [${coverage.status}] ${coverage.note}`, ...shown.map((g) => `${String(g.count).padStart(8)}  ${g.clients} client(s)  ${JSON.stringify(g.key)}`)].join("\n");
    return { structured: { groups: shown, rows_scanned: r.rowsScanned, groups_total: r.groupsTotal, coverage }, text };
  },
});

export const exportResults = defineTool({
  name: "export_results",
  title: "Write full results to an evidence file",
  description: "Write every row of a flow's or hunt's results to a JSON Lines evidence file (MEGARAPTOR_EVIDENCE_DIR): path, row count, size, SHA-256 and a megaraptor://evidence/ URI; the rows stay out of the conversation.",
  input: z.object(Source),
  output: z.object({ path: z.string(), uri: z.string(), rows: z.number(), bytes: z.number(), sha256: z.string() }),
  preset: "evidence",
  async handler(args, ctx) {
    const label = args.hunt_id ? `${args.hunt_id}-${args.artifact ?? "results"}` : `${args.client_id}-${args.flow_id}-${args.artifact ?? "results"}`;
    const f = await spillRows(resultRows(ctx, args), label);
    return {
      structured: { path: f.path, uri: f.uri, rows: f.rows ?? 0, bytes: f.bytes, sha256: f.sha256 },
      text: `Wrote ${f.rows} rows (${f.bytes} bytes) to ${f.path}\nsha256 ${f.sha256}`,
      auditSummary: `${f.path} sha256=${f.sha256} rows=${f.rows}`,
    };
  },
});

export const resultTools = [stackResults, exportResults];
