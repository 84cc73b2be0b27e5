/**
 * Running collection templates: on one client (its OS read from the client) as one flow, or as a hunt limited to one
 * OS. Artifacts the server lacks are refused, or skipped and listed when the caller says so.
 */
import { InputError } from "../../core/errors.js";
import { rowsOf, type VelociraptorSession } from "../../velociraptor/session.js";
import { checkArtifacts, loadCatalog, type Catalog } from "./catalog.js";
import { awaitFirstPages, type Waited } from "./collect.js";
import { clientIdentity, scheduleCollection } from "./endpoint.js";
import { flowErrors, waitForFlow } from "./flows.js";
import { createHunt, type CreatedHunt, type HuntRequest } from "./hunts.js";
import type { CollectionSession } from "./session.js";
import { expandTemplate, loadTemplates, OSES, type Os, type Template } from "./templates.js";

export async function clientOs(session: VelociraptorSession, clientId: string): Promise<{ os: Os; hostname: string }> {
  const c = await clientIdentity(session, clientId);
  if (!(OSES as readonly string[]).includes(c.os)) throw new InputError("client_id", `client ${clientId} reports OS "${c.os}"`, "Templates cover windows, linux and darwin clients.");
  return { os: c.os as Os, hostname: c.hostname };
}

export function findTemplate(name: string): Template {
  const all = loadTemplates();
  const t = all.get(name);
  if (!t) throw new InputError("template", `no template "${name}"`, `Templates: ${[...all.keys()].join(", ")} (list_collection_templates).`);
  return t;
}

export interface Available {
  present: string[];
  missing: string[];
  spec: Record<string, Record<string, string>>;
  catalog: Catalog;
}

const onServer = (catalog: Catalog, artifacts: string[]) => artifacts.filter((a) => catalog.has(a.split("/")[0]!));

/** Splits the template's artifacts into those the server has and those it lacks, checking parameters of the first. */
export async function availableArtifacts(session: CollectionSession, artifacts: string[], spec: Record<string, Record<string, string>>, skipMissing: boolean): Promise<Available> {
  const catalog = await loadCatalog(session);
  const present = onServer(catalog, artifacts);
  const missing = artifacts.filter((a) => !present.includes(a));
  if (missing.length && !skipMissing) throw new InputError("template", `the server lacks ${missing.join(", ")}`, "Import them (Artifact Exchange), pass skip_missing=true to collect the rest, or use another template.");
  if (!present.length) throw new InputError("template", "none of the template's artifacts exist on this server", `Missing: ${missing.join(", ")}.`);
  const presentSpec = Object.fromEntries(Object.entries(spec).filter(([k]) => present.includes(k) && Object.keys(spec[k]!).length));
  await checkArtifacts(session, present, presentSpec, "template artifacts", catalog);
  return { present, missing, spec: presentSpec, catalog };
}

export interface TemplateCollectRequest {
  clientId: string;
  template: string;
  values?: Record<string, string>;
  skipMissing: boolean;
  wait?: { timeoutSeconds: number; pageRows: number };
}

export interface TemplateCollectResult {
  template: Template;
  os: Os;
  /** The client's host name as the server knows it (os_info.hostname), so replies name the machine. */
  hostname: string;
  artifacts: string[];
  missing: string[];
  flowId: string;
  state: string;
  errors: string[];
  waited?: Waited;
}

/** What a template would collect on this client, as far as the server has it (for the caller's plan). */
export async function templateCollectionArtifacts(session: VelociraptorSession, req: Pick<TemplateCollectRequest, "clientId" | "template" | "values">): Promise<{ template: Template; artifacts: string[] }> {
  const t = findTemplate(req.template);
  const { os } = await clientOs(session, req.clientId);
  return { template: t, artifacts: onServer(await loadCatalog(session), expandTemplate(t, os, req.values).artifacts) };
}

export async function collectTemplate(session: CollectionSession, req: TemplateCollectRequest): Promise<TemplateCollectResult> {
  const t = findTemplate(req.template);
  const { os, hostname } = await clientOs(session, req.clientId);
  const x = expandTemplate(t, os, req.values);
  const av = await availableArtifacts(session, x.artifacts, x.spec, req.skipMissing);
  const flowId = await scheduleCollection(session, { clientId: req.clientId, artifacts: av.present, spec: av.spec, timeoutSeconds: t.timeout, urgent: false });
  const base = { template: t, os, hostname, artifacts: av.present, missing: av.missing, flowId };
  if (!req.wait) return { ...base, state: "RUNNING", errors: [] };
  const waited = await awaitFirstPages(session, req.clientId, flowId, { waitTimeoutSeconds: req.wait.timeoutSeconds, pageRows: req.wait.pageRows, label: `${t.name} ${flowId}` });
  return { ...base, state: waited.state, errors: waited.errors, waited };
}

export interface TemplateHuntRequest {
  template: string;
  os: Os;
  values?: Record<string, string>;
  skipMissing: boolean;
  description?: string;
  includeLabels?: string[];
  excludeLabels?: string[];
  expiresHours: number;
  paused: boolean;
}

/** The hunt a template becomes: its artifacts for one OS, limited to clients of that OS. */
function huntRequest(req: TemplateHuntRequest, artifacts: string[], spec: Record<string, Record<string, string>>, label: string): HuntRequest {
  return {
    artifacts,
    description: req.description ?? `Megaraptor template ${label} (${req.os})`,
    parameters: spec,
    includeLabels: req.includeLabels,
    excludeLabels: req.excludeLabels,
    os: req.os,
    timeoutSeconds: 1800,
    expiresHours: req.expiresHours,
    paused: req.paused,
  };
}

/** The hunt request a template would make, with the artifacts the server has (undefined: it has none) — for plans. */
export async function templateHuntPlanRequest(session: VelociraptorSession, req: TemplateHuntRequest): Promise<HuntRequest | undefined> {
  const x = expandTemplate(findTemplate(req.template), req.os, req.values);
  const present = onServer(await loadCatalog(session), x.artifacts);
  if (!present.length) return undefined;
  return huntRequest(req, present, Object.fromEntries(Object.entries(x.spec).filter(([k]) => present.includes(k))), req.template);
}

export async function huntTemplate(session: CollectionSession, req: TemplateHuntRequest): Promise<CreatedHunt & { template: Template; artifacts: string[]; missing: string[] }> {
  const t = findTemplate(req.template);
  const x = expandTemplate(t, req.os, req.values);
  const av = await availableArtifacts(session, x.artifacts, x.spec, req.skipMissing);
  const hunt = await createHunt(session, huntRequest(req, av.present, av.spec, `${t.name}@${t.version}`), "hunt_template", av.catalog);
  return { ...hunt, template: t, artifacts: av.present, missing: av.missing };
}

/** Rows read per triage result; beyond it the result is marked truncated (the rest are not scored). */
export const TRIAGE_ROWS = 20_000;

/** Collects the quick-triage bundle for the client's OS in one urgent flow, waits, and reads every result set. */
export async function collectTriage(session: CollectionSession, req: { clientId: string; waitTimeoutSeconds: number }) {
  const { os, hostname } = await clientOs(session, req.clientId);
  const x = expandTemplate(findTemplate("quick-triage"), os);
  const av = await availableArtifacts(session, x.artifacts, x.spec, true);
  const flowId = await scheduleCollection(session, { clientId: req.clientId, artifacts: av.present, spec: av.spec, urgent: true, timeoutSeconds: req.waitTimeoutSeconds });
  const state = await waitForFlow(session, req.clientId, flowId, req.waitTimeoutSeconds, `triage ${hostname}`);
  const errors = state === "FINISHED" ? [] : await flowErrors(session, req.clientId, flowId);
  const withResults = ((await rowsOf(session, "SELECT artifacts_with_results FROM flows(client_id=ClientId, flow_id=FlowId)", { ClientId: req.clientId, FlowId: flowId }))[0]?.artifacts_with_results as string[] | null) ?? [];
  const results: Record<string, Record<string, unknown>[]> = {};
  for (const [i, artifact] of withResults.sort().entries()) {
    await session.progress(i, withResults.length, `reading ${artifact}`);
    results[artifact] = await rowsOf(session, "SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", { ClientId: req.clientId, FlowId: flowId, ArtifactName: artifact }, TRIAGE_ROWS);
  }
  return { os, hostname, flowId, state, errors, skipped: av.missing, results };
}
