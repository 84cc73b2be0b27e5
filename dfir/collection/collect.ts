/**
 * Collecting artifacts: one flow on one client (optionally waiting for it and reading a first page of every result
 * set), or the same artifacts on many clients. Names and parameters are checked against the live catalog first, and
 * the caller's gate is asked before anything is scheduled.
 */
import { InputError, toMegaraptorError } from "../../core/errors.js";
import type { Row } from "../../velociraptor/client.js";
import { CancelledError } from "../../velociraptor/errors.js";
import { rowsOf } from "../../velociraptor/session.js";
import { checkArtifacts, perArtifactParameters } from "./catalog.js";
import { scheduleCollection } from "./endpoint.js";
import { flowErrors, flowRow, readSource, sourcesWithResults, waitForFlow } from "./flows.js";
import type { CollectionSession } from "./session.js";

/** The first rows of one result set: up to `pageRows + 1` rows, so the caller can tell whether more exist. */
export interface FirstPage {
  artifact: string;
  rows: Row[];
}

export interface Waited {
  state: string;
  errors: string[];
  /** One per result set with rows (each source of a multi-source artifact), sorted by name. */
  pages: FirstPage[];
  /** Every result set with rows. */
  sources: string[];
  /** The flow's own row count, when it reports one. */
  totalRows?: number;
}

/**
 * Waits for a scheduled flow, then reads a first page of each result set. Once a flow is scheduled its id must reach
 * the caller: a failure while waiting or reading (other than the caller cancelling) becomes an error line, never an
 * exception that hides the flow.
 */
export async function awaitFirstPages(session: CollectionSession, clientId: string, flowId: string, o: { waitTimeoutSeconds: number; pageRows: number; label?: string }): Promise<Waited> {
  let state = "RUNNING";
  const errors: string[] = [];
  try {
    state = await waitForFlow(session, clientId, flowId, o.waitTimeoutSeconds, o.label);
    if (state !== "FINISHED") errors.push(...(await flowErrors(session, clientId, flowId)));
    const flow = await flowRow(session, clientId, flowId);
    const sources = sourcesWithResults(flow);
    const pages: FirstPage[] = [];
    for (const artifact of sources) pages.push({ artifact, rows: await readSource(session, clientId, flowId, artifact, 0, o.pageRows + 1) });
    return { state, errors, pages, sources, totalRows: typeof flow.total_collected_rows === "number" ? flow.total_collected_rows : undefined };
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    errors.push(`flow ${flowId} was scheduled, but reading it failed: ${toMegaraptorError(err).message} — check it with get_flow_status and get_flow_results`);
    return { state, errors, pages: [], sources: [] };
  }
}

export interface CollectRequest {
  clientId: string;
  artifacts: string[];
  /** Per artifact, or shared by all (perArtifactParameters). */
  parameters?: Record<string, unknown>;
  timeoutSeconds: number;
  urgent: boolean;
  /** Wait for the flow and read first pages. */
  wait?: { timeoutSeconds: number; pageRows: number };
}

export interface CollectResult {
  flowId: string;
  clientId: string;
  artifacts: string[];
  state: string;
  errors: string[];
  waited?: Waited;
}

export async function collectArtifacts(session: CollectionSession, req: CollectRequest): Promise<CollectResult> {
  const spec = perArtifactParameters(req.artifacts, req.parameters);
  await checkArtifacts(session, req.artifacts, spec);
  const flowId = await scheduleCollection(session, { clientId: req.clientId, artifacts: req.artifacts, spec, timeoutSeconds: req.timeoutSeconds, urgent: req.urgent });
  const base = { flowId, clientId: req.clientId, artifacts: req.artifacts };
  if (!req.wait) return { ...base, state: "RUNNING", errors: [] };
  const waited = await awaitFirstPages(session, req.clientId, flowId, { waitTimeoutSeconds: req.wait.timeoutSeconds, pageRows: req.wait.pageRows });
  return { ...base, state: waited.state, errors: waited.errors, waited };
}

export const BULK_MAX = 200;

/** The named clients plus those a search matches, deduplicated; refuses an empty or fleet-sized set. */
/** The clients a bulk collection targets, each with its host name (os_info.hostname; undefined when unknown). */
async function bulkTargets(session: CollectionSession, ids: string[], search?: string): Promise<Map<string, string | undefined>> {
  const hostOf = (r: Row) => (typeof r.hostname === "string" && r.hostname ? r.hostname : undefined);
  const found = search ? await rowsOf(session, "SELECT client_id, os_info.hostname AS hostname FROM clients(search=Search)", { Search: search }, BULK_MAX + 1) : [];
  // Named clients first, then the search's, in the order given (replies list them so).
  const all = new Map<string, string | undefined>(ids.map((id) => [id, undefined]));
  for (const r of found) if (all.get(String(r.client_id)) === undefined) all.set(String(r.client_id), hostOf(r));
  if (!all.size) throw new InputError(search ? "client_search" : "client_ids", search ? `"${search}" matches no client` : "give client_ids or a client_search", "Check the search with list_clients.");
  if (all.size > BULK_MAX) throw new InputError(search ? "client_search" : "client_ids", `selects more than ${BULK_MAX} clients`, "Narrow the search, or use hunt_template / create_hunt for fleet-wide collection.");
  // Named clients: one lookup each (at most BULK_MAX), so every reply line names the machine, not only its id. A
  // failed lookup only leaves the name out: it must not stop the collection (cancelling still does).
  for (const [id, host] of all) {
    if (host !== undefined) continue;
    const rows = await rowsOf(session, "SELECT os_info.hostname AS hostname FROM clients(client_id=ClientId)", { ClientId: id }).catch((err: unknown) => {
      if (err instanceof CancelledError) throw err;
      return [] as Row[];
    });
    all.set(id, hostOf(rows[0] ?? {}));
  }
  return all;
}

export interface BulkRequest {
  clientIds: string[];
  clientSearch?: string;
  artifacts: string[];
  parameters?: Record<string, Record<string, unknown>>;
  timeoutSeconds: number;
  waitTimeoutSeconds?: number;
}

export interface BulkResult {
  results: { client_id: string; hostname?: string; flow_id?: string; state: string; errors: string[] }[];
  scheduled: number;
  failed: number;
}

/** One flow per client; a client that fails to schedule does not stop the others. */
export async function collectBulk(session: CollectionSession, req: BulkRequest): Promise<BulkResult> {
  const unknown = Object.keys(req.parameters ?? {}).filter((k) => !req.artifacts.some((a) => a.split("/")[0] === k));
  if (unknown.length) throw new InputError(`parameters.${unknown[0]}`, "is not one of the artifacts being collected", "Key parameters by artifact name.");
  const spec = perArtifactParameters(req.artifacts, req.parameters);
  await checkArtifacts(session, req.artifacts, spec);
  const targets = await bulkTargets(session, req.clientIds, req.clientSearch);
  await session.gate.enforce(req.artifacts, { onServer: false, via: "collect_bulk" });
  const results: BulkResult["results"] = [];
  for (const [i, [client, hostname]] of [...targets].entries()) {
    await session.progress(i, targets.size, `scheduling on ${hostname ?? client}`);
    try {
      const flowId = await scheduleCollection(session, { clientId: client, artifacts: req.artifacts, spec, timeoutSeconds: req.timeoutSeconds, checked: true });
      results.push({ client_id: client, hostname, flow_id: flowId, state: "RUNNING", errors: [] });
    } catch (err) {
      results.push({ client_id: client, hostname, state: "NOT_SCHEDULED", errors: [(err as Error).message] });
    }
  }
  if (req.waitTimeoutSeconds !== undefined) {
    const deadline = Date.now() + req.waitTimeoutSeconds * 1000;
    for (const r of results.filter((x) => x.flow_id)) {
      r.state = await waitForFlow(session, r.client_id, r.flow_id!, Math.max(1, (deadline - Date.now()) / 1000), `${r.client_id} ${r.flow_id}`);
      if (r.state === "ERROR") r.errors = await flowErrors(session, r.client_id, r.flow_id!);
    }
  }
  const failed = results.filter((r) => !r.flow_id).length;
  return { results, scheduled: results.length - failed, failed };
}
