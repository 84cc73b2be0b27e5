/**
 * The one way to put user input into a query: as env parameters. The VQL text names variables; their values travel
 * in VQLCollectorArgs.env, which Velociraptor binds as scope variables. Nothing here ever splices a value into text.
 */
import { InputError } from "../core/errors.js";

export interface BuiltQuery {
  vql: string;
  env: Record<string, string>;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Names a parameter must not take: they would shadow variables or plugins the query relies on. */
const RESERVED = new Set(
  [
    "config", "Artifact", "scope", "info", "clients", "client_info", "flows", "hunts", "source", "uploads", "label",
    "collect_client", "hunt", "hunt_update", "hunt_delete", "artifact_definitions", "parse_json", "now", "timestamp",
    "dict", "format", "split", "if", "get", "count", "len", "str", "int", "items", "whoami", "user", "orgs", "range",
    "NULL", "TRUE", "FALSE", "SELECT", "FROM", "WHERE", "LET", "LIMIT", "ORDER", "GROUP", "AND", "OR", "NOT", "AS",
  ].map((s) => s.toLowerCase()),
);

function encode(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new InputError(name, "must be a finite number");
    return String(value);
  }
  if (typeof value === "boolean") return value ? "Y" : "";
  if (typeof value === "bigint") return value.toString();
  if (value === null || value === undefined) return "";
  // Velociraptor's parse_json() accepts only objects; arrays must be wrapped by the caller, e.g. {items: [...]}.
  if (Array.isArray(value))
    throw new InputError(name, "arrays cannot be passed directly", "Wrap the list in an object ({items: [...]}) and read it with parse_json(data=X).items, or join it and use split().");
  return JSON.stringify(value);
}

function mentions(vql: string, name: string): boolean {
  return new RegExp(`(^|[^A-Za-z0-9_])${name}([^A-Za-z0-9_]|$)`).test(vql);
}

/**
 * Builds a query with parameters. Names must be identifiers, must not shadow built-ins, and must appear in the VQL
 * (a parameter the query never reads is almost always a typo). Booleans become "Y"/"" because env values are strings.
 */
export function vqlQuery(vql: string, params: Record<string, unknown> = {}): BuiltQuery {
  if (!vql.trim()) throw new InputError("query", "is empty", "Write a VQL statement, e.g. SELECT * FROM info()");
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(params)) {
    if (!IDENTIFIER.test(name)) throw new InputError(`env.${name}`, "is not a valid VQL variable name", "Use letters, digits and _ and start with a letter.");
    if (RESERVED.has(name.toLowerCase())) throw new InputError(`env.${name}`, "shadows a VQL built-in", "Pick a distinctive name such as SearchTerm or ClientId.");
    if (!mentions(vql, name)) throw new InputError(`env.${name}`, "is not used by the query", `Refer to it by name in the VQL (e.g. WHERE x = ${name}) or drop it.`);
    env[name] = encode(`env.${name}`, value);
  }
  return { vql, env };
}

/** Validates env from an untrusted caller (run_vql), where every value must already be a string. */
export function checkEnv(env: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (!IDENTIFIER.test(name)) throw new InputError(`env.${name}`, "is not a valid VQL variable name", "Use letters, digits and _.");
    out[name] = encode(`env.${name}`, value);
  }
  return out;
}

/** Wraps a list so it can travel as one env string: VQL reads it with parse_json(data=X).items. */
export function listParam(items: readonly string[]): { items: readonly string[] } {
  return { items };
}
