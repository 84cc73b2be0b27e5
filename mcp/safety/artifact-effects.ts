/**
 * What running an artifact does, decided from its definition — never from which tool carries it. Every path that
 * makes Velociraptor run artifacts (collect_artifact, collect_bulk, the templates, quick_triage, create_hunt,
 * modify_hunt start, and run_vql's collect_client / hunt / hunt_update / hunt_add / Artifact.X) comes through here:
 *
 * 1. the artifact allow-list (MEGARAPTOR_ARTIFACT_ALLOWLIST), when set: every name must be listed, and every pin must
 *    match the definition read now (no cached verdict: a definition changed on the server is refused on next use);
 *    a use whose artifacts cannot be read from the query is refused;
 * 2. the effect, from the live definition (artifact_definitions()):
 *    - collected on the server or a SERVER artifact → respond (COLLECT_SERVER; services/launcher/acls.go CheckAccess);
 *    - `required_permissions` beyond the investigator role → respond (the launcher refuses an investigator exactly
 *      then: checkRequiredPermissions);
 *    - a known remediation family (REMEDIATION_FAMILIES) → respond;
 *    - sources that call something that changes the endpoint or the server (CHANGING_PERMISSIONS per vql.yaml)
 *      without the artifact declaring that permission in `implied_permissions` → respond;
 *    - run inline (`Artifact.X()` in a query runs on the server with the caller's ACL): its sources are classified
 *      like run_vql's own text, so anything but read and investigator-level calls → respond;
 *    - otherwise investigate. `implied_permissions` are reported, not escalated: the artifact's author declares
 *      them as controlled use (artifacts/proto/artifact.proto).
 * Nested `Artifact.X` calls in sources are assessed too (depth-limited).
 */
import { InputError } from "../../core/errors.js";
import type { Row } from "../../velociraptor/client.js";
import { rowsOf, type VelociraptorSession } from "../../velociraptor/session.js";
import { VQL_BUILTINS } from "../../velociraptor/vql/builtins.js";
import { classifyVql, maxEffect, type ArtifactUse, type Effect } from "../../velociraptor/vql/index.js";
import { ArtifactNotAllowedError, currentAllowList, pinProblem } from "./allowlist.js";
import { EffectForbiddenError } from "./forbidden.js";
import { allows, type Mode } from "./mode.js";
import { INVESTIGATOR_PERMISSIONS } from "./permissions.js";

/**
 * Artifact families that change endpoints or the server whatever permissions they declare (some declare none:
 * Server.Utils.DeleteClient). Sources: artifacts/definitions in Velocidex/velociraptor v0.77.2 —
 * {Windows,Linux,MacOS}/Remediation/*.yaml, Server/Utils/Delete*.yaml and KillClient.yaml, Admin/Client/*.yaml
 * (Uninstall, Upgrade, UpdateClientConfig), Generic/Client/Rekey.yaml and CleanupTemp.yaml,
 * Windows/Sysinternals/SysmonInstall.yaml, Linux/Utils/InstallDeb.yaml; and Megaraptor's own remediation artifacts
 * (dfir/response/artifacts.ts).
 */
export const REMEDIATION_FAMILIES: readonly { pattern: RegExp; why: string }[] = [
  { pattern: /(^|\.)Remediation(\.|$)/, why: "a remediation artifact (quarantine, sinkhole, task removal…)" },
  { pattern: /^Server\.Utils\.(Delete|Kill)/, why: "deletes data or kills clients on the server" },
  { pattern: /^Admin\.Client\./, why: "uninstalls, upgrades or reconfigures the Velociraptor client" },
  { pattern: /^Generic\.Client\.(Rekey|CleanupTemp)$/, why: "rekeys the client or deletes its temporary files" },
  { pattern: /^(Windows\.Sysinternals\.SysmonInstall|Linux\.Utils\.InstallDeb)$/, why: "installs software on the endpoint" },
];

/** A call whose declared permissions include one of these changes the endpoint or the server (vql.yaml metadata). */
const CHANGING_PERMISSIONS = new Set(["EXECVE", "FILESYSTEM_WRITE", "DELETE_RESULTS", "SERVER_ADMIN", "ARTIFACT_WRITER", "SERVER_ARTIFACT_WRITER", "ORG_ADMIN", "IMPERSONATION", "COLLECT_SERVER"]);
/** Calls that change state but declare no such permission (they check inside, or kill the client). */
const CHANGING_CALLS = new Set(["killkillkill", "user_create", "user_grant", "user_delete", "server_set_metadata", "client_set_metadata", "set_client_monitoring", "set_server_monitoring", "rm_client_monitoring", "rm_server_monitoring", "hunt_delete", "client_delete", "delete_flow", "delete_events"]);
/** Temporary files are how many acquisition artifacts stage tools; they are not a change worth respond mode. */
const STAGING_CALLS = new Set(["tempfile", "tempdir"]);

const MAX_DEPTH = 4;

export interface ArtifactVerdict {
  name: string;
  via: string;
  effect: Effect;
  reasons: string[];
  type?: string;
  required_permissions: string[];
  implied_permissions: string[];
}

export interface ArtifactAssessment {
  effect: Effect;
  verdicts: ArtifactVerdict[];
  /** One line per use that could not be assessed (names not in the text). */
  indeterminate: string[];
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === "string" && v ? [v] : []);
const baseName = (n: string) => n.split("/")[0]!;

/** The queries an artifact runs: its export (prepended to every source) and each source. */
function artifactQueries(def: Row): string[] {
  const exp = typeof def.export === "string" ? def.export : "";
  const sources = Array.isArray(def.sources) ? (def.sources as { query?: unknown }[]) : [];
  const qs = sources.map((s) => (typeof s.query === "string" ? s.query : "")).filter((q) => q.trim());
  return exp.trim() ? [exp, ...qs] : qs;
}

class Assessor {
  private readonly defs = new Map<string, Row | null>();
  constructor(private readonly session: VelociraptorSession) {}

  async load(names: string[]): Promise<void> {
    const missing = [...new Set(names.map(baseName))].filter((n) => !this.defs.has(n));
    if (!missing.length) return;
    const rows = await rowsOf(this.session, "SELECT * FROM artifact_definitions(names=parse_json(data=Names).items)", { Names: { items: missing } }, 10_000);
    for (const n of missing) this.defs.set(n, rows.find((r) => r.name === n) ?? null);
  }

  definition(name: string): Row | undefined {
    return this.defs.get(baseName(name)) ?? undefined;
  }

  async verdict(name: string, via: string, o: { onServer: boolean; inline: boolean }, depth = 0, seen = new Set<string>()): Promise<ArtifactVerdict> {
    await this.load([name]);
    const def = this.definition(name);
    const base = { name, via, required_permissions: strings(def?.required_permissions), implied_permissions: strings(def?.implied_permissions), type: def ? String(def.type ?? "").toLowerCase() : undefined };
    if (!def) return { ...base, effect: "respond", reasons: [`${name} does not exist on the server, so what it would run is unknown`] };
    const reasons: string[] = [];
    let effect: Effect = "investigate";
    const raise = (why: string) => {
      effect = "respond";
      reasons.push(why);
    };
    if (o.onServer && !o.inline) raise("collected on the server itself, which needs COLLECT_SERVER (services/launcher/acls.go)");
    if (base.type === "server" || base.type === "server_event") raise(`a ${base.type.toUpperCase()} artifact: it runs on the Velociraptor server`);
    const beyond = base.required_permissions.filter((p) => !INVESTIGATOR_PERMISSIONS.has(p.toUpperCase()));
    if (beyond.length) raise(`declares required_permissions ${beyond.join(", ")}, beyond the investigator role`);
    for (const f of REMEDIATION_FAMILIES) if (f.pattern.test(baseName(name))) raise(f.why);

    const implied = new Set(base.implied_permissions.map((p) => p.toUpperCase()));
    const key = baseName(name);
    if (depth < MAX_DEPTH && !seen.has(key)) {
      const nextSeen = new Set([...seen, key]);
      for (const q of artifactQueries(def)) {
        const c = classifyVql(q);
        if (!c.ok) {
          raise(`its VQL does not parse here (${c.errors[0]!.message}), so what it calls cannot be checked`);
          continue;
        }
        for (const call of c.calls) {
          if (call.kind === "artifact") continue;
          if (o.inline) {
            if (call.effect === "respond") raise(`runs on the server with your permissions and calls ${call.name}: ${call.reason}`);
            continue;
          }
          const perms = VQL_BUILTINS[call.name]?.permissions ?? [];
          const changing = perms.filter((p) => CHANGING_PERMISSIONS.has(p) && !implied.has(p));
          if ((changing.length && !STAGING_CALLS.has(call.name)) || CHANGING_CALLS.has(call.name))
            raise(`its VQL calls ${call.name}${changing.length ? ` (${changing.join(", ")}, not declared in implied_permissions)` : ""}`);
        }
        for (const use of c.artifacts)
          for (const n of use.names) {
            const nested = await this.verdict(n, `${key} → Artifact`, { onServer: o.onServer, inline: o.inline }, depth + 1, nextSeen);
            if (nested.effect === "respond") raise(`runs ${n}: ${nested.reasons[0] ?? "respond-level"}`);
          }
      }
    }
    return { ...base, effect, reasons: reasons.length ? reasons : ["collects data without changing the endpoint (no changing permission, family or call found)"] };
  }
}

/** Which artifacts a hunt collects (for hunt_update start and hunt_add, which run them on more clients). */
async function huntArtifacts(session: VelociraptorSession, huntId: string): Promise<string[]> {
  const rows = await rowsOf(session, "SELECT artifacts FROM hunts(hunt_id=HuntId)", { HuntId: huntId });
  return strings(rows[0]?.artifacts);
}

/**
 * Assesses artifact uses (from the VQL classifier, or built by a tool) against the allow-list and their definitions.
 * Throws ArtifactNotAllowedError on an allow-list violation; otherwise returns the highest effect and per-artifact
 * reasons.
 */
export async function assessArtifacts(session: VelociraptorSession, uses: readonly Pick<ArtifactUse, "via" | "names" | "determinable" | "huntIds" | "onServer">[]): Promise<ArtifactAssessment> {
  const allow = currentAllowList();
  const indeterminate: string[] = [];
  const expanded: { name: string; via: string; onServer: boolean; inline: boolean }[] = [];
  for (const u of uses) {
    if (!u.determinable) {
      const why = `${u.via}: which artifacts it runs cannot be read from the query (name them literally, or as env values in a top-level SELECT … FROM scope())`;
      if (allow) throw new ArtifactNotAllowedError(u.via, `${why}; with an artifact allow-list such a query is refused`);
      indeterminate.push(why);
    }
    for (const n of u.names) expanded.push({ name: n, via: u.via, onServer: u.onServer, inline: u.via === "Artifact" });
    for (const h of u.huntIds) for (const n of await huntArtifacts(session, h)) expanded.push({ name: n, via: `${u.via} ${h}`, onServer: false, inline: false });
  }
  const a = new Assessor(session);
  await a.load(expanded.map((e) => e.name));
  if (allow)
    for (const e of expanded) {
      const name = baseName(e.name);
      if (!allow.entries.has(name)) throw new ArtifactNotAllowedError(name, `is not in the artifact allow-list (${allow.path})`);
      const p = pinProblem(allow, name, a.definition(name));
      if (p) throw new ArtifactNotAllowedError(name, p);
    }
  const verdicts: ArtifactVerdict[] = [];
  for (const e of expanded) verdicts.push(await a.verdict(e.name, e.via, e));
  return { effect: maxEffect(...verdicts.map((v) => v.effect), ...(indeterminate.length ? (["respond"] as const) : [])), verdicts, indeterminate };
}

/** For tools that collect named artifacts: the same checks, with a field name for errors. */
export async function assessCollection(session: VelociraptorSession, artifacts: string[], o: { onServer: boolean; via: string }): Promise<ArtifactAssessment> {
  if (!artifacts.length) throw new InputError("artifacts", "no artifact to collect", "Name at least one artifact.");
  return assessArtifacts(session, [{ via: o.via, names: artifacts, determinable: true, huntIds: [], onServer: o.onServer }]);
}

/**
 * The gate every tool collection passes (scheduleCollection, hunts): allow-list and pins checked now, and the
 * artifacts' effect must fit the mode. Returns the assessment (a respond-level one still needs plan → confirm).
 */
export async function enforceArtifacts(session: VelociraptorSession & { mode: Mode }, artifacts: string[], o: { onServer: boolean; via: string }): Promise<ArtifactAssessment> {
  const a = await assessCollection(session, artifacts, o);
  if (!allows(session.mode, a.effect))
    throw new EffectForbiddenError(`${o.via} of ${artifacts.join(", ")}`, a.effect, session.mode, a.verdicts.filter((v) => !allows(session.mode, v.effect)).map((v) => ({ what: v.name, effect: v.effect, reason: v.reasons.join("; ") })));
  return a;
}

/**
 * A plan for a respond-level collection through a generic tool (undefined when it is investigate-level); marked
 * destructive, so confirming it needs a reason like every respond-level action.
 */
export function respondPlan(a: ArtifactAssessment, summary: string, details: Record<string, unknown>): { summary: string; details: Record<string, unknown>; destructive: true } | undefined {
  if (a.effect !== "respond") return undefined;
  return {
    destructive: true,
    summary: `${summary} — respond-level: ${a.verdicts.filter((v) => v.effect === "respond").map((v) => v.name).join(", ")}`,
    details: { ...details, artifacts: a.verdicts.map((v) => ({ artifact: v.name, effect: v.effect, why: v.reasons, required_permissions: v.required_permissions, implied_permissions: v.implied_permissions })) },
  };
}
