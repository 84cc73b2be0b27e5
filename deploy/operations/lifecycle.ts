/** Day-2 operations on an existing deployment: refresh, roll back, rotate certificates, add an API user, destroy. */
import { InputError } from "../../core/errors.js";
import type { DeploymentRecord } from "../automation/engine.js";
import type { DeploymentSettings } from "../request/index.js";
import { engineOptions, type OperationHooks } from "./deploy.js";
import { automationEngine, requireDeployment, secretsFor, summarize } from "./index.js";

export async function refreshDeployment(id: string, hooks: OperationHooks = {}): Promise<DeploymentRecord> {
  return (await automationEngine()).refresh(id, engineOptions(hooks));
}

export async function destroyPlan(id: string) {
  const r = await requireDeployment(id);
  return { summary: `Destroy deployment ${r.id} (${r.settings.target}/${r.settings.profile}, ${r.resourceCount ?? "?"} resources) — its datastore goes with it unless the target keeps it`, details: summarize(r) };
}

export async function destroyDeployment(id: string, hooks: OperationHooks = {}): Promise<DeploymentRecord> {
  return (await automationEngine()).destroy(id, engineOptions(hooks));
}

export async function rollbackPlan(id: string) {
  const r = await requireDeployment(id);
  if (!r.previous) throw new InputError("deployment_id", `${id} has no earlier successful settings to return to`, "Only deployments updated at least twice can be rolled back.");
  return { summary: `Re-apply the previous settings of ${id}`, details: { current: r.settings, previous: r.previous } };
}

export async function rollbackDeployment(id: string, o: { sshCredential?: string }, hooks: OperationHooks = {}): Promise<DeploymentRecord> {
  const r = await requireDeployment(id);
  if (!r.previous) throw new InputError("deployment_id", `${id} has no earlier successful settings to return to`, "Only deployments updated at least twice can be rolled back.");
  return (await automationEngine()).up(r.previous, secretsFor({ sshCredential: o.sshCredential }), engineOptions(hooks));
}

export interface RotationRequest {
  rotate_ca: boolean;
  validity_days?: number;
}

/** The settings after a rotation: the next certificate (and CA) rotation, the validity as a TLS override. */
export function rotatedSettings(s: DeploymentSettings, r: RotationRequest): DeploymentSettings {
  const tls = s.overrides.tls;
  const overrides = r.validity_days ? { ...s.overrides, tls: { ...(tls && typeof tls === "object" ? tls : {}), certificateValidityDays: r.validity_days } } : s.overrides;
  return { ...s, overrides, certificate_rotation: s.certificate_rotation + 1, ca_rotation: s.ca_rotation + (r.rotate_ca ? 1 : 0) };
}

export async function rotationPlan(id: string, r: RotationRequest) {
  const d = await requireDeployment(id);
  const next = rotatedSettings(d.settings, r);
  return r.rotate_ca
    ? { summary: `Make a new CA and client nonce for ${id} and re-issue every certificate; every enrolled client must receive the new client config`, details: { rotation: next.certificate_rotation, ca_rotation: next.ca_rotation, validity_days: r.validity_days ?? "profile default" } }
    : { summary: `Re-issue the server, gateway and API certificates of ${id} under the same CA; enrolled clients keep working`, details: { rotation: next.certificate_rotation, validity_days: r.validity_days ?? "profile default" } };
}

export async function rotateCertificates(id: string, r: RotationRequest & { sshCredential?: string }, hooks: OperationHooks = {}) {
  const d = await requireDeployment(id);
  const next = rotatedSettings(d.settings, r);
  const record = await (await automationEngine()).up(next, secretsFor({ sshCredential: r.sshCredential }), engineOptions(hooks));
  return { record, settings: next };
}

const DEFAULT_API_USERS = [{ name: "megaraptor", roles: ["api" as const, "investigator" as const] }];

/** Adds (or re-roles) an API user by re-applying the deployment; returns that user's api_client.yaml. */
export async function addApiUser(id: string, user: NonNullable<DeploymentSettings["api_users"]>[number], o: { sshCredential?: string }, hooks: OperationHooks = {}): Promise<string> {
  const r = await requireDeployment(id);
  const users = [...(r.settings.api_users ?? DEFAULT_API_USERS).filter((u) => u.name !== user.name), user];
  const up = await (await automationEngine()).up({ ...r.settings, api_users: users }, secretsFor({ sshCredential: o.sshCredential }), engineOptions(hooks));
  const all = up.outputs?.apiClientYamls?.value;
  const yaml = all && typeof all === "object" ? Object.entries(all).find(([k]) => k === user.name)?.[1] : undefined;
  if (typeof yaml !== "string") throw new InputError("client_name", `the deployment did not produce credentials for ${user.name}`, "Check get_deployment_status and retry.");
  return yaml;
}
