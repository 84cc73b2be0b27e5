/**
 * Where deployment state lives: a Pulumi backend (default a local file backend under ~/.megaraptor/pulumi, any URL via
 * MEGARAPTOR_PULUMI_BACKEND), one work folder per deployment holding its stack config (settings, status, previous
 * settings: what Megaraptor knows about it), and the passphrase that encrypts its secrets (PULUMI_CONFIG_PASSPHRASE,
 * or one generated on first use and kept 0600 in ~/.megaraptor/pulumi-passphrase).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { megaraptorHome, safeName } from "../../core/paths.js";
import { DEPLOYMENT_ID, DEPLOYMENT_ID_FORM } from "../request/base.js";
import { ensureFolder, writeFileAtomic, type WriteError } from "../../core/write.js";

export function backendUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MEGARAPTOR_PULUMI_BACKEND) return env.MEGARAPTOR_PULUMI_BACKEND;
  const dir = ensureFolder(join(megaraptorHome(), "pulumi"), { what: "Pulumi state folder", redirect: "MEGARAPTOR_PULUMI_BACKEND or MEGARAPTOR_HOME" });
  return `file://${dir}`;
}

/**
 * The persistent work folder of a deployment's stack (`id`), or of the listing workspace (no id). With a file
 * backend it sits beside the state (`<backend>/workspaces/<id>`), so moving or backing up the backend folder keeps
 * the metadata with it; with any other backend it is under ~/.megaraptor/workspaces.
 */
export function workspaceDir(id: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const url = backendUrl(env);
  const base = url.startsWith("file://") ? url.slice("file://".length).replace(/^~(?=\/|$)/, homedir()) : megaraptorHome();
  // The id becomes a folder name: checked here too, so no caller can make Pulumi's work folder climb out of the backend.
  if (id !== undefined) safeName("deployment_id", id, DEPLOYMENT_ID, DEPLOYMENT_ID_FORM);
  return ensureFolder(join(base, "workspaces", id ?? "_all"), { what: "deployment work folder", redirect: "MEGARAPTOR_PULUMI_BACKEND or MEGARAPTOR_HOME" });
}

/**
 * Where `pulumi-resource-pulumi-nodejs` is: the host that runs dynamic providers (PKI, SSH install) ships in
 * @pulumi/pulumi, and the CLI finds it on PATH when its own folder has none (a CLI built from Go modules).
 */
function dynamicProviderHostDir(): string {
  return dirname(createRequire(import.meta.url).resolve("@pulumi/pulumi/package.json"));
}

export function passphrase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PULUMI_CONFIG_PASSPHRASE) return env.PULUMI_CONFIG_PASSPHRASE;
  const path = join(megaraptorHome(), "pulumi-passphrase");
  if (!existsSync(path)) {
    // All or nothing: a passphrase file cut short by a full disk would lock every stack's secrets behind a wrong key.
    ensureFolder(megaraptorHome(), { what: "Megaraptor home", redirect: "MEGARAPTOR_HOME (or set PULUMI_CONFIG_PASSPHRASE)" });
    try {
      writeFileAtomic(path, randomBytes(32).toString("base64url"), { what: "Pulumi passphrase", redirect: "MEGARAPTOR_HOME (or set PULUMI_CONFIG_PASSPHRASE)", mode: 0o600, exclusive: true });
    } catch (err) {
      if ((err as WriteError).errno !== "EEXIST") throw err;
    }
  }
  chmodSync(path, 0o600);
  return readFileSync(path, "utf8").trim();
}

/** Environment for every Pulumi operation: offline-friendly, non-interactive, the passphrase, no update checks. */
export function pulumiEnv(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  // The Automation API adds these to its own process's environment: PULUMI_* settings of `env` (PULUMI_HOME,
  // PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, …) must reach the CLI even when `env` is not process.env.
  const pulumiSettings = Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[0].startsWith("PULUMI_") && typeof e[1] === "string"));
  return {
    ...pulumiSettings,
    PULUMI_CONFIG_PASSPHRASE: passphrase(env),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    PATH: [env.PATH ?? "", dynamicProviderHostDir()].filter(Boolean).join(delimiter),
  };
}
