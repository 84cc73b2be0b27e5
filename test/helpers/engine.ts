/**
 * The real Pulumi engine built by scripts/engines.sh, or the reason it is not there. The script records what it built
 * (or why it could not) in engines/status.json, and in engines/FAILED why the CLI itself is missing; engines/env.sh
 * holds the same settings for a shell.
 */
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { z } from "zod";

const componentSchema = z.discriminatedUnion("ok", [
  z.object({ ok: z.literal(true), version: z.string(), path: z.string() }),
  z.object({ ok: z.literal(false), version: z.string(), reason: z.string() }),
]);

const statusSchema = z.object({
  cliRoot: z.string(),
  pulumiHome: z.string(),
  components: z.object({
    pulumi: componentSchema,
    "pulumi-resource-command": componentSchema,
    "pulumi-language-nodejs": componentSchema,
  }),
});

export type EngineStatus = z.infer<typeof statusSchema>;
export type EngineComponent = keyof EngineStatus["components"];

export type EngineLookup =
  | {
      ok: true;
      /** For PulumiCommand.get({ root }): the CLI is <root>/bin/pulumi. */
      root: string;
      /** Environment for every Pulumi command (LocalWorkspace envVars). */
      env: Record<string, string>;
      status: EngineStatus;
    }
  | { ok: false; reason: string };

export function enginesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.MEGARAPTOR_CACHE ?? join(homedir(), ".cache", "megaraptor"), "engines");
}

const HOW = "run `bash scripts/engines.sh` (it builds the engine from Go modules, minutes the first time)";

/** Reads what scripts/engines.sh left; ok only when the CLI is there and says the version it was built as. */
export function locateEngine(env: NodeJS.ProcessEnv = process.env): EngineLookup {
  const dir = enginesDir(env);
  const failed = join(dir, "FAILED");
  if (existsSync(failed)) return { ok: false, reason: `no Pulumi engine: ${readFileSync(failed, "utf8").trim()} (from ${failed})` };
  const statusFile = join(dir, "status.json");
  if (!existsSync(statusFile)) return { ok: false, reason: `no Pulumi engine: ${statusFile} does not exist; ${HOW}` };
  const parsed = statusSchema.safeParse(JSON.parse(readFileSync(statusFile, "utf8")));
  if (!parsed.success) return { ok: false, reason: `no Pulumi engine: ${statusFile} is not what scripts/engines.sh writes (${parsed.error.message}); ${HOW}` };
  const status = parsed.data;
  const cli = status.components.pulumi;
  if (!cli.ok) return { ok: false, reason: `no Pulumi engine: ${cli.reason}` };
  try {
    accessSync(cli.path, constants.X_OK);
  } catch {
    return { ok: false, reason: `no Pulumi engine: ${cli.path} is gone or not executable; ${HOW}` };
  }
  // Dynamic providers (the PKI provider) run through pulumi-resource-pulumi-nodejs, which ships in @pulumi/pulumi
  // rather than with the CLI; the CLI takes it from PATH (GetPluginPath in sdk/go/common/workspace/plugins.go).
  const sdkDir = dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));
  return {
    ok: true,
    root: status.cliRoot,
    status,
    env: {
      PATH: [join(status.cliRoot, "bin"), sdkDir, env.PATH ?? ""].join(delimiter),
      PULUMI_HOME: status.pulumiHome,
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_SKIP_UPDATE_CHECK: "true",
    },
  };
}

/** Why a plugin the engine suite needs is missing, or undefined when it is installed. */
export function componentMissing(lookup: EngineLookup, name: EngineComponent): string | undefined {
  if (!lookup.ok) return lookup.reason;
  const c = lookup.status.components[name];
  return c.ok ? undefined : `${name} ${c.version} is missing: ${c.reason}`;
}
