/**
 * generate_report: an investigation report for a case — scope, the findings the caller passes in, indicators and a
 * timeline excerpt computed from the scope's results, the actions in the audit log and the changes in the case's
 * ledger, and an appendix with the exact queries and artifact parameters (so every number can be reproduced).
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { z } from "zod";
import { readAudit } from "../../core/audit.js";
import { AllowMatcher, DEFAULT_ALLOW, loadAllowListFile, mergeAllowLists } from "../../dfir/analysis/iocs/allowlist.js";
import { IocAggregator } from "../../dfir/analysis/iocs/aggregate.js";
import { buildTimeline, newStats } from "../../dfir/analysis/timeline/build.js";
import { toMegaraptorError } from "../../core/errors.js";
import { NotFoundError } from "../../velociraptor/errors.js";
import { ChangeLedger } from "../../dfir/response/ledger.js";
import { automationEngine, filterDeployments } from "../../deploy/operations/index.js";
import { FindingSchema, type ReportData } from "../../dfir/reports/model.js";
import { htmlToPdf } from "../../dfir/reports/pdf.js";
import { renderReport } from "../../dfir/reports/render.js";
import { spillText } from "../../dfir/results/evidence.js";
import { rowsOf } from "./common.js";
import { defineTool } from "./define.js";
import { CaseId, OrgId } from "./ids.js";
import { clientIdentity } from "./endpoint.js";
import { huntArtifacts, resolveScope, ScopeInput } from "./scope.js";

async function* tap<T>(rows: AsyncIterable<T>, see: (row: T) => void): AsyncGenerator<T> {
  for await (const row of rows) {
    see(row);
    yield row;
  }
}

export const generateReport = defineTool({
  name: "generate_report",
  title: "Write an investigation report",
  description:
    "Write a case report (Markdown and/or standalone HTML with a timeline chart) to the evidence folder: scope (clients, hunts, flows), the key findings you pass in, an indicator table and a timeline excerpt computed from the scope's results, actions taken (this case's audit-log entries), endpoint changes (the case's remediation ledger), caveats, and an appendix with the exact VQL, env and artifact parameters used. Returns the file paths and SHA-256s.",
  input: z.object({
    case_id: CaseId,
    title: z.string().min(1).max(300),
    summary: z.string().max(20_000).optional(),
    findings: z.array(FindingSchema).max(200).default([]),
    ...ScopeInput,
    timeline_events: z.number().int().min(0).max(5000).default(200).describe("events in the timeline excerpt"),
    indicators: z.number().int().min(0).max(5000).default(100).describe("indicators in the table"),
    formats: z.array(z.enum(["markdown", "html", "pdf"])).min(1).default(["markdown", "html"]).describe("pdf needs Chromium on the machine running Megaraptor"),
    org_id: OrgId,
  }),
  output: z.object({ files: z.array(z.object({ format: z.string(), path: z.string(), uri: z.string(), sha256: z.string(), bytes: z.number() })), counts: z.record(z.string(), z.number()) }),
  preset: "evidence",
  async handler(args, ctx) {
    const scoped = Boolean(args.client_id || args.hunt_ids?.length);
    const sources = scoped ? await resolveScope(ctx, args) : [];
    const caveats: string[] = [];

    // Scope descriptions.
    const clientIds = new Set<string>(args.client_id ? [args.client_id] : []);
    const hunts = [];
    for (const h of args.hunt_ids ?? []) {
      const row = (await rowsOf(ctx, "SELECT * FROM hunts(hunt_id=HuntId)", { HuntId: h }))[0] ?? {};
      hunts.push({ hunt_id: h, description: String(row.hunt_description ?? ""), artifacts: huntArtifacts(row) });
      for (const f of await rowsOf(ctx, "SELECT ClientId FROM hunt_flows(hunt_id=HuntId)", { HuntId: h }, 10_000)) clientIds.add(String(f.ClientId));
    }
    const clients = [];
    for (const id of clientIds) {
      // A client removed since its hunt ran is still part of the scope, just without a hostname.
      const c = await clientIdentity(ctx, id).catch((err: unknown) => {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      });
      clients.push({ client_id: id, hostname: c?.hostname, os: c?.os });
    }
    const flowIds = [...new Set(sources.filter((s) => s.flow_id).map((s) => `${s.client_id}\u0000${s.flow_id}`))];
    const flows = [];
    for (const key of flowIds) {
      const [client_id, flow_id] = key.split("\u0000") as [string, string];
      const row = (await rowsOf(ctx, "SELECT * FROM flows(client_id=ClientId, flow_id=FlowId)", { ClientId: client_id, FlowId: flow_id }))[0] ?? {};
      const request = (row.request as { artifacts?: string[]; specs?: unknown } | null) ?? {};
      if (row.state === "ERROR") caveats.push(`Flow ${flow_id} on ${client_id} failed: ${String(row.status ?? "")}`);
      flows.push({ client_id, flow_id, artifacts: request.artifacts ?? [], created: typeof row.create_time === "number" ? new Date(row.create_time / 1000).toISOString() : undefined, state: String(row.state ?? ""), parameters: request.specs });
    }

    // Indicators and the timeline excerpt from one pass over the results: rows feed the aggregator on their way into
    // the timeline. The timeline sorts each source completely before its first event, so every row is seen even
    // when the excerpt stops early.
    const agg = new IocAggregator(new AllowMatcher(mergeAllowLists(DEFAULT_ALLOW, loadAllowListFile())));
    const counted = sources.map((s) => ({ ...s, rows: args.indicators > 0 ? tap(s.rows, (row) => agg.addRow(row, { client_id: s.client_id, artifact: s.artifact })) : s.rows }));
    const stats = newStats();
    const timeline: ReportData["timeline"] = [];
    if (args.timeline_events > 0 && counted.length) {
      const events = buildTimeline(counted, {}, stats);
      for await (const e of events) {
        timeline.push({ datetime: e.datetime, source: e.source, timestamp_desc: e.timestamp_desc, message: e.message, client_id: e.client_id });
        if (timeline.length >= args.timeline_events) break;
      }
      await events.return(undefined);
      if (timeline.length >= args.timeline_events) caveats.push(`Timeline excerpt shows the first ${timeline.length} events; run generate_timeline for all.`);
    } else if (args.indicators > 0) for (const s of counted) for await (const _row of s.rows);
    const indicators = agg.results().slice(0, args.indicators);
    if (agg.size > indicators.length) caveats.push(`Indicator table shows ${indicators.length} of ${agg.size}; run extract_iocs for all.`);

    const actions = readAudit(ctx.audit.path, { case: args.case_id }).map((e) => ({ time: e.time, tool: e.tool, principal: e.principal, outcome: e.outcome, summary: e.summary ?? e.error?.message }));
    const changes = ChangeLedger.for(args.case_id).withStatus().map((e) => ({ seq: e.seq, time: e.time, action: e.action, client_id: e.client_id, target: e.target, result: e.result, rollback: e.rolled_back_by ? `rolled back by #${e.rolled_back_by}` : e.rollback.possible ? e.rollback.how : `not reversible: ${e.rollback.how}`, reason: e.reason }));
    // Deployments made for this case (deploy tools take the same case id); the state needs the Pulumi CLI.
    let deployments: NonNullable<ReportData["deployments"]> = [];
    try {
      deployments = filterDeployments(await (await automationEngine()).list(), { caseId: args.case_id, includeDestroyed: true }).map((d) => ({
        id: d.id,
        target: d.settings.target,
        profile: d.settings.profile,
        status: d.status,
        updated: d.updatedAt,
        server_url: typeof d.outputs?.serverUrl?.value === "string" ? d.outputs.serverUrl.value : undefined,
      }));
    } catch (err) {
      caveats.push(`Deployments for this case were not listed: ${toMegaraptorError(err).message}`);
    }
    const queries = [
      ...sources.map((s) =>
        s.hunt_id
          ? { description: `Results of hunt ${s.hunt_id}, ${s.artifact}`, vql: "SELECT * FROM hunt_results(hunt_id=HuntId, artifact=ArtifactName)", env: { HuntId: s.hunt_id, ArtifactName: s.artifact } }
          : { description: `Results of flow ${s.flow_id} on ${s.client_id}, ${s.artifact}`, vql: "SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", env: { ClientId: s.client_id, FlowId: s.flow_id, ArtifactName: s.artifact } },
      ),
    ];
    const data: ReportData = {
      case_id: args.case_id,
      title: args.title,
      generated_at: new Date().toISOString(),
      author: ctx.principal,
      summary: args.summary,
      scope: { clients, hunts, flows: flows.map(({ parameters: _p, ...f }) => f) },
      findings: args.findings,
      indicators,
      timeline,
      actions,
      changes,
      deployments,
      appendix: { flows: flows.map((f) => ({ flow_id: f.flow_id, client_id: f.client_id, artifacts: f.artifacts, parameters: f.parameters })), queries },
      caveats,
    };
    const files = [];
    let html: { path: string } | undefined;
    for (const format of [...new Set(args.formats)].sort((a, b) => (a === "pdf" ? 1 : b === "pdf" ? -1 : 0))) {
      if (format === "pdf") {
        // The PDF is the HTML printed by Chromium; write the HTML first if it was not asked for.
        html ??= await spillText(renderReport(data, "html"), `report-${args.case_id}`, "html");
        const pdfPath = html.path.replace(/\.html$/, ".pdf");
        await htmlToPdf(html.path, pdfPath);
        files.push({ format, path: pdfPath, uri: `megaraptor://evidence/${basename(pdfPath)}`, sha256: createHash("sha256").update(readFileSync(pdfPath)).digest("hex"), bytes: statSync(pdfPath).size });
        continue;
      }
      const f = await spillText(renderReport(data, format), `report-${args.case_id}`, format === "html" ? "html" : "md");
      if (format === "html") html = f;
      files.push({ format, path: f.path, uri: f.uri, sha256: f.sha256, bytes: f.bytes });
    }
    const counts = { clients: clients.length, hunts: hunts.length, flows: flows.length, findings: args.findings.length, indicators: indicators.length, timeline_events: timeline.length, actions: actions.length, changes: changes.length, deployments: deployments.length };
    return {
      structured: { files, counts },
      text: [`Report for case ${args.case_id}: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(", ")}`, ...files.map((f) => `${f.format}: ${f.path} (sha256 ${f.sha256})`), ...caveats.map((c) => `caveat: ${c}`)].join("\n"),
      auditSummary: files.map((f) => `${f.path} sha256=${f.sha256}`).join(" "),
    };
  },
});
