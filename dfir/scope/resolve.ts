/**
 * The case-wide scope every analysis reads (timeline, indicators, correlation, report): several clients, the clients
 * of a label, and/or hunts, resolved in ONE place into the flows to read and one lazy row stream per artifact.
 *
 * Facts this relies on (Velociraptor v0.77.2 sources):
 * - `hunt_flows(hunt_id)` yields `HuntId, ClientId, FlowId, Flow` where `Flow` is the flow's collection context or
 *   NULL when it cannot be loaded (vql/server/hunts/hunts.go, HuntFlowsPlugin).
 * - `hunt_results` adds `FlowId`, `ClientId` and `Fqdn` to every row (same file, HuntResultsPlugin).
 * - A cancelled flow is left in state ERROR with status "Cancelled by <user>" (services/launcher/flows.go:171);
 *   a failed one is ERROR with the error as status. Neither is dropped: both are read (they may hold partial
 *   results) and listed as caveats.
 * A flow reached twice (directly and through a hunt, or through two hunts after `hunt_add`) is read once: a hunt
 * claims its flows first, direct reads skip flows a hunt claimed, and a second hunt filters the claimed flow's rows
 * out of its `hunt_results` stream.
 */
import { InputError } from "../../core/errors.js";
import type { Row } from "../../velociraptor/client.js";
import type { RowIndex } from "../../velociraptor/row-index.js";
import { vqlQuery } from "../../velociraptor/query.js";
import { rowsOf, type VelociraptorSession } from "../../velociraptor/session.js";

/** Field names are the tools' input names, so an error names the field the caller typed. */
export interface ScopeRequest {
  client_id?: string;
  client_ids?: string[];
  /** Only with exactly one client. */
  flow_ids?: string[];
  /** Every client carrying this label (Velociraptor's `label:` search). */
  label?: string;
  hunt_ids?: string[];
  artifacts?: string[];
  /** Most recent flows per client when flow_ids is not given. */
  max_flows: number;
}

export interface ScopeClient {
  client_id: string;
  hostname?: string;
  os?: string;
}

export interface ScopeFlow {
  client_id: string;
  flow_id: string;
  /** How the flow entered the scope (a flow reached several ways is listed once, under the hunt). */
  via: "client" | "label" | "hunt";
  hunt_id?: string;
  /** Velociraptor's flow state (FINISHED, ERROR, RUNNING…); "UNKNOWN" when the flow record could not be read. */
  state: string;
  status?: string;
  artifacts: string[];
  created?: string;
  /** The artifact parameters the flow ran with (`request.specs`), for the report's appendix. */
  parameters?: unknown;
  /** `total_collected_rows` and `active_time` of the collection context: with `state`, what says a flow changed. */
  rows?: number;
  active?: number;
}

export interface ScopeHunt {
  hunt_id: string;
  description: string;
  artifacts: string[];
  state?: string;
  flows: number;
}

export interface ScopeSource {
  artifact: string;
  client_id?: string;
  flow_id?: string;
  hunt_id?: string;
  rows: AsyncIterable<Row>;
  /**
   * The same rows as the server encoded them, as indexed result batches (QueryStream#indexedBatches), where they are
   * not filtered here; a consumer reads either `rows` or `batches`, once.
   */
  batches?: () => AsyncIterable<RowIndex>;
  /** The query behind `rows`, for reproducibility (the report's appendix). */
  query: { vql: string; env: Record<string, unknown> };
}

export interface ResolvedScope {
  sources: ScopeSource[];
  clients: ScopeClient[];
  hunts: ScopeHunt[];
  flows: ScopeFlow[];
  /** Failed, cancelled, still running or unreadable flows, and anything else the reader should know. */
  caveats: string[];
  /** Flows reached more than once and read once. */
  duplicates: number;
}

const RUNNING = new Set(["RUNNING", "WAITING", "IN_PROGRESS", "UNRESPONSIVE"]);
const HUNT_FLOW_CAP = 50_000;
const LOOKUP_BATCH = 16;

/** `list` names `artifact` (as itself, its artifact or one of its sources). */
function covers(list: readonly string[], artifact: string): boolean {
  return list.some((f) => artifact === f || artifact.startsWith(`${f}/`) || f.startsWith(`${artifact}/`));
}

function wanted(artifact: string, filter?: string[]): boolean {
  return !filter?.length || covers(filter, artifact);
}

/** A hunt's artifacts from its hunts() row (`artifacts`, or `start_request.artifacts` on servers that omit it). */
export function huntArtifacts(row: Row): string[] {
  return (row.artifacts as string[] | null) ?? (row.start_request as { artifacts?: string[] } | null)?.artifacts ?? [];
}

const usIso = (v: unknown) => (typeof v === "number" && v > 0 ? new Date(v / 1000).toISOString() : undefined);

function flowOf(ctxRow: Row | null | undefined, base: Pick<ScopeFlow, "client_id" | "flow_id" | "via" | "hunt_id">): ScopeFlow {
  if (!ctxRow) return { ...base, state: "UNKNOWN", artifacts: [] };
  const request = (ctxRow.request as { artifacts?: string[]; specs?: unknown } | null) ?? {};
  return {
    ...base,
    state: String(ctxRow.state ?? "UNKNOWN"),
    status: typeof ctxRow.status === "string" && ctxRow.status ? ctxRow.status : undefined,
    artifacts: (ctxRow.artifacts_with_results as string[] | null) ?? request.artifacts ?? [],
    created: usIso(ctxRow.create_time),
    parameters: request.specs,
    rows: typeof ctxRow.total_collected_rows === "number" ? ctxRow.total_collected_rows : undefined,
    active: typeof ctxRow.active_time === "number" ? ctxRow.active_time : undefined,
  };
}

/** "WKS-FIN-01 (C.1a…)" when the host is known, else the client id. */
export function hostLabel(clientId: string | undefined, hostnames: ReadonlyMap<string, string | undefined>): string {
  if (!clientId) return "?";
  const h = hostnames.get(clientId);
  return h ? `${h} (${clientId})` : clientId;
}

/** The caveat line for a flow that did not finish cleanly, or undefined. */
export function flowCaveat(f: ScopeFlow, hostnames: ReadonlyMap<string, string | undefined>): string | undefined {
  const where = `${f.flow_id} on ${hostLabel(f.client_id, hostnames)}${f.hunt_id ? ` (hunt ${f.hunt_id})` : ""}`;
  if (f.state === "ERROR")
    return /^Cancelled by /.test(f.status ?? "") ? `Flow ${where} was cancelled (${f.status}); its partial results are included.` : `Flow ${where} failed: ${f.status ?? "no error recorded"}; its partial results are included.`;
  if (RUNNING.has(f.state)) return `Flow ${where} is still ${f.state}; more results may arrive.`;
  if (f.state === "UNKNOWN") return `Flow ${where}: Velociraptor has no collection record for it (hunt_flows returned Flow NULL); nothing was read from it.`;
  return undefined;
}

/** Rows of `rows` except those of flows already read elsewhere (hunt_results rows carry ClientId and FlowId). */
async function* without(rows: AsyncIterable<Row>, skip: ReadonlySet<string>): AsyncGenerator<Row> {
  for await (const r of rows) if (!skip.has(`${String(r.ClientId)}\u0000${String(r.FlowId)}`)) yield r;
}

function checkRequest(r: ScopeRequest): string[] {
  const clients = [...new Set([...(r.client_id ? [r.client_id] : []), ...(r.client_ids ?? [])])];
  if (!clients.length && !r.label && !r.hunt_ids?.length)
    throw new InputError("client_ids", "give the scope: client_id or client_ids (with optional flow_ids), a label, and/or hunt_ids", "Find clients with list_clients, their collections with list_flows, hunts with list_hunts.");
  if (r.flow_ids?.length && clients.length !== 1)
    throw new InputError("flow_ids", "flow ids belong to one client: give exactly one client_id with them", "e.g. client_id=C.1a2b3c4d5e6f7a01 flow_ids=[F.CT1PSLIST01]; for several clients use their recent flows or a hunt.");
  return clients;
}

/** Resolves the scope; refuses an empty or unknown scope with what to pass instead. Rows are read lazily. */
export async function resolveScope(session: VelociraptorSession, r: ScopeRequest): Promise<ResolvedScope> {
  const direct = checkRequest(r);
  const claimed = new Map<string, ScopeFlow>();
  // The artifacts each hunt reads for the flows it claimed: a flow added to a hunt (hunt_add) may hold more.
  const huntReads = new Map<string, string[]>();
  const key = (c: string, f: string) => `${c}\u0000${f}`;
  const hostnames = new Map<string, string | undefined>();
  const os = new Map<string, string | undefined>();
  const sources: ScopeSource[] = [];
  const hunts: ScopeHunt[] = [];
  const caveats: string[] = [];
  let duplicates = 0;
  const stream = (vql: string, env: Record<string, unknown>) => session.client().query(vqlQuery(vql, env), { orgId: session.orgId, signal: session.signal });

  for (const h of [...new Set(r.hunt_ids ?? [])]) {
    const row = (await rowsOf(session, "SELECT * FROM hunts(hunt_id=HuntId)", { HuntId: h }))[0];
    if (!row) throw new InputError("hunt_ids", `hunt ${h} does not exist`, "List hunts with list_hunts (and check org_id).");
    const hf = await rowsOf(session, "SELECT HuntId, ClientId, FlowId, Flow FROM hunt_flows(hunt_id=HuntId)", { HuntId: h }, HUNT_FLOW_CAP);
    if (hf.length >= HUNT_FLOW_CAP) caveats.push(`Hunt ${h} has more than ${HUNT_FLOW_CAP} flows; flow states beyond the first ${HUNT_FLOW_CAP} were not checked.`);
    const skip = new Set<string>();
    for (const f of hf) {
      const k = key(String(f.ClientId), String(f.FlowId));
      if (claimed.has(k)) {
        duplicates++;
        skip.add(k);
        continue;
      }
      hostnames.set(String(f.ClientId), undefined);
      claimed.set(k, flowOf(f.Flow as Row | null, { client_id: String(f.ClientId), flow_id: String(f.FlowId), via: "hunt", hunt_id: h }));
      huntReads.set(k, huntArtifacts(row));
    }
    const artifacts = huntArtifacts(row);
    hunts.push({ hunt_id: h, description: String(row.hunt_description ?? ""), artifacts, state: typeof row.state === "string" ? row.state : undefined, flows: hf.length });
    for (const artifact of artifacts.filter((x) => wanted(x, r.artifacts))) {
      const query = { vql: "SELECT * FROM hunt_results(hunt_id=HuntId, artifact=ArtifactName)", env: { HuntId: h, ArtifactName: artifact } };
      const rows = stream(query.vql, query.env);
      sources.push({ artifact, hunt_id: h, rows: skip.size ? without(rows, skip) : rows, ...(skip.size ? {} : { batches: () => rows.indexedBatches() }), query });
    }
  }

  const clients: { id: string; via: "client" | "label" }[] = direct.map((id) => ({ id, via: "client" }));
  if (r.label) {
    const labelled = await rowsOf(session, "SELECT client_id, os_info.hostname AS hostname, os_info.system AS os FROM clients(search=Search)", { Search: `label:${r.label}` });
    if (!labelled.length) throw new InputError("label", `no client carries the label "${r.label}"`, "See the labels on list_clients (search label:NAME), or use client_ids.");
    for (const c of labelled) {
      hostnames.set(String(c.client_id), typeof c.hostname === "string" ? c.hostname : undefined);
      os.set(String(c.client_id), typeof c.os === "string" ? c.os : undefined);
      if (!clients.some((x) => x.id === c.client_id)) clients.push({ id: String(c.client_id), via: "label" });
    }
  }
  const FLOW_COLUMNS = "session_id, state, status, create_time, active_time, total_collected_rows, artifacts_with_results, request";
  const flowsOf = (id: string) =>
    r.flow_ids?.length
      ? Promise.all(
          [...new Set(r.flow_ids)].map(async (f) => {
            const row = (await rowsOf(session, `SELECT ${FLOW_COLUMNS} FROM flows(client_id=ClientId, flow_id=FlowId)`, { ClientId: id, FlowId: f }))[0];
            if (!row) throw new InputError("flow_ids", `flow ${f} does not exist on ${id}`, "List the client's flows with list_flows.");
            return row;
          }),
        )
      : rowsOf(session, `SELECT ${FLOW_COLUMNS} FROM flows(client_id=ClientId)`, { ClientId: id }, r.max_flows);
  // The clients' flow lists are read LOOKUP_BATCH at a time (one round trip each, and every page of a timeline
  // resolves its scope again); they are then taken in the clients' order, so sources keep a stable order.
  const flowLists: Row[][] = [];
  for (let i = 0; i < clients.length; i += LOOKUP_BATCH) flowLists.push(...(await Promise.all(clients.slice(i, i + LOOKUP_BATCH).map((c) => flowsOf(c.id)))));
  for (const [ci, { id, via }] of clients.entries()) {
    const flows = flowLists[ci]!;
    if (!hostnames.has(id)) hostnames.set(id, undefined);
    for (const f of flows) {
      const k = key(id, String(f.session_id));
      // Reached through a hunt too: the hunt reads its own artifacts; only what else the flow holds is read here.
      const byHunt = huntReads.get(k);
      if (claimed.has(k)) duplicates++;
      if (claimed.has(k) && !byHunt) continue;
      const flow = claimed.get(k) ?? flowOf(f, { client_id: id, flow_id: String(f.session_id), via });
      claimed.set(k, flow);
      for (const artifact of ((f.artifacts_with_results as string[] | null) ?? []).filter((x) => wanted(x, r.artifacts) && !(byHunt && covers(byHunt, x)))) {
        const query = { vql: "SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName)", env: { ClientId: id, FlowId: flow.flow_id, ArtifactName: artifact } };
        const rows = stream(query.vql, query.env);
        sources.push({ artifact, client_id: id, flow_id: flow.flow_id, rows, batches: () => rows.indexedBatches(), query });
      }
    }
  }

  // Host names for every client in scope (the label search already gave some). A client deleted since its hunt ran
  // stays in scope without a name.
  const unknown = [...hostnames.keys()].filter((id) => hostnames.get(id) === undefined);
  for (let i = 0; i < unknown.length; i += LOOKUP_BATCH)
    await Promise.all(
      unknown.slice(i, i + LOOKUP_BATCH).map(async (id) => {
        const c = (await rowsOf(session, "SELECT os_info.hostname AS hostname, os_info.system AS os FROM clients(client_id=ClientId)", { ClientId: id }))[0];
        hostnames.set(id, typeof c?.hostname === "string" && c.hostname ? c.hostname : undefined);
        os.set(id, typeof c?.os === "string" ? c.os : undefined);
      }),
    );

  const flows = [...claimed.values()];
  for (const f of flows) {
    const c = flowCaveat(f, hostnames);
    if (c) caveats.push(c);
  }
  if (duplicates) caveats.push(`${duplicates} flow(s) were reached more than once (directly and through a hunt, or through two hunts) and were read once.`);
  return {
    sources,
    clients: [...hostnames.keys()].sort().map((client_id) => ({ client_id, hostname: hostnames.get(client_id), os: os.get(client_id) })),
    hunts,
    flows,
    caveats,
    duplicates,
  };
}

/** client_id → hostname for a resolved scope (undefined when unknown). */
export function hostnameMap(scope: Pick<ResolvedScope, "clients">): Map<string, string | undefined> {
  return new Map(scope.clients.map((c) => [c.client_id, c.hostname]));
}
