/**
 * A deployment request and the settings it resolves to: ONE schema, one name per field end to end. The deploy tools
 * take `DeployRequestSchema` as their arguments, `megaraptor deploy` maps its flags onto it once, the stored settings
 * are `DeploymentSettings` with the same names, and the stack program reads `megaraptor:<field>` with those names too.
 * Each target's section comes from the target registry (deploy/targets).
 */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { PROFILE_NAMES } from "../../profiles/schema.js";
import { TARGET_LIST, TARGET_NAMES } from "../targets/index.js";
import { BaseShape, DEFAULT_PROFILE, DEPLOYMENT_ID_FORM, DeploymentId } from "./base.js";

export { DEFAULT_PROFILE } from "./base.js";

/** Each target's section under its own name; a target that needs its section is checked in the refinement below. */
const SectionShape: Record<string, z.ZodType> = Object.fromEntries(TARGET_LIST.map((t) => [t.name, t.sectionRequired ? t.settings.optional() : t.settings]));

export const TargetSchema = z.enum(TARGET_NAMES).describe(TARGET_LIST.map((t) => `${t.name}: ${t.title}`).join("; "));

export const DeploymentSettingsSchema = z
  .object({ target: TargetSchema, ...BaseShape, ...SectionShape })
  .strict()
  .superRefine((s: DeploymentSettings, ctx) => {
    const t = TARGET_LIST.find((x) => x.name === s.target);
    if (t?.sectionRequired && s[t.name] === undefined) ctx.addIssue({ code: "custom", path: [t.name], message: `target ${t.name} needs a "${t.name}" section (see Pulumi.${t.example}.yaml)` });
  });

/**
 * What is stored about a deployment and what the stack program builds from. Target sections are typed in their
 * target's module (deploy/targets), which is the only code that reads them.
 */
export type DeploymentSettings = z.infer<typeof DeploymentSettingsSchema> & { [section: string]: unknown };

/** Where settings came from decides how an error names the field and what it suggests. */
export type SettingsSource = "request" | "stack" | "state" | "template";

/** Settings that do not validate: names the field (as the source spells it) and the fix. Code INVALID_INPUT. */
export class DeploymentSettingsError extends InputError {
  readonly source: SettingsSource;
  constructor(issue: z.core.$ZodIssue, source: SettingsSource, context = "") {
    const path = issue.path.map(String).join(".");
    const field = source === "stack" ? `megaraptor:${path || "(settings)"}` : path || "(settings)";
    const keys = issue.code === "unrecognized_keys" ? ` (${issue.keys.join(", ")})` : "";
    const renamed = issue.code === "unrecognized_keys" ? renames(issue.keys) : "";
    const hint: Record<SettingsSource, string> = {
      request: "See docs/deployments.md for every deploy_server argument.",
      stack: "Fix the key in Pulumi.<stack>.yaml; docs/platform.md lists every stack setting.",
      state: "The stored settings of this deployment do not validate; redeploy it with deploy_server and the full settings.",
      template: "Pass the missing field (e.g. deployment_id and hostname) or fix the template.",
    };
    super(field, `${issue.message}${keys}${context}`, `${renamed}${hint[source]}`);
    this.source = source;
  }
}

/** Earlier releases spelt fields in camelCase (and `case`); say the new name instead of only refusing the old one. */
function renames(keys: readonly string[]): string {
  const moved = keys.map((k) => [k, k === "case" ? "case_id" : snake(k)] as const).filter(([a, b]) => a !== b);
  return moved.length ? `Renamed: ${moved.map(([a, b]) => `${a} → ${b}`).join(", ")}. ` : "";
}

export function parseDeploymentSettings(raw: unknown, source: SettingsSource = "request", context = ""): DeploymentSettings {
  const r = DeploymentSettingsSchema.safeParse(raw);
  if (!r.success) throw new DeploymentSettingsError(r.error.issues[0]!, source, context);
  return r.data;
}

const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** Profile overrides keep the profile's own field names, and tags are the user's. */
const VERBATIM = new Set(["overrides", "tags"]);

/** Renames camelCase keys of stored settings to the current names (see parseStoredSettings). */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== "object") return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k === "caseId" ? "case_id" : snake(k), VERBATIM.has(k) ? x : snakeKeys(x)]));
}

/**
 * Settings read back from the Pulumi state or a template file. Deployments and templates saved before the names
 * became one spelling carry camelCase keys; they are read under the current names.
 */
export function parseStoredSettings(raw: unknown, source: "state" | "template" = "state", context = ""): DeploymentSettings {
  return parseDeploymentSettings(snakeKeys(raw), source, context);
}

/** How a deploy call runs; not part of the settings that are stored. */
const OperationShape = {
  template: z.string().optional().describe("start from a saved deployment template (list_deployment_templates); fields given here override it"),
  ssh_credential: z.string().optional().describe("alias of a stored credential (store_credential) holding the SSH key or password"),
  skip_preflight: z.boolean().default(false).describe("skip the target checks (not recommended)"),
  wait_healthy: z.boolean().default(true).describe("wait until /healthz and the API answer (MEGARAPTOR_HEALTH_TIMEOUT, default 300 s)"),
  health_timeout: z.number().int().min(1).max(3600).optional().describe("seconds to wait for health"),
};

/** Per-call sections are optional: the target picks which one is used (a template may supply it). */
const RequestSectionShape: Record<string, z.ZodType> = Object.fromEntries(TARGET_LIST.map((t) => [t.name, t.settings.optional().describe(`${t.name} target: ${t.title}`)]));

/**
 * A deploy request: the settings' fields (optional where a template or a default may supply them) plus how to run.
 * Day-2 counters (certificate_rotation, ca_rotation) are changed by rotate_certificates, not by a request.
 */
export const DeployRequestSchema = z
  .object({
    deployment_id: DeploymentId.describe(`${DEPLOYMENT_ID_FORM}; names the stack and resources`),
    target: TargetSchema.optional(),
    profile: z.enum(PROFILE_NAMES).optional().describe(`minimal | rapid | standard | enterprise (default ${DEFAULT_PROFILE}, or the template's)`),
    hostname: BaseShape.hostname.optional().describe("name clients and analysts use to reach the server (docker: default localhost)"),
    overrides: z.record(z.string(), z.unknown()).optional().describe(BaseShape.overrides.description ?? ""),
    version: BaseShape.version,
    case_id: BaseShape.case_id,
    owner: BaseShape.owner,
    description: BaseShape.description,
    tags: z.record(z.string(), z.string()).optional(),
    api_users: BaseShape.api_users,
    gui_users: BaseShape.gui_users,
    ...RequestSectionShape,
    ...OperationShape,
  })
  .strict();

/** Target sections are typed in their target's module (deploy/targets), which is the only code that reads them. */
export type DeployRequest = z.infer<typeof DeployRequestSchema> & { [section: string]: unknown };

/** A request built in code (the parity shortcuts, the CLI): refused like any other, naming the field. */
export function parseDeployRequest(raw: unknown): DeployRequest {
  const r = DeployRequestSchema.safeParse(raw);
  if (!r.success) throw new DeploymentSettingsError(r.error.issues[0]!, "request");
  return r.data;
}
/** What a caller may pass (defaults not yet applied). */
export type DeployRequestInput = z.input<typeof DeployRequestSchema>;

/**
 * The settings a request asks for: the template's (if any) with the request's fields on top, the target's default
 * host name, then the one settings schema.
 */
export function settingsOf(request: DeployRequest, loadTemplate: (name: string) => Record<string, unknown>): DeploymentSettings {
  const { template, ssh_credential: _c, skip_preflight: _p, wait_healthy: _w, health_timeout: _h, ...fields } = request;
  const given = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
  const merged = template ? { ...loadTemplate(template), ...given } : given;
  const target = merged.target;
  if (typeof target !== "string") throw new InputError("target", "is required", `One of ${TARGET_NAMES.join(", ")} (or a template that names one).`);
  const hostname = merged.hostname ?? TARGET_LIST.find((t) => t.name === target)?.defaultHostname;
  return parseDeploymentSettings({ ...merged, hostname }, template ? "template" : "request", template ? ` (template ${template})` : "");
}
