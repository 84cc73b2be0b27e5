/** Loads a profile from profiles/<name>.yaml and applies per-stack overrides, validating the result. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { InputError } from "../core/errors.js";
import { packageRoot } from "../core/paths.js";
import { PROFILE_NAMES, ProfileSchema, type Profile, type ProfileName, type ProfileOverrides } from "./schema.js";

export { PROFILE_NAMES, ProfileSchema, type Profile, type ProfileName, type ProfileOverrides } from "./schema.js";

function merge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base;
  if (base && over && typeof base === "object" && typeof over === "object" && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge(out[k], v);
    return out;
  }
  return over;
}

export function loadProfile(name: string, overrides: ProfileOverrides | Record<string, unknown> = {}): Profile {
  if (!(PROFILE_NAMES as readonly string[]).includes(name))
    throw new InputError("profile", `unknown profile "${name}"`, `Use one of ${PROFILE_NAMES.join(", ")}.`);
  const base = parse(readFileSync(join(packageRoot(), "profiles", `${name}.yaml`), "utf8")) as unknown;
  if (overrides && typeof overrides === "object" && "name" in overrides) throw new InputError("profile.name", "cannot be overridden", "Choose another profile instead.");
  const parsed = ProfileSchema.safeParse(merge(base, overrides));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = ["profile", ...issue.path.map(String)].join(".");
    const keys = issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
    throw new InputError(path, `${issue.message}${keys}`, `Fix the override for ${name}; see docs/components.md for every profile field.`);
  }
  return parsed.data;
}

export function isProfileName(n: string): n is ProfileName {
  return (PROFILE_NAMES as readonly string[]).includes(n);
}
