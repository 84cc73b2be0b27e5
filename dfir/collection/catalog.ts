/** The live artifact catalog, used to reject hallucinated artifact and parameter names before they reach the server. */
import { InputError } from "../../core/errors.js";
import type { Row } from "../../velociraptor/client.js";
import { rowsOf, type VelociraptorSession } from "../../velociraptor/session.js";
import { didYouMean } from "../../core/suggest.js";
import type { ArtifactGate } from "./session.js";

export interface CatalogEntry {
  name: string;
  type: string;
  parameters: string[];
  sources: string[];
}

export type Catalog = Map<string, CatalogEntry>;

export async function loadCatalog(session: VelociraptorSession): Promise<Catalog> {
  const rows: Row[] = await rowsOf(session, "SELECT name, type, parameters, sources FROM artifact_definitions()", {}, 100_000);
  return new Map(
    rows.map((r) => [
      String(r.name),
      {
        name: String(r.name),
        type: String(r.type),
        parameters: ((r.parameters as { name: string }[] | null) ?? []).map((p) => p.name),
        sources: ((r.sources as { name?: string }[] | null) ?? []).map((s) => s.name ?? "").filter(Boolean),
      },
    ]),
  );
}

/**
 * Checks artifact names and per-artifact parameter names; errors carry "did you mean" suggestions. The gate's name
 * check gives the early, friendly allow-list error; pins and effects are enforced where the collection is scheduled.
 */
export async function checkArtifacts(
  session: VelociraptorSession & { gate: Pick<ArtifactGate, "checkName"> },
  artifacts: string[],
  parameters: Record<string, Record<string, string>>,
  field = "artifacts",
  /** The catalog when the caller already loaded it (it is the whole artifact list: one query is enough). */
  loaded?: Catalog,
): Promise<Catalog> {
  const catalog = loaded ?? (await loadCatalog(session));
  for (const [i, full] of artifacts.entries()) {
    const [name, source] = full.split("/") as [string, string | undefined];
    const entry = catalog.get(name);
    if (!entry) {
      const near = didYouMean(name, catalog.keys());
      throw new InputError(`${field}[${i}]`, `unknown artifact "${name}"`, near.length ? `Did you mean ${near.join(", ")}? (list_artifacts shows what exists)` : "Use list_artifacts to find the right name.");
    }
    session.gate.checkName(name);
    if (source && !entry.sources.includes(source))
      throw new InputError(`${field}[${i}]`, `${name} has no source "${source}"`, `Sources: ${entry.sources.join(", ") || "(single source — omit /Source)"}.`);
    for (const p of Object.keys(parameters[name] ?? {}))
      if (!entry.parameters.includes(p)) {
        const near = didYouMean(p, entry.parameters);
        throw new InputError(`parameters.${name}.${p}`, `${name} has no parameter "${p}"`, near.length ? `Did you mean ${near.join(", ")}?` : `Parameters: ${entry.parameters.join(", ") || "(none)"}.`);
      }
  }
  return catalog;
}

/**
 * Parameters come either per artifact (`{"Windows.System.Pslist": {"ProcessRegex": "x"}}`) or shared by all
 * (`{"ProcessRegex": "x"}`); returns the per-artifact form. Values become strings, as Velociraptor expects.
 */
export function perArtifactParameters(artifacts: string[], parameters: Record<string, unknown> | undefined): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  if (!parameters) return out;
  const names = new Set(artifacts.map((a) => a.split("/")[0]!));
  const keyed = Object.keys(parameters).length > 0 && Object.keys(parameters).every((k) => names.has(k));
  const toStr = (v: unknown) => (typeof v === "string" ? v : typeof v === "boolean" ? (v ? "Y" : "N") : JSON.stringify(v));
  for (const a of names) {
    const src = keyed ? ((parameters[a] as Record<string, unknown> | undefined) ?? {}) : parameters;
    if (Object.keys(src).length) out[a] = Object.fromEntries(Object.entries(src).map(([k, v]) => [k, toStr(v)]));
  }
  return out;
}
