/** How the engine suite finds what scripts/engines.sh built, and the reason it prints when something is missing. */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { componentMissing, enginesDir, locateEngine } from "../helpers/engine.js";

const made: string[] = [];
afterEach(() => made.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

function cache(): { env: NodeJS.ProcessEnv; engines: string } {
  const root = mkdtempSync(join(tmpdir(), "mr-engines-"));
  made.push(root);
  const env = { MEGARAPTOR_CACHE: root, PATH: "/usr/bin" };
  mkdirSync(enginesDir(env), { recursive: true });
  return { env, engines: enginesDir(env) };
}

/** The status file as scripts/engines.sh writes it when the CLI built and the command provider could not be had. */
function writeStatus(engines: string, cliPath: string): void {
  const status = {
    cliRoot: join(engines, "pulumi-3.248.0"),
    pulumiHome: join(engines, "pulumi-home"),
    components: {
      pulumi: { ok: true, version: "3.248.0", path: cliPath },
      "pulumi-resource-command": { ok: false, version: "1.2.1", reason: "the Go module proxy does not serve it" },
      "pulumi-language-nodejs": { ok: false, version: "3.248.0", reason: "not served either" },
    },
  };
  writeFileSync(join(engines, "status.json"), JSON.stringify(status));
}

describe("locateEngine", () => {
  it("says how to build the engine when the script never ran", () => {
    const { env } = cache();
    const r = locateEngine(env);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain("scripts/engines.sh");
  });

  it("passes on the script's reason when the CLI could not be built", () => {
    const { env, engines } = cache();
    writeFileSync(join(engines, "FAILED"), "no Go toolchain on PATH\n");
    const r = locateEngine(env);
    expect(!r.ok && r.reason).toContain("no Go toolchain on PATH");
  });

  it("refuses a status whose CLI binary is gone", () => {
    const { env, engines } = cache();
    writeStatus(engines, join(engines, "pulumi-3.248.0", "bin", "pulumi"));
    const r = locateEngine(env);
    expect(!r.ok && r.reason).toContain("is gone or not executable");
  });

  it("gives the CLI root, an offline environment, and each missing plugin's reason", () => {
    const { env, engines } = cache();
    const bin = join(engines, "pulumi-3.248.0", "bin");
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, "pulumi"), "#!/bin/sh\necho v3.248.0\n");
    chmodSync(join(bin, "pulumi"), 0o755);
    writeStatus(engines, join(bin, "pulumi"));

    const r = locateEngine(env);
    if (!r.ok) throw new Error(r.reason);
    expect(r.root).toBe(join(engines, "pulumi-3.248.0"));
    expect(r.env.PATH.split(":")[0]).toBe(bin);
    expect(r.env.PATH.split(":")[1]).toMatch(/node_modules\/@pulumi\/pulumi$/);
    expect(r.env).toMatchObject({ PULUMI_HOME: join(engines, "pulumi-home"), PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true", PULUMI_SKIP_UPDATE_CHECK: "true" });
    expect(componentMissing(r, "pulumi")).toBeUndefined();
    expect(componentMissing(r, "pulumi-resource-command")).toBe("pulumi-resource-command 1.2.1 is missing: the Go module proxy does not serve it");
  });
});
