/**
 * The real Pulumi engine (built by scripts/engines.sh) runs `up` and `destroy` through the Node Automation API with
 * an inline program, a file backend and a passphrase, offline. Skips with the script's reason when a binary is missing.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation/index.js";
import { local } from "@pulumi/command";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { componentMissing, locateEngine } from "../helpers/engine.js";

const engine = locateEngine();
const cliMissing = componentMissing(engine, "pulumi");
const commandMissing = componentMissing(engine, "pulumi-resource-command");
if (cliMissing) console.warn(`skipping the real-engine smoke tests: ${cliMissing}`);
else if (commandMissing) console.warn(`skipping the @pulumi/command smoke test: ${commandMissing}`);

interface FileInputs {
  path: string;
  content: string;
}

/** A dynamic provider with a visible side effect: create writes a file, delete removes it. */
const fileProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: FileInputs) {
    // Loaded at run time by a native import: the provider is serialised as source and runs in the engine's
    // dynamic-provider host, where the test runner's module helpers do not exist.
    const fs = (await new Function("m", "return import(m)")("node:fs")) as typeof import("node:fs");
    fs.writeFileSync(inputs.path, inputs.content);
    return { id: inputs.path, outs: { ...inputs, bytes: fs.statSync(inputs.path).size } };
  },
  async delete(id: string) {
    const fs = (await new Function("m", "return import(m)")("node:fs")) as typeof import("node:fs");
    fs.rmSync(id, { force: true });
  },
};

class TestFile extends pulumi.dynamic.Resource {
  declare readonly bytes: pulumi.Output<number>;
  constructor(name: string, args: { path: string; content: string }) {
    super(fileProvider, name, { ...args, bytes: undefined }, {}, "smokeFile");
  }
}

describe.skipIf(!!cliMissing)(`real Pulumi engine${cliMissing ? ` (skipped: ${cliMissing})` : ""}`, () => {
  let dir: string;
  let env: Record<string, string>;
  let pulumiCommand: PulumiCommand;

  beforeAll(async () => {
    if (!engine.ok) throw new Error("unreachable: the suite is skipped without an engine");
    dir = mkdtempSync(join(tmpdir(), "mr-engine-smoke-"));
    env = {
      ...engine.env,
      PULUMI_BACKEND_URL: `file://${join(dir, "state")}`,
      PULUMI_CONFIG_PASSPHRASE: "smoke-test-passphrase",
      // The dynamic-provider host resolves @pulumi/pulumi from its working directory, the workspace's temporary
      // folder here; NODE_PATH points it at this project's copy (the deploy layer must solve the same, issue 15).
      NODE_PATH: dirname(dirname(dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json")))),
    };
    mkdirSync(join(dir, "state"));
    // No skipVersionCheck: the CLI must say the version it was stamped with, as the Automation API requires.
    pulumiCommand = await PulumiCommand.get({ root: engine.root });
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function stack(name: string, program: () => Promise<Record<string, unknown>>): Promise<Stack> {
    return LocalWorkspace.createOrSelectStack(
      { stackName: name, projectName: "megaraptor-engine-smoke", program },
      { pulumiCommand, envVars: env, workDir: mkdtempSync(join(dir, "work-")), secretsProvider: "passphrase" },
    );
  }

  it("says the version it was built as", () => {
    expect(pulumiCommand.version?.format()).toBe(engine.ok ? engine.status.components.pulumi.version : "");
  });

  it("up creates a dynamic resource, outputs read back, destroy removes it", async () => {
    const file = join(dir, "dynamic.txt");
    const s = await stack("dynamic", async () => {
      const f = new TestFile("file", { path: file, content: "written by a dynamic provider" });
      return { path: f.id, bytes: f.bytes };
    });
    const up = await s.up();
    expect(up.summary.result).toBe("succeeded");
    expect(readFileSync(file, "utf8")).toBe("written by a dynamic provider");
    expect(up.outputs.path.value).toBe(file);
    expect((await s.outputs()).bytes.value).toBe("written by a dynamic provider".length);

    const down = await s.destroy();
    expect(down.summary.result).toBe("succeeded");
    expect(existsSync(file)).toBe(false);
    expect(Object.keys(await s.outputs())).toEqual([]);
    // Nothing was fetched into the plugin cache behind our back.
    expect(readdirSync(join(env.PULUMI_HOME, "plugins")).filter((p) => !p.startsWith("resource-command-"))).toEqual([]);
  }, 300_000);

  it.skipIf(!!commandMissing)(`up runs a @pulumi/command local.Command, destroy runs its delete${commandMissing ? ` (skipped: ${commandMissing})` : ""}`, async () => {
    const file = join(dir, "command.txt");
    const s = await stack("command", async () => {
      const cmd = new local.Command("write", {
        create: `printf '%s' written-by-command > '${file}' && cat '${file}'`,
        delete: `rm -f '${file}'`,
      });
      return { stdout: cmd.stdout };
    });
    const up = await s.up();
    expect(up.summary.result).toBe("succeeded");
    expect(readFileSync(file, "utf8")).toBe("written-by-command");
    expect(up.outputs.stdout.value).toBe("written-by-command");

    const down = await s.destroy();
    expect(down.summary.result).toBe("succeeded");
    expect(existsSync(file)).toBe(false);
  }, 300_000);
});
