/**
 * Numeric MEGARAPTOR_* settings: a bad value is refused with the variable named, never replaced by the default or passed
 * on as NaN. The attacks are the values that slip through `Number(…)`: a NaN cap compares false against everything
 * (a hunt cap or a token expiry would quietly stop applying), "0x10" and "1e3" are numbers to Number but not what a
 * reader of the environment sees.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assertSettings, CHOICE_SETTINGS, NUMERIC_SETTINGS, numericSetting, settingProblems, SettingError, type NumericSettingName } from "../../core/settings.js";
import { packageRoot } from "../../core/paths.js";
import { timelineCacheConfig } from "../../dfir/analysis/timeline/cache.js";
import { ConfirmationService } from "../../mcp/safety/confirm.js";
import { healthTimeoutSeconds } from "../../deploy/health/index.js";
import { CLI_MAIN, CLI_NOT_BUILT, cliTitle } from "../helpers/cli.js";

const NAMES = Object.keys(NUMERIC_SETTINGS) as NumericSettingName[];

function refusal(name: NumericSettingName, value: string): SettingError {
  try {
    numericSetting(name, { [name]: value });
  } catch (e) {
    expect(e).toBeInstanceOf(SettingError);
    return e as SettingError;
  }
  throw new Error(`${name}=${JSON.stringify(value)} was accepted`);
}

describe("numeric settings", () => {
  it("unset or empty is the default; a plain decimal in range is taken", () => {
    for (const name of NAMES) {
      const s = NUMERIC_SETTINGS[name];
      expect(numericSetting(name, {})).toBe(s.default);
      expect(numericSetting(name, { [name]: "  " })).toBe(s.default);
      expect(numericSetting(name, { [name]: ` ${s.min} ` })).toBe(s.min);
    }
    expect(numericSetting("MEGARAPTOR_CONNECT_TIMEOUT_SECONDS", { MEGARAPTOR_CONNECT_TIMEOUT_SECONDS: "2.5" })).toBe(2.5);
  });

  it("refuses what Number() would let through, naming the variable, the value, the range and the default", () => {
    for (const bad of ["abc", "10s", "0x10", "1e3", "NaN", "Infinity", "-Infinity", "5,000", "--1"]) {
      const e = refusal("MEGARAPTOR_MAX_HUNT_CLIENTS", bad);
      expect(e.code).toBe("INVALID_SETTING");
      expect(e.variable).toBe("MEGARAPTOR_MAX_HUNT_CLIENTS");
      expect(e.message).toContain(`"${bad}" is not a whole number ≥ 1 (clients)`);
      expect(e.hint).toContain("unset it for the default (500)");
    }
  });

  it("refuses values below the minimum, above the maximum, and fractions where a whole number is needed", () => {
    for (const name of NAMES) {
      const s: { min: number; max?: number; integer?: boolean } = NUMERIC_SETTINGS[name];
      expect(() => numericSetting(name, { [name]: String(s.min - 1) }), `${name} below min`).toThrow(SettingError);
      if (s.max !== undefined) expect(() => numericSetting(name, { [name]: String(s.max! + 1) }), `${name} above max`).toThrow(SettingError);
      if (s.integer) expect(() => numericSetting(name, { [name]: `${s.min}.5` }), `${name} fraction`).toThrow(SettingError);
    }
  });

  it("lists every bad setting at once", () => {
    expect(settingProblems({})).toEqual([]);
    const env = { MEGARAPTOR_CONFIRM_TTL_SECONDS: "5m", MEGARAPTOR_MAX_RESULT_BYTES: "64k", MEGARAPTOR_TRIAGE_RECENT_DAYS: "14" };
    expect(settingProblems(env).map((e) => e.variable)).toEqual(["MEGARAPTOR_CONFIRM_TTL_SECONDS", "MEGARAPTOR_MAX_RESULT_BYTES"]);
    expect(() => assertSettings(env)).toThrow(/2 settings are not valid:\n {2}MEGARAPTOR_CONFIRM_TTL_SECONDS: "5m".*\n {2}MEGARAPTOR_MAX_RESULT_BYTES: "64k"/);
  });

  it("MEGARAPTOR_LOG_LEVEL must be a level (any case); a typo is listed with the others", () => {
    for (const ok of ["debug", "INFO", " warn ", "Error", ""]) expect(settingProblems({ MEGARAPTOR_LOG_LEVEL: ok }), ok).toEqual([]);
    const [e] = settingProblems({ MEGARAPTOR_LOG_LEVEL: "verbose" });
    expect(e?.code).toBe("INVALID_SETTING");
    expect(e?.message).toBe('MEGARAPTOR_LOG_LEVEL: "verbose" is not one of debug, info, warn, error; it sets how much the server logs to stderr');
    expect(e?.hint).toBe("Set MEGARAPTOR_LOG_LEVEL to one of debug, info, warn, error, or unset it for the default (info).");
  });

  it("a long value is shortened in the message", () => {
    expect(refusal("MEGARAPTOR_STACK_MAX_GROUPS", "9".repeat(30) + "x".repeat(100)).message).toContain("…\" is not");
  });

  it("docs/settings.md lists every setting with its default and range", () => {
    const doc = readFileSync(join(packageRoot(), "docs", "settings.md"), "utf8");
    for (const name of NAMES) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${name}\``));
      expect(row, name).toBeDefined();
      const s: { default: number; min: number; max?: number } = NUMERIC_SETTINGS[name];
      expect(row, name).toContain(`| ${s.default.toLocaleString("en-US")} |`);
      expect(row, name).toContain(`${s.min}`);
    }
    for (const [name, s] of Object.entries(CHOICE_SETTINGS)) {
      const row = doc.split("\n").find((l) => l.startsWith(`| \`${name}\``));
      expect(row, name).toContain(`| ${s.default} | ${s.choices.join(", ")} |`);
    }
  });
});

describe("the settings' consumers fail closed on a bad value", () => {
  it("confirm tokens: a TTL of NaN would never expire; the service refuses to start instead", () => {
    const before = process.env.MEGARAPTOR_CONFIRM_TTL_SECONDS;
    process.env.MEGARAPTOR_CONFIRM_TTL_SECONDS = "five";
    try {
      expect(() => new ConfirmationService()).toThrow(/MEGARAPTOR_CONFIRM_TTL_SECONDS: "five"/);
    } finally {
      if (before === undefined) delete process.env.MEGARAPTOR_CONFIRM_TTL_SECONDS;
      else process.env.MEGARAPTOR_CONFIRM_TTL_SECONDS = before;
    }
  });

  it("the timeline cache and the health wait no longer fall back to their defaults silently", () => {
    expect(() => timelineCacheConfig({ MEGARAPTOR_TIMELINE_CACHE_BYTES: "1GB" })).toThrow(/MEGARAPTOR_TIMELINE_CACHE_BYTES: "1GB"/);
    expect(() => timelineCacheConfig({ MEGARAPTOR_TIMELINE_CACHE_TTL_SECONDS: "-5" })).toThrow(SettingError);
    expect(timelineCacheConfig({ MEGARAPTOR_TIMELINE_CACHE_BYTES: "0" }).maxBytes).toBe(0);
    expect(() => healthTimeoutSeconds(undefined, { MEGARAPTOR_HEALTH_TIMEOUT: "0" })).toThrow(/MEGARAPTOR_HEALTH_TIMEOUT/);
    expect(healthTimeoutSeconds(7, { MEGARAPTOR_HEALTH_TIMEOUT: "0" })).toBe(7);
  });
});

describe.skipIf(CLI_NOT_BUILT)(cliTitle("the CLI checks settings before any command runs"), () => {
  it("`megaraptor mcp` with a bad hunt cap exits 2 before serving, naming the variable and the fix", () => {
    const home = mkdtempSync(join(tmpdir(), "mr-settings-"));
    const r = spawnSync(process.execPath, [CLI_MAIN, "mcp"], {
      env: { PATH: process.env.PATH ?? "", HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_MAX_HUNT_CLIENTS: "unlimited", MEGARAPTOR_CONNECT_TIMEOUT_SECONDS: "0" },
      input: "",
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('MEGARAPTOR_MAX_HUNT_CLIENTS: "unlimited" is not a whole number ≥ 1 (clients)');
    expect(r.stderr).toContain('MEGARAPTOR_CONNECT_TIMEOUT_SECONDS: "0" is not a number from 0.1 to 3600 (seconds)');
    expect(r.stderr).toContain("megaraptor: 2 settings are not valid:");
    expect(r.stderr).toContain("Set MEGARAPTOR_MAX_HUNT_CLIENTS to a whole number ≥ 1 (clients), or unset it for the default (500).");
  });
});
