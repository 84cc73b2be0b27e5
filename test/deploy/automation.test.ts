/** The real Automation API engine: needs the Pulumi CLI, which these machines do not have — detect and say so. */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PulumiEngine } from "../../deploy/automation/pulumi-engine.js";

function hasPulumi(): boolean {
  try {
    execFileSync("pulumi", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const cli = hasPulumi();
if (!cli) console.warn("skipping the Automation API lifecycle test: the Pulumi CLI is not on PATH (install: curl -fsSL https://get.pulumi.com | sh)");

describe("PulumiEngine", () => {
  it.skipIf(cli)("without the CLI, says so and how to install it", async () => {
    const err = await new PulumiEngine().list().catch((e) => e);
    expect(err.code).toBe("PULUMI_CLI_MISSING");
    expect(err.hint).toContain("get.pulumi.com");
  });

  it.skipIf(!cli)("with the CLI: preview, up, list from a fresh engine, destroy (docker target, temp file backend)", async () => {
    const { mkdtempSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "mr-pulumi-"));
    const env = { ...process.env, MEGARAPTOR_PULUMI_BACKEND: `file://${dir}`, PULUMI_CONFIG_PASSPHRASE: "test" };
    const { parseDeploymentSettings } = await import("../../deploy/request/index.js");
    const settings = parseDeploymentSettings({ target: "docker", profile: "minimal", deployment_id: "ci-docker", hostname: "localhost" });
    const engine = new PulumiEngine(env);
    const preview = await engine.preview(settings, {});
    expect(Object.keys(preview.changes).length).toBeGreaterThan(0);
    await engine.up(settings, {});
    expect((await new PulumiEngine(env).list()).map((r) => r.id)).toContain("ci-docker");
    expect((await engine.destroy("ci-docker")).status).toBe("destroyed");
  }, 600_000);
});
