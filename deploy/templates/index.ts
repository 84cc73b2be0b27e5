/** Deployment templates: named, shareable YAML files of deployment settings (never secrets). */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { ensureFolder, writeFileAtomic } from "../../core/write.js";
import { megaraptorHome, safeName } from "../../core/paths.js";
import { DEFAULT_PROFILE, snakeKeys, type DeploymentSettings } from "../request/index.js";

export function templatesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.MEGARAPTOR_TEMPLATES_DIR ?? join(megaraptorHome(), "templates", "deployments");
}

const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** A template file: settings without the deployment id (older files may spell fields in camelCase). */
const TemplateFile = z.object({
  name: z.string(),
  description: z.string().optional(),
  settings: z.preprocess(snakeKeys, z.object({ target: z.string(), profile: z.string().optional() }).catchall(z.unknown())),
});

export function saveTemplate(name: string, settings: DeploymentSettings, description = "", dir = templatesDir()): string {
  if (!NAME.test(name)) throw new InputError("template_name", "use lowercase letters, digits and -", "e.g. ir-docker-rapid");
  ensureFolder(dir, { what: "template folder", redirect: "MEGARAPTOR_TEMPLATES_DIR", mode: 0o755 });
  // The deployment id is per deployment; everything else is what a template shares.
  const { deployment_id: _id, ...shared } = settings;
  const path = join(dir, `${name}.yaml`);
  writeFileAtomic(path, `# Megaraptor deployment template: ${description || name}\n${stringify({ name, description, settings: shared })}`, { what: "deployment template", redirect: "MEGARAPTOR_TEMPLATES_DIR", mode: 0o644 });
  return path;
}

function readTemplate(path: string, name: string) {
  const r = TemplateFile.safeParse(parse(readFileSync(path, "utf8")));
  if (!r.success) throw new InputError("template", `${path} is not a deployment template (${r.error.issues[0]?.path.join(".")}: ${r.error.issues[0]?.message})`, `Save it again with save_deployment_template, or delete ${name}.yaml.`);
  return r.data;
}

export function listTemplates(dir = templatesDir()): { name: string; description: string; target: string; profile: string; path: string }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => {
      const doc = readTemplate(join(dir, f), f.replace(/\.yaml$/, ""));
      return { name: doc.name, description: doc.description ?? "", target: doc.settings.target, profile: doc.settings.profile ?? DEFAULT_PROFILE, path: join(dir, f) };
    });
}

/** A template's settings, for a request to put its own fields on top (deploy/request settingsOf). */
export function templateSettings(name: string, dir = templatesDir()): Record<string, unknown> {
  // The name becomes a file name: a `../…` name would read any YAML file on the machine as settings.
  safeName("template", name, NAME, "a saved template's name: lowercase letters, digits and - (list_deployment_templates)");
  const path = join(dir, `${name}.yaml`);
  if (!existsSync(path)) throw new InputError("template", `no template named "${name}"`, "List them with list_deployment_templates.");
  return readTemplate(path, name).settings;
}
