/**
 * run_vql's gate: what a query may do in each mode, decided from what Velociraptor will execute (the effect
 * classifier, velociraptor/vql/effects.ts) and what the artifacts it runs do (artifact-effects.ts).
 *
 * - read-only: only calls classified read; any artifact use, unknown call or lambda that cannot be read is refused.
 * - investigate: read and investigator-level calls (label, collections and hunts of investigate-level artifacts, …)
 *   after plan → confirm; anything respond-level is refused outright — no confirm token can unlock it.
 * - respond: everything, state-changing calls after plan → confirm.
 * With an artifact allow-list, queries that run VQL from strings (query(), eval, …) are refused in every mode: the
 * artifacts they would run cannot be known.
 */
import { InputError } from "../../core/errors.js";
import type { VelociraptorSession } from "../../velociraptor/session.js";
import { classifyVql, maxEffect, type CallEffect, type Effect, type VqlClassification } from "../../velociraptor/vql/index.js";
import { ArtifactNotAllowedError, currentAllowList } from "./allowlist.js";
import { assessArtifacts, type ArtifactAssessment } from "./artifact-effects.js";
import { EffectForbiddenError, type Refusal } from "./forbidden.js";
import { allows, type Mode } from "./mode.js";

export interface VqlJudgement {
  classification: VqlClassification;
  artifacts?: ArtifactAssessment;
  effect: Effect;
  /** The calls (and artifacts) above read, for the plan and the audit summary. */
  changes: string[];
}

const above = (calls: CallEffect[], level: Effect) => calls.filter((c) => maxEffect(c.effect, level) === c.effect && c.effect !== level);

/** Classifies the query and enforces the mode; throws MODE_FORBIDDEN / ARTIFACT_NOT_ALLOWED / INVALID_INPUT. */
export async function judgeVql(query: string, env: Readonly<Record<string, unknown>>, mode: Mode, session: VelociraptorSession): Promise<VqlJudgement> {
  const c = classifyVql(query, { env });
  if (!c.ok) throw new InputError("query", `VQL syntax error: ${c.errors[0]!.message}`, "Fix the query; VQL statements are SELECT … FROM plugin(arg=value) [WHERE …] [LIMIT n] and LET name = ….");
  const changes = c.calls.filter((x) => x.effect !== "read").map((x) => x.name);
  if (mode === "read-only") {
    const refused: Refusal[] = c.calls.filter((x) => x.effect !== "read").map((x) => ({ what: x.name, effect: x.effect, reason: x.reason, line: x.line, column: x.column }));
    for (const u of c.artifacts) if (!refused.some((r) => r.line === u.line && r.column === u.column)) refused.push({ what: u.via, effect: "investigate", reason: "runs artifacts", line: u.line, column: u.column });
    if (refused.length) throw new EffectForbiddenError("run_vql: this query", maxEffect(...refused.map((r) => r.effect)), mode, refused);
    return { classification: c, effect: "read", changes: [] };
  }
  if (currentAllowList() && c.dynamicCode.length)
    throw new ArtifactNotAllowedError(c.dynamicCode.join(", "), "runs VQL that is not in the query text, so the artifacts it would run cannot be checked against the allow-list");
  const artifacts = c.artifacts.length ? await assessArtifacts(session, c.artifacts) : undefined;
  const effect = maxEffect(c.effect, artifacts?.effect ?? "read");
  if (!allows(mode, effect)) {
    const refused: Refusal[] = [
      ...above(c.calls, mode === "investigate" ? "investigate" : "respond").map((x) => ({ what: x.name, effect: x.effect, reason: x.reason, line: x.line, column: x.column })),
      ...(artifacts?.verdicts ?? []).filter((v) => !allows(mode, v.effect)).map((v) => ({ what: `${v.via} ${v.name}`, effect: v.effect, reason: v.reasons.join("; ") })),
      ...(artifacts?.indeterminate ?? []).map((why): Refusal => ({ what: "artifacts", effect: "respond", reason: why })),
    ];
    throw new EffectForbiddenError("run_vql: this query", effect, mode, refused);
  }
  for (const v of artifacts?.verdicts ?? []) changes.push(`${v.via} ${v.name} (${v.effect})`);
  return { classification: c, artifacts, effect, changes: [...new Set(changes)] };
}
