/**
 * Where deployment state lives: a Pulumi backend (default a local file backend under ~/.megaraptor/pulumi, any URL via
 * MEGARAPTOR_PULUMI_BACKEND) and the passphrase that encrypts its secrets (PULUMI_CONFIG_PASSPHRASE, or one generated
 * on first use and kept 0600 in ~/.megaraptor/pulumi-passphrase).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { megaraptorHome } from "../../core/paths.js";

export function backendUrl(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MEGARAPTOR_PULUMI_BACKEND) return env.MEGARAPTOR_PULUMI_BACKEND;
  const dir = join(megaraptorHome(), "pulumi");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return `file://${dir}`;
}

export function passphrase(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PULUMI_CONFIG_PASSPHRASE) return env.PULUMI_CONFIG_PASSPHRASE;
  const path = join(megaraptorHome(), "pulumi-passphrase");
  if (!existsSync(path)) {
    mkdirSync(megaraptorHome(), { recursive: true, mode: 0o700 });
    writeFileSync(path, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
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
