/** Credential tools: the encrypted store deploy tools take aliases from, and a deployment's server and API credentials. */
import { z } from "zod";
import { DeploymentId } from "../../../deploy/request/base.js";
import { VELOCIRAPTOR_ROLES } from "../../../components/common/users.js";
import { InputError } from "../../../core/errors.js";
import { CredentialKind, CredentialStore } from "../../../deploy/credentials/index.js";
import { writeApiClient, writeServerConfig } from "../../../deploy/operations/files.js";
import { addApiUser } from "../../../deploy/operations/lifecycle.js";
import { defineTool } from "../define.js";
import { hooksOf, Summary } from "./common.js";

export const storeCredential = defineTool({
  name: "store_credential",
  title: "Store a credential",
  description: "Keep an SSH key, password or token encrypted at rest (AES-256-GCM, scrypt-derived key, file 0600) under an alias; deploy tools take the alias. The secret is never shown again.",
  input: z.object({ alias: z.string(), kind: CredentialKind, secret: z.string().min(1), description: z.string().default("") }),
  output: z.object({ alias: z.string(), kind: z.string() }),
  preset: "local-write",
  async handler(a) {
    new CredentialStore().store(a.alias, a.kind, a.secret, a.description);
    return { structured: { alias: a.alias, kind: a.kind }, text: `Stored ${a.kind} as "${a.alias}".` };
  },
});

export const listCredentials = defineTool({
  name: "list_credentials",
  title: "List stored credentials",
  description: "Aliases, kinds and descriptions of stored credentials — never the secrets.",
  input: z.object({}),
  output: z.object({ credentials: z.array(Summary) }),
  preset: "read",
  async handler() {
    const c = new CredentialStore().list();
    return { structured: { credentials: c }, text: c.map((x) => `${x.alias} (${x.kind}) ${x.description}`).join("\n") || "No credentials." };
  },
});

export const deleteCredential = defineTool({
  name: "delete_credential",
  title: "Delete a stored credential",
  description: "Remove a stored credential by alias. Returns a plan and confirm_token first (the secret cannot be recovered).",
  input: z.object({ alias: z.string() }),
  output: z.object({ alias: z.string(), deleted: z.boolean() }),
  preset: "local-delete",
  async plan(a) {
    if (!new CredentialStore().list().some((c) => c.alias === a.alias)) throw new InputError("alias", `no credential named "${a.alias}"`, "List them with list_credentials.");
    return { summary: `Delete the stored credential "${a.alias}" (it cannot be recovered)`, details: { alias: a.alias } };
  },
  async handler(a) {
    const deleted = new CredentialStore().delete(a.alias);
    if (!deleted) throw new InputError("alias", `no credential named "${a.alias}"`, "List them with list_credentials.");
    return { structured: { alias: a.alias, deleted }, text: `Deleted ${a.alias}.` };
  },
});

export const generateServerConfig = defineTool({
  name: "generate_server_config",
  title: "Write the server config to a file",
  description: "Write a deployment's server.config.yaml (YAML or JSON) to its private folder (0600). It holds the CA and server keys: the content is never returned, only the path.",
  input: z.object({ deployment_id: DeploymentId, output_format: z.enum(["yaml", "json"]).default("yaml") }),
  output: z.object({ path: z.string() }),
  preset: "local-write",
  async handler(a) {
    const path = await writeServerConfig(a.deployment_id, a.output_format);
    return { structured: { path }, text: `Server config written to ${path} (0600; it contains private keys).` };
  },
});

export const generateApiCredentials = defineTool({
  name: "generate_api_credentials",
  title: "Issue API credentials",
  description: "Add an API user (certificate signed by the deployment's CA) by re-applying the deployment, then write its api_client.yaml (0600) to the deployment folder. The deployment creates the user with its roles on the server before the server's next start (SSH and Docker restart it on the change). The acl grant command is returned for servers Megaraptor does not manage.",
  input: z.object({ deployment_id: DeploymentId, client_name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/).default("megaraptor_api"), roles: z.array(z.enum(VELOCIRAPTOR_ROLES)).min(1).default(["api", "investigator"]), ssh_credential: z.string().optional() }),
  output: z.object({ path: z.string(), grant_command: z.string() }),
  preset: "deploy",
  async handler(a, ctx) {
    const yaml = await addApiUser(a.deployment_id, { name: a.client_name, roles: a.roles }, { sshCredential: a.ssh_credential }, hooksOf(ctx));
    const path = writeApiClient(a.deployment_id, a.client_name, yaml);
    const grant = `velociraptor --config server.config.yaml acl grant ${a.client_name} --role ${a.roles.join(",")}`;
    return { structured: { path, grant_command: grant }, text: `api_client.yaml for ${a.client_name}: ${path}\nThe deployment creates ${a.client_name} with roles ${a.roles.join(",")} before the server starts (components/common/users.ts). A server not managed by Megaraptor needs: ${grant}` };
  },
});
