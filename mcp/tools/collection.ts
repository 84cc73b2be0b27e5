/**
 * Collection tools: templates (named scenario bundles) on one client or as a hunt, bulk collection across many
 * clients, and quick_triage — one flow with the OS's triage bundle, summarised with the notable rows first.
 */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { expandTemplate, loadTemplates, OSES, type Os, type Template } from "../../dfir/collection/templates.js";
import { NOTABLE, notableLine, triageHost } from "../../dfir/collection/triage/score.js";
import { collectArtifact } from "./artifacts.js";
import { checkArtifacts, loadCatalog, perArtifactParameters } from "./catalog.js";
import { rowsOf } from "./common.js";
import { defineTool, type ToolContext } from "./define.js";
import { clientIdentity, scheduleCollection } from "./endpoint.js";
import { flowErrors, waitForFlow } from "./flows.js";
import { createHunt } from "./hunts.js";
import { enforceArtifacts, respondPlan } from "../safety/artifact-effects.js";
import { ArtifactName, CaseId, ClientId, OrgId } from "./ids.js";

async function clientOs(ctx: ToolContext, clientId: string): Promise<{ os: Os; hostname: string }> {
  const c = await clientIdentity(ctx, clientId);
  if (!(OSES as readonly string[]).includes(c.os)) throw new InputError("client_id", `client ${clientId} reports OS "${c.os}"`, "Templates cover windows, linux and darwin clients.");
  return { os: c.os as Os, hostname: c.hostname };
}

function template(name: string): Template {
  const all = loadTemplates();
  const t = all.get(name);
  if (!t) throw new InputError("template", `no template "${name}"`, `Templates: ${[...all.keys()].join(", ")} (list_collection_templates).`);
  return t;
}

/** Splits the template's artifacts into those the server has and those it lacks, checking parameters of the first. */
async function availableArtifacts(ctx: ToolContext, artifacts: string[], spec: Record<string, Record<string, string>>, skipMissing: boolean) {
  const catalog = await loadCatalog(ctx);
  const missing = artifacts.filter((a) => !catalog.has(a.split("/")[0]!));
  if (missing.length && !skipMissing) throw new InputError("template", `the server lacks ${missing.join(", ")}`, "Import them (Artifact Exchange), pass skip_missing=true to collect the rest, or use another template.");
  const present = artifacts.filter((a) => !missing.includes(a));
  if (!present.length) throw new InputError("template", "none of the template's artifacts exist on this server", `Missing: ${missing.join(", ")}.`);
  const presentSpec = Object.fromEntries(Object.entries(spec).filter(([k]) => present.includes(k) && Object.keys(spec[k]!).length));
  await checkArtifacts(ctx, present, presentSpec, "template artifacts", catalog);
  return { present, missing, spec: presentSpec };
}

const TemplateParams = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).optional().describe("values for the template's {{Parameters}}");

export const listCollectionTemplates = defineTool({
  name: "list_collection_templates",
  title: "List collection templates",
  description: "Named, versioned artifact bundles for common scenarios (malware, lateral movement, ransomware, persistence, credential theft, web-server compromise, insider/exfiltration, Linux and macOS intrusion, quick triage), with their artifacts per OS and parameters. Built-ins plus the user's own files (MEGARAPTOR_TEMPLATE_DIR). Use with collect_template or hunt_template.",
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
  description: "Collect a collection template's artifacts for the client's OS (detected from the client) in one flow. Artifacts the server lacks are refused (or skipped with skip_missing=true, and listed). wait=true waits with progress and returns the first page.",
  input: z.object({
    client_id: ClientId,
    template: z.string().min(1),
    template_parameters: TemplateParams,
    skip_missing: z.boolean().default(false),
    wait: z.boolean().default(false),
    wait_timeout: z.number().int().min(1).max(3600).default(600),
    case_id: CaseId.optional(),
    org_id: OrgId,
  }),
  output: z.object({ template: z.string(), version: z.string(), os: z.string(), artifacts: z.array(z.string()), missing: z.array(z.string()), flow_id: z.string(), state: z.string(), errors: z.array(z.string()) }),
  preset: "collect",
  // Templates are user files: what their artifacts do decides, as for collect_artifact.
  async plan(args, ctx) {
    const t = template(args.template);
    const { os } = await clientOs(ctx, args.client_id);
    const x = expandTemplate(t, os, args.template_parameters);
    const present = [...(await loadCatalog(ctx)).keys()];
    const artifacts = x.artifacts.filter((a) => present.includes(a.split("/")[0]!));
    if (!artifacts.length) return undefined;
    const a = await enforceArtifacts(ctx, artifacts, { onServer: false, via: "collect_template" });
    return respondPlan(a, `Collect template ${t.name} on ${args.client_id}`, { client_id: args.client_id, template: t.name, version: t.version });
  },
  async handler(args, ctx) {
    const t = template(args.template);
    const { os } = await clientOs(ctx, args.client_id);
    const x = expandTemplate(t, os, args.template_parameters);
    const av = await availableArtifacts(ctx, x.artifacts, x.spec, args.skip_missing);
    const r = await collectArtifact.handler(
      { client_id: args.client_id, artifacts: av.present, parameters: av.spec, timeout: t.timeout, urgent: false, wait: args.wait, wait_timeout: args.wait_timeout, limit: 20, org_id: args.org_id },
      ctx,
    );
    const s = r.structured;
    return {
      structured: { template: t.name, version: t.version, os, artifacts: av.present, missing: av.missing, flow_id: s.flow_id, state: s.state, errors: s.errors },
      text: `Template ${t.name} ${t.version} (${os}) → flow ${s.flow_id} (${s.state}) with ${av.present.length} artifacts${av.missing.length ? `; skipped (not on server): ${av.missing.join(", ")}` : ""}.`,
      auditSummary: `template ${t.name}@${t.version} flow ${s.flow_id}`,
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
    const x = expandTemplate(template(args.template), args.os, args.template_parameters);
    const catalog = await loadCatalog(ctx);
    const present = x.artifacts.filter((a) => catalog.has(a.split("/")[0]!));
    if (!present.length) return undefined;
    return createHunt.plan!(huntArgs(args, present, Object.fromEntries(Object.entries(x.spec).filter(([k]) => present.includes(k)))), ctx);
  },
  async handler(args, ctx) {
    const t = template(args.template);
    const x = expandTemplate(t, args.os, args.template_parameters);
    const av = await availableArtifacts(ctx, x.artifacts, x.spec, args.skip_missing);
    const r = await createHunt.handler(huntArgs(args, av.present, av.spec, `${t.name}@${t.version}`), ctx);
    return {
      structured: { ...r.structured, template: t.name, version: t.version, artifacts: av.present, missing: av.missing },
      text: `${r.text}${av.missing.length ? `\nSkipped (not on server): ${av.missing.join(", ")}` : ""}`,
      auditSummary: `template ${t.name}@${t.version} ${r.auditSummary ?? ""}`,
    };
  },
});

function huntArgs(a: { os: Os; description?: string; include_labels?: string[]; exclude_labels?: string[]; expires_hours: number; paused: boolean; template: string; confirm_token?: string; org_id?: string }, artifacts: string[], spec: Record<string, Record<string, string>>, label = a.template) {
  return {
    artifacts,
    description: a.description ?? `Megaraptor template ${label} (${a.os})`,
    parameters: spec,
    include_labels: a.include_labels,
    exclude_labels: a.exclude_labels,
    os_filter: a.os,
    timeout: 1800,
    expires_hours: a.expires_hours,
    paused: a.paused,
    confirm_token: a.confirm_token,
    org_id: a.org_id,
  };
}

const BULK_MAX = 200;

/** The named clients plus those a search matches, deduplicated; refuses an empty or fleet-sized set. */
async function bulkTargets(ctx: ToolContext, ids: string[], search?: string): Promise<string[]> {
  const found = search ? (await rowsOf(ctx, "SELECT client_id FROM clients(search=Search)", { Search: search }, BULK_MAX + 1)).map((r) => String(r.client_id)) : [];
  const all = [...new Set([...ids, ...found])];
  if (!all.length) throw new InputError(search ? "client_search" : "client_ids", search ? `"${search}" matches no client` : "give client_ids or a client_search", "Check the search with list_clients.");
  if (all.length > BULK_MAX) throw new InputError(search ? "client_search" : "client_ids", `selects more than ${BULK_MAX} clients`, "Narrow the search, or use hunt_template / create_hunt for fleet-wide collection.");
  return all;
}

export const collectBulk = defineTool({
  name: "collect_bulk",
  title: "Collect many artifacts on many clients",
  description: "One call: the same artifacts (each with its own parameters) on up to 200 clients — named by client_ids and/or a client_search such as label:webserver — one flow per client, with per-client results (flow id, state, errors). Names and parameters are checked once against the catalog before anything is scheduled, so a typo schedules nothing. A client that fails to schedule does not stop the others. For fleet-wide collection prefer a hunt.",
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
  output: z.object({ results: z.array(z.object({ client_id: z.string(), flow_id: z.string().optional(), state: z.string(), errors: z.array(z.string()) })), scheduled: z.number(), failed: z.number() }),
  preset: "collect",
  async plan(args, ctx) {
    await checkArtifacts(ctx, args.artifacts, perArtifactParameters(args.artifacts, args.parameters));
    const a = await enforceArtifacts(ctx, args.artifacts, { onServer: false, via: "collect_bulk" });
    return respondPlan(a, `Collect ${args.artifacts.join(", ")} on ${args.client_ids.length} named client(s)${args.client_search ? ` and those matching ${args.client_search}` : ""}`, { client_ids: args.client_ids, client_search: args.client_search ?? null });
  },
  async handler(args, ctx) {
    const unknown = Object.keys(args.parameters ?? {}).filter((k) => !args.artifacts.some((a) => a.split("/")[0] === k));
    if (unknown.length) throw new InputError(`parameters.${unknown[0]}`, "is not one of the artifacts being collected", "Key parameters by artifact name.");
    const spec = perArtifactParameters(args.artifacts, args.parameters);
    await checkArtifacts(ctx, args.artifacts, spec);
    const targets = await bulkTargets(ctx, args.client_ids, args.client_search);
    const checked = await enforceArtifacts(ctx, args.artifacts, { onServer: false, via: "collect_bulk" });
    const results: { client_id: string; flow_id?: string; state: string; errors: string[] }[] = [];
    for (const [i, client] of targets.entries()) {
      await ctx.progress(i, targets.length, `scheduling on ${client}`);
      try {
        const flowId = await scheduleCollection(ctx, { clientId: client, artifacts: args.artifacts, spec, timeoutSeconds: args.timeout, checked });
        results.push({ client_id: client, flow_id: flowId, state: "RUNNING", errors: [] });
      } catch (err) {
        results.push({ client_id: client, state: "NOT_SCHEDULED", errors: [(err as Error).message] });
      }
    }
    if (args.wait) {
      const deadline = Date.now() + args.wait_timeout * 1000;
      for (const r of results.filter((x) => x.flow_id)) {
        r.state = await waitForFlow(ctx, r.client_id, r.flow_id!, Math.max(1, (deadline - Date.now()) / 1000), `${r.client_id} ${r.flow_id}`);
        if (r.state === "ERROR") r.errors = await flowErrors(ctx, r.client_id, r.flow_id!);
      }
    }
    const failed = results.filter((r) => !r.flow_id).length;
    return {
      structured: { results, scheduled: results.length - failed, failed },
      text: [`Scheduled on ${results.length - failed} of ${results.length} clients${failed ? ` (${failed} failed)` : ""}:`, ...results.map((r) => `${r.client_id}  ${r.flow_id ?? "-"}  ${r.state}${r.errors.length ? `  ${r.errors[0]}` : ""}`)].join("\n"),
      auditSummary: `bulk ${args.artifacts.join(",")} on ${results.length - failed}/${results.length} clients`,
    };
  },
});

/** Rows read per triage result; beyond it the result is marked truncated (the rest are not scored). */
const TRIAGE_ROWS = 20_000;

export const quickTriage = defineTool({
  name: "quick_triage",
  title: "Quick triage of one endpoint",
  description:
    "One call for a first look at a client: picks the OS from the client's info, collects the quick-triage bundle (processes, network, users and logons, autoruns and persistence, prefetch, DNS cache, services with signatures, scheduled tasks/cron, shell history) in a single flow, waits with progress, then scores every row and returns the notable rows ranked across sections, highest score first. Each line names the host, what the row is (process with pid and command line, service name and command, task, logon…) and why: unsigned or untrusted binaries, temp or user-writable folders, recent creation, odd parents, encoded or downloaded commands, connections and logins from public addresses — with signed software in its publisher's folder and the Velociraptor client's own activity set aside. Artifacts the server lacks are skipped and listed.",
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
    const { os, hostname } = await clientOs(ctx, args.client_id);
    const x = expandTemplate(template("quick-triage"), os);
    const av = await availableArtifacts(ctx, x.artifacts, x.spec, true);
    const flowId = await scheduleCollection(ctx, { clientId: args.client_id, artifacts: av.present, spec: av.spec, urgent: true, timeoutSeconds: args.wait_timeout });
    const state = await waitForFlow(ctx, args.client_id, flowId, args.wait_timeout, `triage ${hostname}`);
    const errors = state === "FINISHED" ? [] : await flowErrors(ctx, args.client_id, flowId);
    const withResults = ((await rowsOf(ctx, "SELECT artifacts_with_results FROM flows(client_id=ClientId, flow_id=FlowId)", { ClientId: args.client_id, FlowId: flowId }))[0]?.artifacts_with_results as string[] | null) ?? [];
    const results: Record<string, Record<string, unknown>[]> = {};
    for (const [i, artifact] of withResults.sort().entries()) {
      await ctx.progress(i, withResults.length, `reading ${artifact}`);
      results[artifact] = await rowsOf(ctx, "SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", { ClientId: args.client_id, FlowId: flowId, ArtifactName: artifact }, TRIAGE_ROWS);
    }
    const t = triageHost({ hostname, client_id: args.client_id, results });
    const sections = t.sections.map((s) => ({ ...s, truncated: s.rows >= TRIAGE_ROWS }));
    const rows = sections.reduce((n, s) => n + s.rows, 0);
    const shown = t.notable.slice(0, args.notable_limit);
    const text = [
      `Triage of ${hostname} (${args.client_id}, ${os}): flow ${flowId} ${state}; ${t.notable.length} notable row(s) (score ≥ ${NOTABLE}) of ${rows} in ${sections.length} result(s), highest score first${av.missing.length ? `; skipped (not on server): ${av.missing.join(", ")}` : ""}`,
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
        skipped: av.missing,
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
