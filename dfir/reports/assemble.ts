/**
 * Report assembly as a service: resolve the case's scope (dfir/scope), compute the indicator table and a timeline
 * excerpt from its results in one pass, gather the audit actions and the ledger's changes, and write the report in
 * each requested format to the evidence folder. generate_report (mcp/tools/report.ts) only adapts its arguments.
 */
import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { basename } from "node:path";
import { readAudit } from "../../core/audit.js";
import { toMegaraptorError } from "../../core/errors.js";
import type { VelociraptorSession } from "../../velociraptor/session.js";
import { IocAggregator } from "../analysis/iocs/aggregate.js";
import { iocAllowMatcher, type AllowListInput } from "../analysis/iocs/allowlist.js";
import { buildTimeline, newStats } from "../analysis/timeline/build.js";
import { ChangeLedger } from "../response/ledger.js";
import { spillText } from "../results/evidence.js";
import { hostnameMap, resolveScope, type ResolvedScope, type ScopeRequest } from "../scope/resolve.js";
import type { Finding, ReportData } from "./model.js";
import { htmlToPdf } from "./pdf.js";
import { renderReport } from "./render.js";

export const REPORT_FILE_FORMATS = ["markdown", "html", "pdf"] as const;
export type ReportFileFormat = (typeof REPORT_FILE_FORMATS)[number];

export interface ReportRequest extends Partial<ScopeRequest> {
  case_id: string;
  title: string;
  summary?: string;
  findings: Finding[];
  /** Events in the timeline excerpt (0: none). */
  timeline_events: number;
  /** Indicators in the table (0: none). */
  indicators: number;
  formats: ReportFileFormat[];
  /** The same allow-list options as extract_iocs. */
  allow?: AllowListInput;
  use_default_allowlist?: boolean;
}

export interface ReportContext {
  session: VelociraptorSession;
  principal: string;
  auditPath: string;
  /** Deployments made for this case; the caller owns the deploy layer (dfir/ never imports it). */
  deployments(): Promise<NonNullable<ReportData["deployments"]>>;
}

export interface ReportFile {
  format: ReportFileFormat;
  path: string;
  uri: string;
  sha256: string;
  bytes: number;
}

export interface ReportResult {
  files: ReportFile[];
  counts: Record<string, number>;
  caveats: string[];
  suppressed: ReportData["suppressed"];
}

async function* tap<T>(rows: AsyncIterable<T>, see: (row: T) => void): AsyncGenerator<T> {
  for await (const row of rows) {
    see(row);
    yield row;
  }
}

const hasScope = (r: Partial<ScopeRequest>) => Boolean(r.client_id || r.client_ids?.length || r.label || r.hunt_ids?.length);

/** Indicators and the timeline excerpt from one pass over the scope's results. */
async function evidenceOf(scope: ResolvedScope | undefined, r: ReportRequest, caveats: string[]) {
  const agg = new IocAggregator(iocAllowMatcher(r));
  const hosts = scope ? hostnameMap(scope) : new Map<string, string | undefined>();
  const sources = scope?.sources ?? [];
  // Rows feed the aggregator on their way into the timeline; the timeline sorts each source completely before its
  // first event, so every row is seen even when the excerpt stops early.
  // `batches` is dropped: it would bypass the tap (a timeline reads one or the other).
  const counted = sources.map(({ batches: _batches, ...s }) => ({ ...s, rows: r.indicators > 0 ? tap(s.rows, (row) => agg.addRow(row, { client_id: s.client_id, artifact: s.artifact })) : s.rows }));
  const timeline: ReportData["timeline"] = [];
  if (r.timeline_events > 0 && counted.length) {
    const events = buildTimeline(counted, {}, newStats());
    for await (const e of events) {
      timeline.push({ datetime: e.datetime, source: e.source, timestamp_desc: e.timestamp_desc, message: e.message, client_id: e.client_id, hostname: e.client_id ? hosts.get(e.client_id) : undefined });
      if (timeline.length >= r.timeline_events) break;
    }
    await events.return(undefined);
    if (timeline.length >= r.timeline_events) caveats.push(`Timeline excerpt shows the first ${timeline.length} events; run generate_timeline for all.`);
  } else if (r.indicators > 0) for (const s of counted) for await (const _row of s.rows);
  const all = agg.results();
  const indicators = all.slice(0, r.indicators).map((i) => ({ ...i, hosts: i.clients.map((c) => hosts.get(c) ?? c) }));
  if (all.length > indicators.length) caveats.push(`Indicator table shows ${indicators.length} of ${all.length}; run extract_iocs for all.`);
  if (agg.overflow) caveats.push(`${agg.overflow} indicator occurrence(s) beyond the distinct-indicator cap were not counted.`);
  const suppressed = [...agg.suppressed].map(([rule, count]) => ({ rule, count, values: [...(agg.suppressedValues.get(rule) ?? [])] }));
  return { timeline, indicators, suppressed };
}

/** Writes the report in each format; a PDF is the HTML printed by Chromium (the HTML is written first if needed). */
async function writeFiles(data: ReportData, caseId: string, formats: ReportFileFormat[]): Promise<ReportFile[]> {
  const files: ReportFile[] = [];
  let html: { path: string } | undefined;
  for (const format of [...new Set(formats)].sort((a, b) => (a === "pdf" ? 1 : b === "pdf" ? -1 : 0))) {
    if (format === "pdf") {
      html ??= await spillText(renderReport(data, "html"), `report-${caseId}`, "html");
      const pdfPath = html.path.replace(/\.html$/, ".pdf");
      await htmlToPdf(html.path, pdfPath);
      files.push({ format, path: pdfPath, uri: `megaraptor://evidence/${basename(pdfPath)}`, sha256: createHash("sha256").update(readFileSync(pdfPath)).digest("hex"), bytes: statSync(pdfPath).size });
      continue;
    }
    const f = await spillText(renderReport(data, format), `report-${caseId}`, format === "html" ? "html" : "md");
    if (format === "html") html = f;
    files.push({ format, path: f.path, uri: f.uri, sha256: f.sha256, bytes: f.bytes });
  }
  return files;
}

/** Assembles and writes the case report. */
export async function writeReport(r: ReportRequest, ctx: ReportContext): Promise<ReportResult> {
  const scope = hasScope(r) ? await resolveScope(ctx.session, { ...r, max_flows: r.max_flows ?? 50 }) : undefined;
  const caveats = [...(scope?.caveats ?? [])];
  const hosts = scope ? hostnameMap(scope) : new Map<string, string | undefined>();
  const { timeline, indicators, suppressed } = await evidenceOf(scope, r, caveats);

  const actions = readAudit(ctx.auditPath, { case: r.case_id }).map((e) => ({ time: e.time, tool: e.tool, principal: e.principal, outcome: e.outcome, summary: e.summary ?? e.error?.message }));
  const changes = ChangeLedger.for(r.case_id)
    .withStatus()
    .map((e) => ({ seq: e.seq, time: e.time, action: e.action, client_id: e.client_id, hostname: hosts.get(e.client_id), target: e.target, result: e.result, rollback: e.rolled_back_by ? `rolled back by #${e.rolled_back_by}` : e.rollback.possible ? e.rollback.how : `not reversible: ${e.rollback.how}`, reason: e.reason }));
  let deployments: NonNullable<ReportData["deployments"]> = [];
  try {
    deployments = await ctx.deployments();
  } catch (err) {
    caveats.push(`Deployments for this case were not listed: ${toMegaraptorError(err).message}`);
  }
  const flows = scope?.flows ?? [];
  const data: ReportData = {
    case_id: r.case_id,
    title: r.title,
    generated_at: new Date().toISOString(),
    author: ctx.principal,
    summary: r.summary,
    scope: {
      clients: scope?.clients ?? [],
      hunts: (scope?.hunts ?? []).map((h) => ({ hunt_id: h.hunt_id, description: h.description, artifacts: h.artifacts })),
      flows: flows.map((f) => ({ client_id: f.client_id, hostname: hosts.get(f.client_id), flow_id: f.flow_id, artifacts: f.artifacts, created: f.created, state: f.state, status: f.status, hunt_id: f.hunt_id })),
    },
    findings: r.findings,
    indicators,
    suppressed,
    timeline,
    actions,
    changes,
    deployments,
    appendix: {
      flows: flows.filter((f) => f.via !== "hunt").map((f) => ({ flow_id: f.flow_id, client_id: f.client_id, artifacts: f.artifacts, parameters: f.parameters })),
      queries: (scope?.sources ?? []).map((s) => ({
        description: s.hunt_id ? `Results of hunt ${s.hunt_id}, ${s.artifact}` : `Results of flow ${s.flow_id} on ${s.client_id}${s.client_id && hosts.get(s.client_id) ? ` (${hosts.get(s.client_id)})` : ""}, ${s.artifact}`,
        vql: s.query.vql,
        env: s.query.env,
      })),
    },
    caveats,
  };
  const files = await writeFiles(data, r.case_id, r.formats);
  const counts = {
    clients: data.scope.clients.length,
    hunts: data.scope.hunts.length,
    flows: flows.length,
    findings: r.findings.length,
    indicators: indicators.length,
    suppressed: suppressed.reduce((n, s) => n + s.count, 0),
    timeline_events: timeline.length,
    actions: actions.length,
    changes: changes.length,
    deployments: deployments.length,
  };
  return { files, counts, caveats, suppressed };
}
