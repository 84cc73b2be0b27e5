/** Two steps many services share: who a client is (OS, hostname, labels) and scheduling a collection on it. */
import { listParam } from "../../velociraptor/query.js";
import { NotFoundError } from "../../velociraptor/errors.js";
import { rowsOf, type VelociraptorSession } from "../../velociraptor/session.js";
import type { CollectionSession } from "./session.js";

export interface ClientIdentity {
  os: string;
  hostname: string;
  labels: string[];
}

export async function clientIdentity(session: VelociraptorSession, clientId: string): Promise<ClientIdentity> {
  const row = (await rowsOf(session, "SELECT os_info.system AS os, os_info.hostname AS hostname, labels FROM clients(client_id=ClientId)", { ClientId: clientId }))[0];
  if (!row) throw new NotFoundError(`Client ${clientId}`, "Find the client with list_clients.");
  return { os: String(row.os), hostname: String(row.hostname), labels: (row.labels as string[] | null) ?? [] };
}

export interface ScheduleRequest {
  clientId: string;
  artifacts: string[];
  spec?: Record<string, Record<string, string>>;
  urgent?: boolean;
  timeoutSeconds?: number;
  /** The caller's gate already passed exactly these artifacts for this target (collect_bulk checks once for many). */
  checked?: boolean;
}

/**
 * Schedules one flow collecting `artifacts` (per-artifact parameters in `spec`); returns its flow id. Every
 * collection passes here, so this is where the gate (allow-list pins read now, the artifacts' effect against the
 * caller's mode) is asked.
 */
export async function scheduleCollection(session: CollectionSession, o: ScheduleRequest): Promise<string> {
  if (!o.checked) await session.gate.enforce(o.artifacts, { onServer: o.clientId === "server", via: "collection" });
  const rows = await rowsOf(session, "SELECT collect_client(client_id=ClientId, artifacts=parse_json(data=Artifacts).items, spec=parse_json(data=Spec), timeout=int(int=Timeout), urgent=Urgent) AS Flow FROM scope()", {
    ClientId: o.clientId,
    Artifacts: listParam(o.artifacts.map((a) => a.split("/")[0]!)),
    Spec: o.spec ?? {},
    Timeout: o.timeoutSeconds ?? 600,
    Urgent: o.urgent ?? false,
  });
  const flowId = (rows[0]?.Flow as { flow_id?: string } | null)?.flow_id;
  if (!flowId)
    throw new NotFoundError(`A collection of ${o.artifacts.join(", ")} on ${o.clientId}`, "The server did not schedule it: check the client id (list_clients), that the artifacts exist (list_artifacts) and that the API user may collect (COLLECT_CLIENT).");
  return flowId;
}
