/**
 * Does a result row look like something Velociraptor could have produced? Checks each column against the
 * catalogue: known name, JSON type, value form (closed set or pattern), nested keys. Used on test fixtures so their
 * rows cannot drift from the real forms (the way `ESTABLISHED` once hid a dead triage rule).
 */
import { allowsValue, resultColumns } from "./catalogue.js";
import type { Column } from "./schema.js";

export interface ConformOptions {
  /** Every catalogued column must be present (Velociraptor always emits its SELECT's columns, null or not). */
  complete?: boolean;
  /** Rows read through a hunt also carry FlowId, ClientId, _OrgId and Fqdn (vql/server/hunts/hunts.go:295-298). */
  hunt?: boolean;
}

export const HUNT_COLUMNS: ReadonlySet<string> = new Set(["FlowId", "ClientId", "_OrgId", "Fqdn"]);
// Velociraptor's time.Time JSON: RFC 3339 in UTC (utils/time.go:64-84).
const UTC_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

function typeProblem(c: Column, v: unknown): string | undefined {
  const isObj = (x: unknown) => typeof x === "object" && x !== null && !Array.isArray(x);
  switch (c.type) {
    case "string":
      return typeof v === "string" ? undefined : "a string";
    case "integer":
      return typeof v === "number" && Number.isInteger(v) ? undefined : "an integer";
    case "number":
      return typeof v === "number" ? undefined : "a number";
    case "boolean":
      return typeof v === "boolean" ? undefined : "true or false";
    case "timestamp":
      return typeof v === "string" && UTC_TIME.test(v) ? undefined : "an RFC 3339 UTC time such as 2026-11-20T08:14:03Z";
    case "timestamps":
      return Array.isArray(v) && v.every((x) => typeof x === "string" && UTC_TIME.test(x)) ? undefined : "a list of RFC 3339 UTC times";
    case "strings":
      return Array.isArray(v) && v.every((x) => typeof x === "string") ? undefined : "a list of strings";
    case "object":
      return isObj(v) ? undefined : "an object";
    case "array":
      return Array.isArray(v) ? undefined : "a list";
    case "any":
      return undefined;
  }
}

function checkValue(c: Column, v: unknown, at: string, out: string[]): void {
  if (v === null || v === undefined) {
    if (!c.nullable) out.push(`${at}: null, but Velociraptor always fills this column`);
    return;
  }
  const t = typeProblem(c, v);
  if (t) {
    out.push(`${at}: ${JSON.stringify(v)?.slice(0, 60)} is not ${t}`);
    return;
  }
  if (typeof v === "string" && !allowsValue(c, v)) out.push(`${at}: "${v}" is not a value Velociraptor writes here (${[...(c.values ?? []).map((x) => `"${x}"`), ...(c.patterns ?? []).map((p) => `/${p}/`)].join(", ")})`);
  if (c.fields && v && typeof v === "object" && !Array.isArray(v)) {
    const obj = v as Record<string, unknown>;
    for (const f of c.fields) if (f.name in obj) checkValue(f, obj[f.name], `${at}.${f.name}`, out);
    if (!c.openFields) for (const k of Object.keys(obj)) if (!c.fields.some((f) => f.name === k)) out.push(`${at}.${k}: not a key of this object`);
  }
}

/** Problems with one row of `result` (`Artifact` or `Artifact/Source`), as `column: problem` lines; [] when it conforms. */
export function checkRow(result: string, row: Record<string, unknown>, o: ConformOptions = {}): string[] {
  const cols = resultColumns(result);
  if (!cols) return [`${result}: the column catalogue does not record this result's columns`];
  const out: string[] = [];
  for (const [k, v] of Object.entries(row)) {
    const c = cols.find((x) => x.name === k);
    if (c) checkValue(c, v, k, out);
    else if (!(o.hunt && HUNT_COLUMNS.has(k))) out.push(`${k}: ${result} has no such column`);
  }
  if (o.complete) for (const c of cols) if (!(c.name in row) && !c.when) out.push(`${c.name}: missing (Velociraptor always emits it)`);
  return out;
}
