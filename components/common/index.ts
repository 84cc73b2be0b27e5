/** Arguments every deployment component shares, and the tags every resource carries. */
import * as pulumi from "@pulumi/pulumi";
import { loadProfile, type Profile, type ProfileOverrides } from "../../profiles/index.js";
import { resolveVelociraptorVersion } from "../versions.js";
import { deploymentCreatedAt } from "./clock.js";

export interface DeploymentBaseArgs {
  /** Stable id of the deployment (names, tags, state). */
  deploymentId: string;
  /** Profile name or an already-loaded profile. */
  profile: string | Profile;
  overrides?: ProfileOverrides;
  /** Velociraptor version; default pinned in components/versions.ts. */
  version?: string;
  /** Host name clients and analysts use. */
  hostname: pulumi.Input<string>;
  extraDnsNames?: string[];
  extraIps?: string[];
  caseId?: string;
  owner?: string;
  description?: string;
  tags?: Record<string, string>;
  /** API users to issue credentials for (default: one "megaraptor" user with api,investigator). */
  apiUsers?: { name: string; roles: string[] }[];
  /** GUI users (Basic authentication) created on the server with a generated password (default: admin, administrator). */
  guiUsers?: { name: string; roles: string[] }[];
  /** Increment to re-issue the server, gateway and API certificates under the same CA. */
  certificateRotation?: number;
  /** Increment to make a new CA and client nonce: every enrolled client then needs the new client config. */
  caRotation?: number;
}

const ID = /^[a-z][a-z0-9-]{1,38}[a-z0-9]$/;

export function checkDeploymentId(id: string): void {
  if (!ID.test(id)) throw new Error(`deploymentId: "${id}" must be 3–40 lowercase letters, digits or '-', starting with a letter (e.g. ir-case-42)`);
}

export function resolveProfile(args: Pick<DeploymentBaseArgs, "profile" | "overrides">): Profile {
  return typeof args.profile === "string" ? loadProfile(args.profile, args.overrides ?? {}) : args.profile;
}

export function resolveVersion(v?: string): string {
  const r = resolveVelociraptorVersion(v);
  if (r.warning) pulumi.log.warn(r.warning);
  return r.version;
}

/**
 * Tags for every taggable resource: who, why, and when it may be reaped. The expiry is counted from `createdAt`,
 * the deployment's creation time (see deploymentTagsOutput); without it there is no expiry tag.
 */
export function deploymentTags(args: DeploymentBaseArgs, profile: Profile, createdAt?: string): Record<string, string> {
  const expires = profile.autoExpiryHours > 0 && createdAt ? new Date(Date.parse(createdAt) + profile.autoExpiryHours * 3600_000).toISOString() : undefined;
  const tags: Record<string, string> = {
    "managed-by": "megaraptor",
    "megaraptor-deployment": args.deploymentId,
    "megaraptor-profile": profile.name,
    ...(args.caseId ? { "megaraptor-case": args.caseId } : {}),
    ...(args.owner ? { owner: args.owner } : {}),
    ...(expires ? { "megaraptor-expires-at": expires } : {}),
    ...args.tags,
  };
  return tags;
}

/**
 * The tags as an Output. An expiring profile counts from the deployment's creation time kept in state
 * (DeploymentClock), so the tag is fixed at creation instead of moving on every run.
 */
export function deploymentTagsOutput(name: string, args: DeploymentBaseArgs, profile: Profile, parent: pulumi.Resource): pulumi.Output<Record<string, string>> {
  if (profile.autoExpiryHours <= 0) return pulumi.output(deploymentTags(args, profile));
  return deploymentCreatedAt(name, parent).apply((createdAt) => deploymentTags(args, profile, createdAt));
}

/** Docker/Kubernetes label keys cannot hold ':' in values reliably; this keeps values label-safe. */
export function labelSafe(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, v.replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 63)]));
}
