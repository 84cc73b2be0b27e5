/**
 * Where deployment state lives: a Pulumi backend (default a local file backend under ~/.megaraptor/pulumi, any URL via
 * MEGARAPTOR_PULUMI_BACKEND) and the passphrase that encrypts its secrets (PULUMI_CONFIG_PASSPHRASE, or one generated
 * on first use and kept 0600 in ~/.megaraptor/pulumi-passphrase).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { megaraptorHome } from "../../core/paths.js";
import { ensureFolder, writeFileAtomic, type WriteError } from "../../core/write.js";

export function backendUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MEGARAPTOR_PULUMI_BACKEND) return env.MEGARAPTOR_PULUMI_BACKEND;
  const dir = ensureFolder(join(megaraptorHome(), "pulumi"), { what: "Pulumi state folder", redirect: "MEGARAPTOR_PULUMI_BACKEND or MEGARAPTOR_HOME" });
  return `file://${dir}`;
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
  return {
    PULUMI_CONFIG_PASSPHRASE: passphrase(env),
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_SKIP_CONFIRMATIONS: "true",
    PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
  };
}
