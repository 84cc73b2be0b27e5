/**
 * generate_report: the MCP adapter for the report service (dfir/reports/assemble.ts). It maps arguments, lists the
 * case's deployments (the deploy layer is the MCP layer's to call, not dfir's) and renders the answer.
 */
import { z } from "zod";
import { IocAllowInput } from "../../dfir/analysis/iocs/allowlist.js";
import { FindingSchema } from "../../dfir/reports/model.js";
import { REPORT_FILE_FORMATS, writeReport } from "../../dfir/reports/assemble.js";
import { automationEngine, filterDeployments } from "../../deploy/operations/index.js";
import { defineTool } from "./define.js";
import { CaseId, OrgId } from "./ids.js";
import { ScopeInput } from "./scope.js";

export const generateReport = defineTool({
  name: "generate_report",
  title: "Write an investigation report",
  description:
    "Write a case report (Markdown and/or HTML with a timeline chart; pdf needs Chromium) to the evidence folder: scope with hosts and flow states, the findings you pass in, an indicator table (extract_iocs allow-list options; suppressed values listed), a timeline excerpt, this case's audited actions and ledger changes, caveats, and an appendix with the exact VQL and parameters. Returns paths and SHA-256s.",
  input: z.object({
    case_id: CaseId,
    title: z.string().min(1).max(300),
    summary: z.string().max(20_000).optional(),
    findings: z.array(FindingSchema).max(200).default([]),
    ...ScopeInput,
    ...IocAllowInput,
    timeline_events: z.number().int().min(0).max(5000).default(200).describe("events in the timeline excerpt"),
    indicators: z.number().int().min(0).max(5000).default(100).describe("indicators in the table"),
    formats: z.array(z.enum(REPORT_FILE_FORMATS)).min(1).default(["markdown", "html"]).describe("pdf needs Chromium on the machine running Megaraptor"),
    org_id: OrgId,
  }),
  output: z.object({
    files: z.array(z.object({ format: z.string(), path: z.string(), uri: z.string(), sha256: z.string(), bytes: z.number() })),
    counts: z.record(z.string(), z.number()),
    suppressed: z.array(z.object({ rule: z.string(), count: z.number(), values: z.array(z.string()) })),
    caveats: z.array(z.string()),
  }),
  preset: "evidence",
  async handler(args, ctx) {
    const r = await writeReport(args, {
      session: ctx,
      principal: ctx.principal,
      auditPath: ctx.audit.path,
      // Deployments made for this case (deploy tools take the same case id); the state needs the Pulumi CLI.
      deployments: async () =>
        filterDeployments(await (await automationEngine()).list(), { case_id: args.case_id, includeDestroyed: true }).map((d) => ({
          id: d.id,
          target: d.settings.target,
          profile: d.settings.profile,
          status: d.status,
          updated: d.updatedAt,
          server_url: typeof d.outputs?.serverUrl?.value === "string" ? d.outputs.serverUrl.value : undefined,
        })),
    });
    const suppressed = r.suppressed ?? [];
    return {
      structured: { files: r.files, counts: r.counts, suppressed, caveats: r.caveats },
      text: [
        `Report for case ${args.case_id}: ${Object.entries(r.counts).map(([k, v]) => `${v} ${k}`).join(", ")}`,
        ...r.files.map((f) => `${f.format}: ${f.path} (sha256 ${f.sha256})`),
        ...suppressed.map((s) => `suppressed (${s.rule}): ${s.count} occurrence(s): ${s.values.slice(0, 10).join(", ")}${s.values.length > 10 ? ", …" : ""}`),
        ...r.caveats.map((c) => `caveat: ${c}`),
      ].join("\n"),
      auditSummary: r.files.map((f) => `${f.path} sha256=${f.sha256}`).join(" "),
    };
  },
});
