/** Template and runbook tools: share a deployment's settings as a named template, describe a deployment on paper. */
import { z } from "zod";
import { DeploymentId } from "../../../deploy/request/base.js";
import { writeRunbook } from "../../../deploy/operations/files.js";
import { requireDeployment } from "../../../deploy/operations/index.js";
import { listTemplates, saveTemplate } from "../../../deploy/templates/index.js";
import { defineTool } from "../define.js";
import { Summary } from "./common.js";

export const saveDeploymentTemplate = defineTool({
  name: "save_deployment_template",
  title: "Save a deployment as a template",
  description: "Save a deployment's settings (no secrets, no id) as a named YAML template that others can reuse with deploy_server template=….",
  input: z.object({ deployment_id: DeploymentId, template_name: z.string(), description: z.string().default("") }),
  output: z.object({ path: z.string() }),
  preset: "local-write",
  async handler(a) {
    const r = await requireDeployment(a.deployment_id);
    const path = saveTemplate(a.template_name, r.settings, a.description);
    return { structured: { path }, text: `Template ${a.template_name} saved to ${path}` };
  },
});

export const listDeploymentTemplates = defineTool({
  name: "list_deployment_templates",
  title: "List deployment templates",
  description: "Saved deployment templates (name, target, profile, description).",
  input: z.object({}),
  output: z.object({ templates: z.array(Summary) }),
  preset: "read",
  async handler() {
    const t = listTemplates();
    return { structured: { templates: t }, text: t.map((x) => `${x.name}: ${x.target}/${x.profile} ${x.description}`).join("\n") || "No templates." };
  },
});

export const exportDeploymentDocs = defineTool({
  name: "export_deployment_docs",
  title: "Deployment runbook",
  description: "Write a Markdown runbook of a deployment into its folder (~/.megaraptor/deployments/<id>/): what it is, where it runs, how to reach it, how to enrol agents, check health, rotate certificates and destroy it.",
  input: z.object({ deployment_id: DeploymentId, output_path: z.string().min(1).max(1024).optional().describe("file name inside the deployment's folder (default RUNBOOK.md); paths outside it are refused") }),
  output: z.object({ path: z.string() }),
  preset: "local-write",
  async handler(a) {
    const path = await writeRunbook(a.deployment_id, a.output_path);
    return { structured: { path }, text: `Runbook written to ${path}` };
  },
});
