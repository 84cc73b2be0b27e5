/**
 * The parity shortcuts (deploy_server_docker, deploy_server_cloud: names of the Python server) as deploy requests:
 * each maps its few arguments onto the one request schema, so they deploy exactly like deploy_server.
 */
import { z } from "zod";
import { PROFILE_NAMES } from "../../profiles/schema.js";
import { BaseShape, Cidr, DeploymentId, Sha256 } from "./base.js";
import { DeployRequestSchema, parseDeployRequest, type DeployRequest } from "./index.js";

const Port = z.number().int().min(1).max(65535);
const Run = DeployRequestSchema.pick({ skip_preflight: true, wait_healthy: true });

export const DockerShortcutSchema = z.object({
  deployment_id: DeploymentId,
  profile: z.enum(PROFILE_NAMES).optional().describe(BaseShape.profile.description ?? ""),
  hostname: z.string().optional().describe("name clients and analysts use (default localhost)"),
  gui_port: Port.optional(),
  frontend_port: Port.optional(),
  memory_limit: z.string().regex(/^\d+[mg]$/i, { message: "like 512m or 4g" }).optional(),
  cpu_limit: z.string().regex(/^\d+(\.\d+)?$/, { message: "a number of CPUs, e.g. 2" }).optional(),
  case_id: BaseShape.case_id,
  ...Run.shape,
});

export function dockerShortcutRequest(a: z.infer<typeof DockerShortcutSchema>): DeployRequest {
  const memoryMb = a.memory_limit ? Number(a.memory_limit.slice(0, -1)) * (/g$/i.test(a.memory_limit) ? 1024 : 1) : undefined;
  const resources = { ...(memoryMb ? { memoryMb } : {}), ...(a.cpu_limit ? { cpus: Number(a.cpu_limit) } : {}) };
  const ports = { ...(a.gui_port ? { gui: a.gui_port } : {}), ...(a.frontend_port ? { frontend: a.frontend_port } : {}) };
  const overrides = { ...(Object.keys(resources).length ? { resources } : {}), ...(Object.keys(ports).length ? { ports } : {}) };
  return parseDeployRequest({
    deployment_id: a.deployment_id,
    target: "docker",
    profile: a.profile,
    hostname: a.hostname,
    overrides: Object.keys(overrides).length ? overrides : undefined,
    case_id: a.case_id,
    skip_preflight: a.skip_preflight,
    wait_healthy: a.wait_healthy,
  });
}

export const CloudShortcutSchema = z.object({
  deployment_id: DeploymentId,
  cloud_provider: z.enum(["aws", "azure"]),
  profile: z.enum(PROFILE_NAMES).optional().describe(BaseShape.profile.description ?? ""),
  region: z.string().optional().describe("AWS region, or the Azure location"),
  instance_type: z.string().optional().describe("EC2 instance type, or the Azure VM size"),
  hostname: BaseShape.hostname,
  admin_cidrs: z.array(Cidr).default([]),
  binary_sha256: Sha256,
  ssh_public_key: z.string().optional().describe("Azure: admin SSH public key"),
  case_id: BaseShape.case_id,
  ...Run.shape,
});

export function cloudShortcutRequest(a: z.infer<typeof CloudShortcutSchema>): DeployRequest {
  const common = { deployment_id: a.deployment_id, target: a.cloud_provider, profile: a.profile, hostname: a.hostname, case_id: a.case_id, skip_preflight: a.skip_preflight, wait_healthy: a.wait_healthy };
  return parseDeployRequest(
    a.cloud_provider === "aws"
      ? { ...common, aws: { region: a.region, instance_type: a.instance_type, admin_cidrs: a.admin_cidrs, binary_sha256: a.binary_sha256 } }
      : { ...common, azure: { location: a.region, vm_size: a.instance_type, admin_cidrs: a.admin_cidrs, ssh_public_key: a.ssh_public_key, binary_sha256: a.binary_sha256 } },
  );
}
