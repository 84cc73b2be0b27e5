/** A deployment's settings: what the stack program and the Automation API both feed buildDeployment. */
import { z } from "zod";
import { VELOCIRAPTOR_ROLES } from "../../components/common/users.js";
import { PROFILE_NAMES } from "../../profiles/schema.js";

const Cidr = z.string().regex(/^[0-9a-fA-F.:]+\/\d{1,3}$/, { message: "expected a CIDR such as 198.51.100.0/24" });
const Sha256 = z.string().regex(/^[0-9a-fA-F]{64}$/, { message: "expected the SHA-256 (64 hex characters) of the Velociraptor binary" });

/** A deployment id names a stack, its resources and its folders: one path component, never '/', '\\' or "..". */
export const DEPLOYMENT_ID = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;
export const DEPLOYMENT_ID_FORM = "3–40 lowercase letters, digits or '-', starting with a letter";
/** The tool-input form of a deployment id: refused before any tool code runs, the message naming the field. */
export const DeploymentId = z.string().regex(DEPLOYMENT_ID, { message: `expected a deployment id: ${DEPLOYMENT_ID_FORM} (see list_deployments)` }).describe("deployment id (list_deployments)");

export const TARGETS = ["docker", "ssh", "aws", "azure", "kubernetes"] as const;

export const DeploymentSettingsSchema = z
  .object({
    target: z.enum(TARGETS).describe("where to deploy"),
    profile: z.enum(PROFILE_NAMES).default("standard"),
    deploymentId: z.string().regex(DEPLOYMENT_ID, { message: DEPLOYMENT_ID_FORM }),
    hostname: z.string().min(1).describe("name clients and analysts use to reach the server"),
    overrides: z.record(z.string(), z.unknown()).default({}).describe("profile field overrides"),
    version: z.string().optional(),
    caseId: z.string().optional(),
    owner: z.string().optional(),
    description: z.string().optional(),
    tags: z.record(z.string(), z.string()).default({}),
    apiUsers: z.array(z.object({ name: z.string(), roles: z.array(z.enum(VELOCIRAPTOR_ROLES)).min(1) }).strict()).optional().describe("API users (certificate, no password); default megaraptor with api,investigator"),
    guiUsers: z.array(z.object({ name: z.string(), roles: z.array(z.enum(VELOCIRAPTOR_ROLES)).min(1) }).strict()).optional().describe("GUI users created with a generated password (output guiPasswords); default admin with administrator"),
    certificateRotation: z.number().int().min(0).default(0).describe("increment to re-issue the server, gateway and API certificates under the same CA"),
    caRotation: z.number().int().min(0).default(0).describe("increment to make a new CA and client nonce: every enrolled client needs the new client config"),
    docker: z.object({ image: z.string().optional(), networkIsolation: z.boolean().optional(), localBindIp: z.string().optional() }).strict().default({}),
    ssh: z
      .object({
        host: z.string(),
        port: z.number().int().default(22),
        user: z.string(),
        binaryPath: z.string().optional(),
        binaryUrl: z.string().url().optional(),
        binarySha256: Sha256.optional(),
        datastorePath: z.string().optional(),
        openFirewall: z.boolean().default(false),
        removeDatastoreOnDelete: z.boolean().default(false),
      })
      .strict()
      .optional(),
    aws: z
      .object({
        region: z.string().optional(),
        subnetId: z.string().optional(),
        adminCidrs: z.array(Cidr).default([]),
        clientCidrs: z.array(Cidr).optional(),
        instanceType: z.string().optional(),
        spot: z.boolean().default(false),
        elasticIp: z.boolean().default(false),
        route53: z.object({ zoneId: z.string(), name: z.string() }).strict().optional(),
        binarySha256: Sha256,
        binaryUrl: z.string().url().optional(),
        keyName: z.string().optional(),
      })
      .strict()
      .optional(),
    azure: z
      .object({
        location: z.string(),
        resourceGroupName: z.string().optional(),
        adminCidrs: z.array(Cidr).default([]),
        clientCidrs: z.array(Cidr).optional(),
        vmSize: z.string().optional(),
        spot: z.boolean().default(false),
        dnsLabel: z.string().optional(),
        sshPublicKey: z.string(),
        binarySha256: Sha256,
        binaryUrl: z.string().url().optional(),
      })
      .strict()
      .optional(),
    kubernetes: z
      .object({
        namespace: z.string().optional(),
        storageClass: z.string().optional(),
        sharedStorageClass: z.string().optional(),
        frontendLoadBalancer: z.boolean().default(false),
        guiIngressHost: z.string().optional(),
        adminCidrs: z.array(Cidr).optional(),
        kubeconfigContext: z.string().optional(),
      })
      .strict()
      .default({ frontendLoadBalancer: false }),
  })
  .strict()
  .superRefine((s, ctx) => {
    for (const t of ["ssh", "aws", "azure"] as const)
      if (s.target === t && !s[t]) ctx.addIssue({ code: "custom", path: [t], message: `target ${t} needs a "${t}" section (see Pulumi.${t === "ssh" ? "ssh-lab" : `${t}-standard`}.yaml)` });
    if (s.target === "ssh" && s.ssh && !s.ssh.binaryPath && !s.ssh.binarySha256)
      ctx.addIssue({ code: "custom", path: ["ssh", "binarySha256"], message: "required when the binary is downloaded (or set ssh.binaryPath)" });
  });

export type DeploymentSettings = z.infer<typeof DeploymentSettingsSchema>;
export type DeploymentSettingsInput = z.input<typeof DeploymentSettingsSchema>;

export function parseDeploymentSettings(raw: unknown): DeploymentSettings {
  const r = DeploymentSettingsSchema.safeParse(raw);
  if (!r.success) {
    const i = r.error.issues[0]!;
    const path = i.path.join(".") || "(settings)";
    const keys = i.code === "unrecognized_keys" ? ` (${i.keys.join(", ")})` : "";
    throw new Error(`megaraptor:${path}: ${i.message}${keys}`);
  }
  return r.data;
}
