/**
 * Flows as a collection service sees them: their row, waiting for them to end, their error lines, and which result
 * source to read. Facts from Velociraptor (Velocidex/velociraptor master cd02ac663, flows/artifacts.go ~L463-470 and
 * flows/artifacts_test.go ~L650): a flow's `artifacts_with_results` names each result set that received rows — the
 * artifact name for a single-source artifact, `Artifact/Source` for each source of a multi-source one — and a source
 * that produced no rows is not listed.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Row } from "../../velociraptor/client.js";
import { CancelledError, NotFoundError } from "../../velociraptor/errors.js";
import { rowsOf, type VelociraptorSession } from "../../velociraptor/session.js";

export async function flowRow(session: VelociraptorSession, clientId: string, flowId: string): Promise<Row> {
  const rows = await rowsOf(session, "SELECT * FROM flows(client_id=ClientId, flow_id=FlowId)", { ClientId: clientId, FlowId: flowId });
  if (!rows[0]) throw new NotFoundError(`Flow ${flowId} on ${clientId}`, "List the client's flows with list_flows.");
  return rows[0];
}

const TERMINAL = new Set(["FINISHED", "ERROR"]);
export const RUNNING_STATES: ReadonlySet<string> = new Set(["RUNNING", "WAITING", "IN_PROGRESS"]);

/**
 * Waits for a flow to finish (progress notifications while it runs); returns the last state seen, or throws
 * CancelledError when the caller cancels — a cancelled wait must not look like a flow that is still RUNNING.
 */
export async function waitForFlow(
  session: VelociraptorSession & { progress(progress: number, total?: number, message?: string): Promise<void> },
  clientId: string,
  flowId: string,
  timeoutSeconds: number,
  label = flowId,
): Promise<string> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  const cancelled = () => new CancelledError(`Waiting for ${flowId} on ${clientId}`);
  let state = "RUNNING";
  for (let tick = 0; ; tick++) {
    if (session.signal.aborted) throw cancelled();
    state = String((await flowRow(session, clientId, flowId)).state);
    if (session.signal.aborted) throw cancelled();
    if (TERMINAL.has(state) || Date.now() > deadline) return state;
    await session.progress(tick, undefined, `${label}: ${state}`);
    await sleep(Math.min(2000, 250 * (tick + 1), Math.max(0, deadline - Date.now())), undefined, { signal: session.signal }).catch(() => undefined);
  }
}

export async function flowErrors(session: VelociraptorSession, clientId: string, flowId: string): Promise<string[]> {
  const logs = await rowsOf(session, "SELECT level, message FROM flow_logs(client_id=ClientId, flow_id=FlowId)", { ClientId: clientId, FlowId: flowId }, 1000);
  return logs.filter((l) => /error|warn/i.test(String(l.level))).map((l) => String(l.message));
}

/** The result sets of a flow that hold rows, sorted. */
export function sourcesWithResults(flow: Row): string[] {
  return ((flow.artifacts_with_results as string[] | null) ?? []).map(String).sort();
}

/**
 * Which result set to read. Named `Artifact/Source` (or artifact + source): that one. A named artifact without a
 * source reads itself when it has results, else its first source with results (the others are listed to the caller).
 * Nothing named: the first result set with results. undefined when the flow has none to offer.
 */
export function pickSource(available: readonly string[], artifact?: string, source?: string): string | undefined {
  if (artifact && source) return `${artifact}/${source}`;
  if (!artifact) return available[0];
  if (artifact.includes("/") || available.includes(artifact)) return artifact;
  return available.find((a) => a.startsWith(`${artifact}/`)) ?? artifact;
}

/** Reads `count` rows of one result set from `startRow`, server-side (source(start_row, count)). */
export async function readSource(session: VelociraptorSession, clientId: string, flowId: string, target: string, startRow: number, count: number): Promise<Row[]> {
  return rowsOf(session, "SELECT * FROM source(client_id=ClientId, flow_id=FlowId, artifact=ArtifactName, start_row=int(int=StartRow), count=int(int=PageSize))", {
    ClientId: clientId,
    FlowId: flowId,
    ArtifactName: target,
    StartRow: startRow,
    PageSize: count,
  });
}
