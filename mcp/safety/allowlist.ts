/**
 * Optional artifact allow-list (MEGARAPTOR_ARTIFACT_ALLOWLIST = a YAML/JSON file): only listed artifacts may be
 * collected or hunted. An entry may pin the SHA-256 of the artifact's definition; pins are checked against the live
 * server (at start, and before use) so a modified artifact is refused even if its name is allowed.
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

const pinResults = new Map<string, Promise<Map<string, string>>>();

/** Compares pins with the live definitions once per server; returns name → problem for mismatches. */
export function verifyPins(list: AllowList, fetchDefinitions: (names: string[]) => Promise<Row[]>, key: string): Promise<Map<string, string>> {
  if (!pinResults.has(key)) {
    const pinned = [...list.entries].filter(([, h]) => h);
    pinResults.set(
      key,
      (pinned.length ? fetchDefinitions(pinned.map(([n]) => n)) : Promise.resolve([])).then((defs) => {
        const problems = new Map<string, string>();
        for (const [name, want] of pinned) {
          const def = defs.find((d) => d.name === name);
          if (!def) problems.set(name, "is pinned but does not exist on the server");
          else if (definitionHash(def) !== want) problems.set(name, `definition changed on the server (sha256 ${definitionHash(def).slice(0, 12)}…, pinned ${want!.slice(0, 12)}…)`);
        }
        for (const [n, p] of problems) log.warn("artifact allow-list pin mismatch", { artifact: n, problem: p });
        return problems;
      }),
    );
  }
  return pinResults.get(key)!;
}

/** For tests. */
export function resetAllowList(): void {
  cached = undefined;
  pinResults.clear();
}
