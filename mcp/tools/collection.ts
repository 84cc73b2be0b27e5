/**
 * Collection tools: templates (named scenario bundles) on one client or as a hunt, bulk collection across many
 * clients, and quick_triage — one flow with the OS's triage bundle, summarised with the notable rows first.
 */
import { z } from "zod";
import { collectBulk as collectBulkService } from "../../dfir/collection/collect.js";
import { collectTemplate as collectTemplateService, collectTriage, huntTemplate as huntTemplateService, templateCollectionArtifacts, templateHuntPlanRequest, TRIAGE_ROWS } from "../../dfir/collection/template-runs.js";
import { loadTemplates, OSES, type Os } from "../../dfir/collection/templates.js";
import { NOTABLE, notableLine, triageHost } from "../../dfir/collection/triage/score.js";
import { enforceArtifacts, respondPlan } from "../safety/artifact-effects.js";
import { checkArtifacts, perArtifactParameters } from "./catalog.js";
import { defineTool } from "./define.js";
import { firstPagesText, FirstPageOutput, shapeFirstPages } from "./flows.js";
import { huntText, planHunt } from "./hunts.js";
import { ArtifactName, CaseId, ClientId, OrgId } from "./ids.js";
import { PageInput } from "./shape.js";
import { collectionSession } from "./session.js";

const TemplateParams = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional().describe("values for the template's {{Parameters}}");

export const listCollectionTemplates = defineTool({
  name: "list_collection_templates",
  title: "List collection templates",
  description: "Artifact bundles for common scenarios (malware, lateral movement, ransomware, persistence, credential theft, web server, exfiltration, Linux/macOS intrusion, quick triage) per OS, built-in plus MEGARAPTOR_TEMPLATE_DIR. Use with collect_template or hunt_template.",
  input: z.object({ os: z.enum(OSES).optional().describe("only templates covering this OS") }),
  output: z.object({ templates: z.array(z.object({ name: z.string(), version: z.string(), title: z.string(), description: z.string(), tags: z.array(z.string()), os: z.array(z.string()), parameters: z.array(z.record(z.string(), z.unknown())), artifacts: z.record(z.string(), z.array(z.object({ artifact: z.string(), why: z.string() }))), source: z.string() })) }),
  preset: "read",
  async handler(args) {
    const list = [...loadTemplates().values()].filter((t) => !args.os || t.artifacts[args.os]?.length);
    const templates = list.map((t) => ({
      name: t.name,
      version: t.version,
      title: t.title,
      description: t.description,
      tags: t.tags,
      os: Object.keys(t.artifacts).filter((o) => t.artifacts[o as Os]?.length),
      parameters: t.parameters,
      artifacts: Object.fromEntries(Object.entries(t.artifacts).map(([o, l]) => [o, (l ?? []).map((a) => ({ artifact: a.artifact, why: a.why }))])),
      source: t.source,
    }));
    return { structured: { templates }, text: templates.map((t) => `${t.name} ${t.version} — ${t.title} [${t.os.join(", ")}]`).join("\n") };
  },
});

export const collectTemplate = defineTool({
  name: "collect_template",
  title: "Collect a template on one client",
  description: "Collect a collection template's artifacts for the client's OS (detected from the client) in one flow. Artifacts the server lacks are refused (or skipped with skip_missing=true, and listed). wait=true waits with progress and returns the first page of every result set.",
  input: z.object({
    client_id: ClientId,
    template: z.string().min(1),
    template_parameters: TemplateParams,
    skip_missing: z.boolean().default(false),
    wait: z.boolean().default(false),
    wait_timeout: z.number().int().min(1).max(3600).default(600),
    limit: PageInput.limit,
    case_id: CaseId.optional(),
    org_id: OrgId,
  }),
  output: z.object({
    template: z.string(),
    version: z.string(),
    os: z.string(),
    hostname: z.string(),
    artifacts: z.array(z.string()),
    missing: z.array(z.string()),
    flow_id: z.string(),
    state: z.string(),
    errors: z.array(z.string()),
    pages: z.array(FirstPageOutput).optional().describe("with wait=true: the first page of each result set with rows"),
  }),
  preset: "collect",
  // Templates are user files: what their artifacts do decides, as for collect_artifact.
  async plan(args, ctx) {
    const { template: t, artifacts } = await templateCollectionArtifacts(ctx, { clientId: args.client_id, template: args.template, values: args.template_parameters });
    if (!artifacts.length) return undefined;
    const a = await enforceArtifacts(ctx, artifacts, { onServer: false, via: "collect_template" });
    return respondPlan(a, `Collect template ${t.name} on ${args.client_id}`, { client_id: args.client_id, template: t.name, version: t.version });
  },
  async handler(args, ctx) {
    const r = await collectTemplateService(collectionSession(ctx), {
      clientId: args.client_id,
      template: args.template,
      values: args.template_parameters,
      skipMissing: args.skip_missing,
      wait: args.wait ? { timeoutSeconds: args.wait_timeout, pageRows: args.limit } : undefined,
    });
    const t = r.template;
    const pages = r.waited && shapeFirstPages(args.client_id, r.flowId, r.waited, args.limit);
    const head = `Template ${t.name} ${t.version} on ${r.hostname || args.client_id} (${args.client_id}, ${r.os}) → flow ${r.flowId} (${r.state}) with ${r.artifacts.length} artifacts${r.missing.length ? `; skipped (not on server): ${r.missing.join(", ")}` : ""}.`;
    return {
      structured: { template: t.name, version: t.version, os: r.os, hostname: r.hostname, artifacts: r.artifacts, missing: r.missing, flow_id: r.flowId, state: r.state, errors: r.errors, ...(pages ? { pages } : {}) },
      text: pages ? `${head}\n${firstPagesText(r.flowId, r.state, r.errors, pages)}` : `${head} Poll get_flow_status, then get_flow_results.`,
      auditSummary: `template ${t.name}@${t.version} flow ${r.flowId}`,
    };
  },
});

export const huntTemplate = defineTool({
  name: "hunt_template",
  title: "Hunt with a template",
  description: "Create a hunt (paused by default) with a template's artifacts for one OS; the hunt is limited to clients of that OS. Same safety as create_hunt: unpaused or large hunts return a plan and confirm_token first.",
  input: z.object({
    template: z.string().min(1),
    os: z.enum(OSES),
    template_parameters: TemplateParams,
    skip_missing: z.boolean().default(false),
    description: z.string().max(1000).optional(),
    include_labels: z.array(z.string()).optional(),
    exclude_labels: z.array(z.string()).optional(),
    expires_hours: z.number().positive().max(24 * 365).default(24),
    paused: z.boolean().default(true),
    confirm_token: z.string().optional(),
    case_id: CaseId.optional(),
    org_id: OrgId,
  }),
  output: z.object({ hunt_id: z.string(), state: z.string(), template: z.string(), version: z.string(), artifacts: z.array(z.string()), missing: z.array(z.string()), scope: z.object({ count: z.number(), sample: z.array(z.record(z.string(), z.unknown())) }) }),
  preset: "collect",
  async plan(args, ctx) {
    const req = await templateHuntPlanRequest(ctx, huntTemplateRequest(args));
    return req && planHunt(ctx, req, "hunt_template");
  },
  async handler(args, ctx) {
    const h = await huntTemplateService(collectionSession(ctx), huntTemplateRequest(args));
    return {
      structured: { hunt_id: h.huntId, state: h.state, scope: h.scope, template: h.template.name, version: h.template.version, artifacts: h.artifacts, missing: h.missing },
      text: `${huntText(h, h.artifacts)}${h.missing.length ? `\nSkipped (not on server): ${h.missing.join(", ")}` : ""}`,
      auditSummary: `template ${h.template.name}@${h.template.version} hunt ${h.huntId} ${h.state} scope=${h.scope.count}`,
    };
  },
});

function huntTemplateRequest(a: { template: string; os: Os; template_parameters?: Record<string, string>; skip_missing: boolean; description?: string; include_labels?: string[]; exclude_labels?: string[]; expires_hours: number; paused: boolean }) {
  return { template: a.template, os: a.os, values: a.template_parameters, skipMissing: a.skip_missing, description: a.description, includeLabels: a.include_labels, excludeLabels: a.exclude_labels, expiresHours: a.expires_hours, paused: a.paused };
}

export const collectBulk = defineTool({
  name: "collect_bulk",
  title: "Collect many artifacts on many clients",
  description: "The same artifacts (each with its parameters) on up to 200 clients — client_ids and/or client_search such as label:webserver — one flow per client, results per client. Names and parameters are checked before anything is scheduled; one client failing does not stop the others. For the whole fleet prefer a hunt.",
  input: z.object({
    client_ids: z.array(ClientId).max(200).default([]),
    client_search: z.string().min(1).max(200).optional().describe("also every client this search matches (list_clients syntax: label:x, host:x, os…); at most 200"),
    artifacts: z.array(ArtifactName).min(1).max(50),
    parameters: z.record(z.string(), z.record(z.string(), z.unknown())).optional().describe('per artifact: {"Windows.System.Pslist": {"ProcessRegex": "x"}}'),
    timeout: z.number().int().min(1).max(86_400).default(600),
    wait: z.boolean().default(false),
    wait_timeout: z.number().int().min(1).max(3600).default(300),
    case_id: CaseId.optional(),
    org_id: OrgId,
  }),
  output: z.object({ results: z.array(z.object({ client_id: z.string(), hostname: z.string().optional(), flow_id: z.string().optional(), state: z.string(), errors: z.array(z.string()) })), scheduled: z.number(), failed: z.number() }),
  preset: "collect",
  async plan(args, ctx) {
    await checkArtifacts(ctx, args.artifacts, perArtifactParameters(args.artifacts, args.parameters));
    const a = await enforceArtifacts(ctx, args.artifacts, { onServer: false, via: "collect_bulk" });
    return respondPlan(a, `Collect ${args.artifacts.join(", ")} on ${args.client_ids.length} named client(s)${args.client_search ? ` and those matching ${args.client_search}` : ""}`, { client_ids: args.client_ids, client_search: args.client_search ?? null });
  },
  async handler(args, ctx) {
    const r = await collectBulkService(collectionSession(ctx), {
      clientIds: args.client_ids,
      clientSearch: args.client_search,
      artifacts: args.artifacts,
      parameters: args.parameters,
      timeoutSeconds: args.timeout,
      waitTimeoutSeconds: args.wait ? args.wait_timeout : undefined,
    });
    return {
      structured: r,
      text: [`Scheduled on ${r.scheduled} of ${r.results.length} clients${r.failed ? ` (${r.failed} failed)` : ""}:`, ...r.results.map((x) => `${x.client_id}  ${(x.hostname ?? "(unknown host)").padEnd(20)}  ${x.flow_id ?? "-"}  ${x.state}${x.errors.length ? `  ${x.errors[0]}` : ""}`)].join("\n"),
      auditSummary: `bulk ${args.artifacts.join(",")} on ${r.scheduled}/${r.results.length} clients`,
    };
  },
});

export const quickTriage = defineTool({
  name: "quick_triage",
  title: "Quick triage of one endpoint",
  description:
    "First look at a client in one call: collects the quick-triage bundle for its OS (processes, network, logons, autoruns, prefetch, DNS cache, services with signatures, tasks/cron, shell history) in one flow, waits, scores every row and returns the notable rows ranked across sections. Each line names the host, the row (process with pid and command line, service, task, logon…) and why: unsigned binaries, temp or user-writable paths, recent creation, odd parents, encoded or downloaded commands, public addresses. Missing artifacts are skipped and listed.",
  input: z.object({
    client_id: ClientId,
    wait_timeout: z.number().int().min(10).max(3600).default(900),
    notable_limit: z.number().int().min(1).max(500).default(25).describe("notable rows listed in the text (structured content holds all of them)"),
    case_id: CaseId.optional(),
    org_id: OrgId,
  }),
  output: z.object({
    client_id: z.string(),
    hostname: z.string(),
    os: z.string(),
    flow_id: z.string(),
    state: z.string(),
    errors: z.array(z.string()),
    skipped: z.array(z.string()),
    notable: z.array(z.object({ score: z.number(), section: z.string(), artifact: z.string(), kind: z.string(), identity: z.string(), reasons: z.array(z.string()), row: z.record(z.string(), z.unknown()) })),
    sections: z.array(z.object({ section: z.string(), artifact: z.string(), rows: z.number(), notable: z.number(), truncated: z.boolean() })),
    unscored: z.array(z.string()).describe("results with no triage reader: collected, not scored"),
  }),
  preset: "collect",
  async handler(args, ctx) {
    const { os, hostname, flowId, state, errors, skipped, results } = await collectTriage(collectionSession(ctx), { clientId: args.client_id, waitTimeoutSeconds: args.wait_timeout });
    const t = triageHost({ hostname, client_id: args.client_id, results });
    const sections = t.sections.map((s) => ({ ...s, truncated: s.rows >= TRIAGE_ROWS }));
    const rows = sections.reduce((n, s) => n + s.rows, 0);
    const shown = t.notable.slice(0, args.notable_limit);
    const text = [
      `Triage of ${hostname} (${args.client_id}, ${os}): flow ${flowId} ${state}; ${t.notable.length} notable row(s) (score ≥ ${NOTABLE}) of ${rows} in ${sections.length} result(s), highest score first${skipped.length ? `; skipped (not on server): ${skipped.join(", ")}` : ""}`,
      ...errors.map((e) => `  error: ${e}`),
      ...shown.map(notableLine),
      ...(t.notable.length > shown.length ? [`… ${t.notable.length - shown.length} more notable row(s) in structured content (or raise notable_limit).`] : []),
      `Results: ${sections.map((s) => `${s.artifact} ${s.rows}${s.truncated ? " (first rows only: truncated)" : ""}${s.notable ? ` (${s.notable} notable)` : ""}`).join("; ") || "none"}`,
      ...(t.unread.length ? [`Collected but not scored (no triage reader): ${t.unread.join(", ")}`] : []),
    ].join("\n");
    return {
      structured: {
        client_id: args.client_id,
        hostname,
        os,
        flow_id: flowId,
        state,
        errors,
        skipped,
        notable: t.notable.map((n) => ({ score: n.score, section: n.section, artifact: n.artifact, kind: n.kind, identity: n.identity, reasons: n.reasons, row: n.row })),
        sections,
        unscored: t.unread,
      },
      text,
      auditSummary: `triage flow ${flowId} ${state}: ${t.notable.length} notable`,
    };
  },
});

export const collectionTools = [listCollectionTemplates, collectTemplate, huntTemplate, collectBulk, quickTriage];
