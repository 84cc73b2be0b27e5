/**
 * Optional artifact allow-list (MEGARAPTOR_ARTIFACT_ALLOWLIST = a YAML/JSON file): only listed artifacts may be
 * collected, hunted or run — by any tool, run_vql included. An entry may pin the SHA-256 of the artifact's definition;
 * pins are checked against the live definition at start (a warning) and before every use (a refusal), so a modified
 * artifact is refused even if its name is allowed.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { z } from "zod";
import { MegaraptorError } from "../../core/errors.js";
import { log } from "../../core/logger.js";
import type { Row } from "../../velociraptor/client.js";
import { canonicalJson } from "./confirm.js";

const EntrySchema = z.union([z.string().min(1), z.object({ name: z.string().min(1), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional() }).strict()]);
const FileSchema = z.union([z.array(EntrySchema), z.object({ artifacts: z.array(EntrySchema) }).strict()]);

export class ArtifactNotAllowedError extends MegaraptorError {
  constructor(name: string, reason: string) {
    super("ARTIFACT_NOT_ALLOWED", `${name}: ${reason}`, { hint: "Ask whoever maintains MEGARAPTOR_ARTIFACT_ALLOWLIST to add (or re-pin) it, or pick an allowed artifact." });
  }
}

export interface AllowList {
  path: string;
  /** name → pinned SHA-256 (undefined = name only). */
  entries: Map<string, string | undefined>;
}

export function loadAllowList(path: string): AllowList {
  let raw: unknown;
  try {
    // failsafe: every scalar is a string, so an all-digit hash is not turned into a number.
    raw = parse(readFileSync(path, "utf8"), { schema: "failsafe" });
  } catch (err) {
    throw new MegaraptorError("CONFIG_INVALID", `MEGARAPTOR_ARTIFACT_ALLOWLIST (${path}): ${(err as Error).message}`, { hint: "A YAML list of artifact names or {name, sha256} entries." });
  }
  const r = FileSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new MegaraptorError("CONFIG_INVALID", `MEGARAPTOR_ARTIFACT_ALLOWLIST (${path}): ${i.path.join(".") || "(file)"}: ${i.message}`, { hint: "A YAML list of artifact names or {name, sha256} entries (sha256 = 64 lowercase hex)." });
  }
  const list = Array.isArray(r.data) ? r.data : r.data.artifacts;
  return { path, entries: new Map(list.map((e) => (typeof e === "string" ? [e, undefined] : [e.name, e.sha256]))) };
}

let cached: AllowList | null | undefined;
export function currentAllowList(env: NodeJS.ProcessEnv = process.env): AllowList | undefined {
  if (cached === undefined) cached = env.MEGARAPTOR_ARTIFACT_ALLOWLIST ? loadAllowList(env.MEGARAPTOR_ARTIFACT_ALLOWLIST) : null;
  return cached ?? undefined;
}

/** The hash pinned in the allow-list: SHA-256 of the definition's raw YAML when the server returns it, else of its canonical JSON. */
export function definitionHash(def: Row): string {
  const raw = typeof def.raw === "string" && def.raw ? def.raw : canonicalJson({ name: def.name, parameters: def.parameters, sources: def.sources, type: def.type });
  return createHash("sha256").update(raw).digest("hex");
}

/** What is wrong with a pinned artifact's live definition (undefined when it matches, or is not pinned). */
export function pinProblem(list: AllowList, name: string, def: Row | undefined): string | undefined {
  const want = list.entries.get(name);
  if (!want) return undefined;
  if (!def) return "is pinned but does not exist on the server";
  const got = definitionHash(def);
  return got === want ? undefined : `definition changed on the server (sha256 ${got.slice(0, 12)}…, pinned ${want.slice(0, 12)}…)`;
}

/**
 * Compares every pin with the live definitions and logs mismatches: the start-up warning. Enforcement does not use
 * this result — every collection re-reads the definitions it is about to run (see artifact-effects.ts), so a
 * definition changed after start is refused on its next use.
 */
export async function verifyPins(list: AllowList, fetchDefinitions: (names: string[]) => Promise<Row[]>): Promise<Map<string, string>> {
  const pinned = [...list.entries].filter(([, h]) => h).map(([n]) => n);
  const defs = pinned.length ? await fetchDefinitions(pinned) : [];
  const problems = new Map<string, string>();
  for (const name of pinned) {
    const p = pinProblem(list, name, defs.find((d) => d.name === name));
    if (p) problems.set(name, p);
  }
  for (const [n, p] of problems) log.warn("artifact allow-list pin mismatch", { artifact: n, problem: p });
  return problems;
}

/** For tests. */
export function resetAllowList(): void {
  cached = undefined;
}
