/** Deployment templates: named, shareable YAML files of deployment settings (never secrets). */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { InputError } from "../../core/errors.js";
import { ensureFolder, writeFileAtomic } from "../../core/write.js";
import { megaraptorHome } from "../../core/paths.js";
import { DeploymentSettingsSchema, type DeploymentSettings } from "../program/settings.js";

export function templatesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEGARAPTOR_TEMPLATES_DIR ?? join(megaraptorHome(), "templates", "deployments");
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export function saveTemplate(name: string, settings: DeploymentSettings, description = "", dir = templatesDir()): string {
  if (!NAME.test(name)) throw new InputError("template_name", "use lowercase letters, digits and -", "e.g. ir-docker-rapid");
  ensureFolder(dir, { what: "template folder", redirect: "MEGARAPTOR_TEMPLATES_DIR", mode: 0o755 });
  // The deployment id and host name are per deployment; everything else is what a template shares.
  const { deploymentId: _id, ...shared } = settings;
  const path = join(dir, `${name}.yaml`);
  writeFileAtomic(path, `# Megaraptor deployment template: ${description || name}\n${stringify({ name, description, settings: shared })}`, { what: "deployment template", redirect: "MEGARAPTOR_TEMPLATES_DIR", mode: 0o644 });
  return path;
}

export function listTemplates(dir = templatesDir()): { name: string; description: string; target: string; profile: string; path: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => {
      const doc = parse(readFileSync(join(dir, f), "utf8")) as { name: string; description?: string; settings: { target: string; profile?: string } };
      return { name: doc.name, description: doc.description ?? "", target: doc.settings.target, profile: doc.settings.profile ?? "standard", path: join(dir, f) };
    });
}

export function settingsFromTemplate(name: string, overrides: Record<string, unknown>, dir = templatesDir()): DeploymentSettings {
  const path = join(dir, `${name}.yaml`);
  if (!existsSync(path)) throw new InputError("template", `no template named "${name}"`, "List them with list_deployment_templates.");
  const doc = parse(readFileSync(path, "utf8")) as { settings: Record<string, unknown> };
  const given = Object.fromEntries(Object.entries(overrides).filter(([, v]) => v !== undefined));
  const r = DeploymentSettingsSchema.safeParse({ ...doc.settings, ...given });
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new InputError(i.path.join(".") || "template", `${i.message} (template ${name})`, "Pass the missing field, e.g. deployment_id and hostname.");
  }
  return r.data;
}
