/**
 * Every numeric MEGARAPTOR_* environment setting, read in one place. A bad value is refused with the variable's name,
 * what was given, what is allowed and the default — never silently replaced by the default or passed on as NaN
 * (`Number("10s")` is NaN, and a NaN limit or expiry compares false against everything, so a cap or a token expiry
 * would quietly stop applying). Unset or empty means the default.
 *
 * Commands check all of them at start-up (`settingProblems`) so a typo stops the process with every problem listed
 * before anything runs; modules read their own value when they use it (`numericSetting`), so a process that skipped the
 * start-up check (an in-process server in a test, a library caller) still fails closed with the same message.
 */
import { MegaraptorError } from "./errors.js";

interface NumericSetting {
  default: number;
  min: number;
  max?: number;
  integer?: boolean;
  /** The unit, for messages ("seconds", "bytes"). */
  unit: string;
  /** What the value controls, for messages and the docs. */
  purpose: string;
}

const GiB = 1024 ** 3;

export const NUMERIC_SETTINGS = {
  MEGARAPTOR_CONNECT_TIMEOUT_SECONDS: { default: 15, min: 0.1, max: 3600, unit: "seconds", purpose: "how long a client waits for the gRPC connection" },
  MEGARAPTOR_CONFIRM_TTL_SECONDS: { default: 300, min: 1, max: 86_400, unit: "seconds", purpose: "how long a confirm_token stays valid" },
  MEGARAPTOR_MAX_HUNT_CLIENTS: { default: 500, min: 1, integer: true, unit: "clients", purpose: "hunts reaching more clients than this need confirmation" },
  MEGARAPTOR_MAX_DOWNLOAD_BYTES: { default: 2 * GiB, min: 1, integer: true, unit: "bytes", purpose: "the largest evidence file download" },
  MEGARAPTOR_MAX_RESULT_BYTES: { default: 64 * 1024, min: 1024, integer: true, unit: "bytes", purpose: "the byte cap of one result page" },
  MEGARAPTOR_STACK_MAX_GROUPS: { default: 100_000, min: 1, integer: true, unit: "groups", purpose: "groups kept when stacking results" },
  MEGARAPTOR_TRIAGE_RECENT_DAYS: { default: 14, min: 1, max: 3650, unit: "days", purpose: "what triage counts as recently created" },
  MEGARAPTOR_TIMELINE_CACHE_BYTES: { default: GiB, min: 0, integer: true, unit: "bytes", purpose: "the timeline page cache's size cap" },
  MEGARAPTOR_TIMELINE_CACHE_TTL_SECONDS: { default: 3600, min: 0, unit: "seconds", purpose: "how long a cached timeline is kept" },
  MEGARAPTOR_HEALTH_TIMEOUT: { default: 300, min: 1, max: 86_400, unit: "seconds", purpose: "how long a deployment waits to become healthy" },
  MEGARAPTOR_CLOUD_TTL_HOURS: { default: 2, min: 0.1, max: 48, unit: "hours", purpose: "how long a cloud test stack may live" },
  MEGARAPTOR_CLOUD_MONTHLY_BUDGET_USD: { default: 50, min: 0, unit: "USD", purpose: "the cloud test budget per month" },
  MEGARAPTOR_CLOUD_SPENT_USD: { default: 0, min: 0, unit: "USD", purpose: "what the cloud tests spent this month" },
  MEGARAPTOR_CLOUD_MAX_VCPU: { default: 2, min: 1, integer: true, unit: "vCPU", purpose: "the largest cloud test instance" },
} satisfies Record<string, NumericSetting>;

export type NumericSettingName = keyof typeof NUMERIC_SETTINGS;

/**
 * Settings that take one of a few words (any case). Their readers keep a safe default at use — the logger must never
 * throw — so the start-up check is where a typo (`MEGARAPTOR_LOG_LEVEL=verbose`, silently `info`) is caught.
 */
export const CHOICE_SETTINGS = {
  MEGARAPTOR_LOG_LEVEL: { default: "info", choices: ["debug", "info", "warn", "error"], purpose: "how much the server logs to stderr" },
} satisfies Record<string, { default: string; choices: string[]; purpose: string }>;

/** A bad setting: names the variable, the value given, the allowed range and how to fix it. */
export class SettingError extends MegaraptorError {
  readonly variable: string;
  constructor(variable: string, message: string, hint: string) {
    super("INVALID_SETTING", `${variable}: ${message}`, { hint, details: { variable } });
    this.variable = variable;
  }
}

function range(s: NumericSetting): string {
  const kind = s.integer ? "a whole number" : "a number";
  return s.max === undefined ? `${kind} ≥ ${s.min} (${s.unit})` : `${kind} from ${s.min} to ${s.max} (${s.unit})`;
}

function check(name: NumericSettingName, raw: string | undefined): number | SettingError {
  const s: NumericSetting = NUMERIC_SETTINGS[name];
  if (raw === undefined || raw.trim() === "") return s.default;
  // Number() alone would take "0x10", "1e3" and " 5 "; only plain decimal numbers are what a reader of the
  // environment would expect to be taken literally.
  const v = /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : Number.NaN;
  const ok = Number.isFinite(v) && v >= s.min && (s.max === undefined || v <= s.max) && (!s.integer || Number.isInteger(v));
  if (ok) return v;
  // The value is a setting the user typed, not a secret; it is quoted (shortened) so the typo is visible.
  const shown = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
  return new SettingError(name, `"${shown}" is not ${range(s)}; it sets ${s.purpose}`, `Set ${name} to ${range(s)}, or unset it for the default (${s.default}).`);
}

/** The setting's value; throws SettingError on a bad value. */
export function numericSetting(name: NumericSettingName, env: NodeJS.ProcessEnv = process.env): number {
  const v = check(name, env[name]);
  if (v instanceof SettingError) throw v;
  return v;
}

/** Every bad numeric or choice setting in this environment (empty when all are fine). */
export function settingProblems(env: NodeJS.ProcessEnv = process.env): SettingError[] {
  const out: SettingError[] = [];
  for (const name of Object.keys(NUMERIC_SETTINGS) as NumericSettingName[]) {
    const v = check(name, env[name]);
    if (v instanceof SettingError) out.push(v);
  }
  for (const [name, s] of Object.entries(CHOICE_SETTINGS)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "" || s.choices.includes(raw.trim().toLowerCase())) continue;
    const shown = raw.length > 40 ? `${raw.slice(0, 40)}…` : raw;
    out.push(new SettingError(name, `"${shown}" is not one of ${s.choices.join(", ")}; it sets ${s.purpose}`, `Set ${name} to one of ${s.choices.join(", ")}, or unset it for the default (${s.default}).`));
  }
  return out;
}

/** Throws one INVALID_SETTING error listing every bad setting, for a command's start-up. */
export function assertSettings(env: NodeJS.ProcessEnv = process.env): void {
  const bad = settingProblems(env);
  if (bad.length === 0) return;
  if (bad.length === 1) throw bad[0]!;
  throw new MegaraptorError("INVALID_SETTING", `${bad.length} settings are not valid:\n${bad.map((e) => `  ${e.message}`).join("\n")}`, {
    hint: bad.map((e) => e.hint).join("\n"),
    details: { variables: bad.map((e) => e.variable) },
  });
}
