/**
 * The target-independent fields of a deployment, and the small types every target's settings reuse. One name per
 * field, end to end: the deploy tools' arguments, the `megaraptor deploy` flags, the stored settings and the Pulumi
 * stack config (`megaraptor:<field>`) all use these names. The composed schema is in ./index.ts.
 */
import { z } from "zod";
import { VELOCIRAPTOR_ROLES } from "../../components/common/users.js";
import { PROFILE_NAMES } from "../../profiles/schema.js";

/**
 * The one default profile, whichever path a deployment comes from (tool, CLI, template, Pulumi stack): the README
 * documents it.
 */
export const DEFAULT_PROFILE = "standard" satisfies (typeof PROFILE_NAMES)[number];

export const Cidr = z.string().regex(/^[0-9a-fA-F.:]+\/\d{1,3}$/, { message: "expected a CIDR such as 198.51.100.0/24" });
export const Sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, { message: "expected the SHA-256 (64 hex characters) of the Velociraptor binary" });
/** A download the target host fetches itself; it is checked against binary_sha256 before it runs. */
export const BinaryUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), { message: "expected an http(s) URL" })
  .describe("http(s) URL of the Velociraptor binary, checked against binary_sha256 (default: the GitHub release of the version)");

/** A deployment id names a stack, its resources and its folders: one path component, never '/', '\\' or "..". */
export const DEPLOYMENT_ID = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;
export const DEPLOYMENT_ID_FORM = "3–40 lowercase letters, digits or '-', starting with a letter";
/** The tool-input form of a deployment id: refused before any tool code runs, the message naming the field. */
export const DeploymentId = z.string().regex(DEPLOYMENT_ID, { message: `expected a deployment id: ${DEPLOYMENT_ID_FORM} (see list_deployments)` }).describe("deployment id (list_deployments)");

const User = z.object({ name: z.string(), roles: z.array(z.enum(VELOCIRAPTOR_ROLES)).min(1) }).strict();

/** Fields every deployment has, whatever its target. */
export const BaseShape = {
  deployment_id: z.string().regex(DEPLOYMENT_ID, { message: DEPLOYMENT_ID_FORM }).describe(`${DEPLOYMENT_ID_FORM}; names the stack and resources`),
  profile: z.enum(PROFILE_NAMES).default(DEFAULT_PROFILE).describe(`minimal | rapid | standard | enterprise (default ${DEFAULT_PROFILE})`),
  hostname: z.string().min(1).describe("name clients and analysts use to reach the server"),
  overrides: z.record(z.string(), z.unknown()).default({}).describe("profile field overrides, e.g. {resources: {memoryMb: 4096}, ports: {gui: 9889}}"),
  version: z.string().optional().describe("Velociraptor version (default: the pinned one)"),
  case_id: z.string().optional().describe("case the deployment serves; tags every resource and links it to the case's report"),
  owner: z.string().optional(),
  description: z.string().optional(),
  tags: z.record(z.string(), z.string()).default({}),
  api_users: z.array(User).optional().describe("API users (certificate, no password); default megaraptor with api,investigator"),
  gui_users: z.array(User).optional().describe("GUI users created with a generated password (output guiPasswords); default admin with administrator"),
  certificate_rotation: z.number().int().min(0).default(0).describe("increment to re-issue the server, gateway and API certificates under the same CA"),
  ca_rotation: z.number().int().min(0).default(0).describe("increment to make a new CA and client nonce: every enrolled client needs the new client config"),
};

export const BaseSettingsSchema = z.object(BaseShape).strict();
/** What every target sees of a deployment besides its own section. */
export type BaseSettings = z.infer<typeof BaseSettingsSchema>;
