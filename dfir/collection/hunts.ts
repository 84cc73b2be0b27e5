/** Hunts as a service: which clients a hunt would reach, and creating one (paused by default). */
import { NotFoundError } from "../../velociraptor/errors.js";
import { listParam } from "../../velociraptor/query.js";
import { rowsOf, type VelociraptorSession } from "../../velociraptor/session.js";
import { checkArtifacts, perArtifactParameters, type Catalog } from "./catalog.js";
import type { Os } from "./templates.js";
import type { CollectionSession } from "./session.js";

export interface HuntScopeRequest {
  includeLabels?: string[];
  excludeLabels?: string[];
  os?: Os;
}

export interface HuntScope {
  count: number;
  sample: Record<string, unknown>[];
}

/** Estimates which clients a hunt would reach (Velociraptor: OS wins over include_labels; exclusions apply last). */
export async function huntScope(session: VelociraptorSession, a: HuntScopeRequest): Promise<HuntScope> {
  const rows = await rowsOf(session, "SELECT client_id, os_info.hostname AS hostname, os_info.system AS os, labels FROM clients()", {}, 1_000_000);
  const matches = rows.filter((r) => {
    const labels = (r.labels as string[]) ?? [];
    if (a.os) {
      if (r.os !== a.os) return false;
    } else if (a.includeLabels?.length && !a.includeLabels.some((l) => labels.includes(l))) return false;
    return !a.excludeLabels?.some((l) => labels.includes(l));
  });
  return { count: matches.length, sample: matches.slice(0, 10).map((r) => ({ client_id: r.client_id, hostname: r.hostname, os: r.os })) };
}

export interface HuntRequest extends HuntScopeRequest {
  artifacts: string[];
  description: string;
  /** Per artifact, or shared by all (perArtifactParameters). */
  parameters?: Record<string, unknown>;
  timeoutSeconds: number;
  expiresHours: number;
  paused: boolean;
}

export interface CreatedHunt {
  huntId: string;
  state: "PAUSED" | "RUNNING";
  scope: HuntScope;
}

export async function createHunt(session: CollectionSession, req: HuntRequest, via = "create_hunt", catalog?: Catalog): Promise<CreatedHunt> {
  const spec = perArtifactParameters(req.artifacts, req.parameters);
  await checkArtifacts(session, req.artifacts, spec, "artifacts", catalog);
  await session.gate.enforce(req.artifacts, { onServer: false, via });
  const scope = await huntScope(session, req);
  const rows = await rowsOf(
    session,
    "SELECT hunt(artifacts=parse_json(data=Artifacts).items, description=Description, spec=parse_json(data=Spec), include_labels=parse_json(data=Include).items, exclude_labels=parse_json(data=Exclude).items, os=Os, timeout=int(int=Timeout), expires=now() + int(int=ExpiresSeconds), pause=Pause) AS Hunt FROM scope()",
    {
      Artifacts: listParam(req.artifacts),
      Description: req.description,
      Spec: spec,
      Include: listParam(req.includeLabels ?? []),
      Exclude: listParam(req.excludeLabels ?? []),
      Os: req.os ?? "",
      Timeout: req.timeoutSeconds,
      ExpiresSeconds: Math.round(req.expiresHours * 3600),
      Pause: req.paused,
    },
  );
  const hunt = rows[0]?.Hunt as { HuntId?: string } | null;
  if (!hunt?.HuntId) throw new NotFoundError("The new hunt", "The server did not create it; the API user needs START_HUNT.");
  return { huntId: hunt.HuntId, state: req.paused ? "PAUSED" : "RUNNING", scope };
}
