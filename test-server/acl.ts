/**
 * Velociraptor's roles, permissions and policy objects (`ApiClientACL`), as 0.77.2 defines them
 * (docs/velociraptor-rules.md §3): which permissions each role grants, how a stored policy expands into effective
 * permissions, and the two JSON spellings a policy travels in (protojson on disk, Go struct tags in `acl grant`).
 */

export const ROLES = ["org_admin", "administrator", "reader", "analyst", "investigator", "artifact_writer", "api"] as const;
export type Role = (typeof ROLES)[number];

/** Permission name ↔ `ApiClientACL` boolean field (acls/proto/acl.proto). */
const PERMISSION_FIELDS = {
  ALL_QUERY: "all_query",
  ANY_QUERY: "any_query",
  READ_RESULTS: "read_results",
  LABEL_CLIENT: "label_clients",
  COLLECT_CLIENT: "collect_client",
  COLLECT_BASIC: "collect_basic",
  START_HUNT: "start_hunt",
  COLLECT_SERVER: "collect_server",
  ARTIFACT_WRITER: "artifact_writer",
  SERVER_ARTIFACT_WRITER: "server_artifact_writer",
  EXECVE: "execve",
  NOTEBOOK_EDITOR: "notebook_editor",
  ORG_ADMIN: "org_admin",
  IMPERSONATION: "impersonation",
  SERVER_ADMIN: "server_admin",
  FILESYSTEM_READ: "filesystem_read",
  FILESYSTEM_WRITE: "filesystem_write",
  NETWORK: "network",
  MACHINE_STATE: "machine_state",
  PREPARE_RESULTS: "prepare_results",
  DELETE_RESULTS: "delete_results",
  DATASTORE_ACCESS: "datastore_access",
} as const;
export type Permission = keyof typeof PERMISSION_FIELDS;
export const PERMISSIONS = Object.keys(PERMISSION_FIELDS) as Permission[];

/** The proto field (snake_case) that holds a permission in `ApiClientACL`. */
export const permissionField = (p: Permission): string => PERMISSION_FIELDS[p];

/** acls/roles.go GetRolePermissions. ORG_ADMIN for administrators is added only in the root org (see effectivePolicy). */
export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  org_admin: ["ORG_ADMIN"],
  administrator: [
    "ANY_QUERY", "READ_RESULTS", "IMPERSONATION", "LABEL_CLIENT", "COLLECT_CLIENT", "COLLECT_BASIC", "START_HUNT",
    "COLLECT_SERVER", "ARTIFACT_WRITER", "SERVER_ARTIFACT_WRITER", "EXECVE", "NOTEBOOK_EDITOR", "SERVER_ADMIN",
    "FILESYSTEM_READ", "FILESYSTEM_WRITE", "NETWORK", "MACHINE_STATE", "PREPARE_RESULTS", "DELETE_RESULTS",
  ],
  // No ANY_QUERY: a reader can read results in the GUI but cannot run an API query.
  reader: ["READ_RESULTS"],
  api: ["ANY_QUERY", "READ_RESULTS"],
  analyst: ["READ_RESULTS", "NOTEBOOK_EDITOR", "LABEL_CLIENT", "ANY_QUERY", "PREPARE_RESULTS"],
  investigator: ["READ_RESULTS", "NOTEBOOK_EDITOR", "COLLECT_CLIENT", "START_HUNT", "LABEL_CLIENT", "ANY_QUERY", "PREPARE_RESULTS"],
  artifact_writer: ["ARTIFACT_WRITER"],
};

export function isRole(name: string): name is Role {
  return (ROLES as readonly string[]).includes(name);
}

/** A stored policy: the roles plus any permissions granted one by one. */
export interface AclPolicy {
  roles: string[];
  permissions: Permission[];
  publishQueues: string[];
}

export const emptyPolicy = (): AclPolicy => ({ roles: [], permissions: [], publishQueues: [] });

export function isRootOrg(orgId: string | undefined): boolean {
  return !orgId || orgId === "root";
}

/** What a principal may do in one org, or why nothing can be decided. */
export type Effective = { ok: true; permissions: Set<Permission>; publishQueues: string[] } | { ok: false; error: string };

/**
 * services/acl_manager GetEffectivePolicy: roles expanded, an unknown role an error ("Unknown role"), super_user
 * never honoured from storage, ORG_ADMIN only in the root org.
 */
export function effectivePolicy(policy: AclPolicy, orgId: string): Effective {
  const permissions = new Set<Permission>(policy.permissions);
  for (const role of policy.roles) {
    if (!isRole(role)) return { ok: false, error: "Unknown role" };
    for (const p of ROLE_PERMISSIONS[role]) permissions.add(p);
    if (role === "administrator" && isRootOrg(orgId)) permissions.add("ORG_ADMIN");
  }
  if (!isRootOrg(orgId)) permissions.delete("ORG_ADMIN");
  return { ok: true, permissions, publishQueues: [...policy.publishQueues] };
}

/**
 * services.CheckAccessWithToken: ALL_QUERY is granted by nothing (the switch has no case for it), PUBLISH only for a
 * listed queue.
 */
export function tokenAllows(e: Extract<Effective, { ok: true }>, permission: Permission | "PUBLISH", queue?: string): boolean {
  if (permission === "PUBLISH") return queue !== undefined && e.publishQueues.includes(queue);
  if (permission === "ALL_QUERY") return false;
  return e.permissions.has(permission);
}

const camel = (snake: string) => snake.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** protojson as Go's `protojson.Marshal` writes it into acl/<name>.json.db (lowerCamel names, empty fields omitted). */
export function policyToProtoJson(p: AclPolicy): string {
  const out: Record<string, unknown> = {};
  for (const perm of PERMISSIONS) if (p.permissions.includes(perm)) out[camel(PERMISSION_FIELDS[perm])] = true;
  if (p.publishQueues.length) out.publishQueues = p.publishQueues;
  if (p.roles.length) out.roles = p.roles;
  return JSON.stringify(out);
}

/** protojson reading: both the proto names and the lowerCamel JSON names are accepted. */
export function policyFromProtoJson(text: string): AclPolicy {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const p = emptyPolicy();
  for (const [key, value] of Object.entries(raw)) {
    if (key === "roles") p.roles = (value as string[]).map(String);
    else if (key === "publishQueues" || key === "publish_queues") p.publishQueues = (value as string[]).map(String);
    else {
      const perm = PERMISSIONS.find((x) => PERMISSION_FIELDS[x] === key || camel(PERMISSION_FIELDS[x]) === key);
      if (perm && value === true) p.permissions.push(perm);
    }
  }
  return p;
}

/**
 * `acl grant`'s positional policy: Go's encoding/json into the generated struct, so keys are the snake_case proto
 * names matched case-insensitively; other keys (including the lowerCamel spellings) are ignored; a wrong type fails.
 */
export function policyFromGrantJson(text: string): AclPolicy {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`Invalid policy object: ${(err as Error).message}`);
  }
  if (raw === null) return emptyPolicy();
  if (typeof raw !== "object" || Array.isArray(raw)) throw new Error("Invalid policy object: json: cannot unmarshal into Go value of type proto.ApiClientACL");
  const p = emptyPolicy();
  const strings = (key: string, v: unknown): string[] => {
    if (v === null) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new Error(`Invalid policy object: json: cannot unmarshal into Go struct field ApiClientACL.${key} of type []string`);
    return v as string[];
  };
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const k = key.toLowerCase();
    if (k === "roles") p.roles = strings("roles", value);
    else if (k === "publish_queues") p.publishQueues = strings("publish_queues", value);
    else if (k === "super_user") continue;
    else {
      const perm = PERMISSIONS.find((x) => PERMISSION_FIELDS[x] === k);
      if (!perm) continue;
      if (typeof value !== "boolean" && value !== null) throw new Error(`Invalid policy object: json: cannot unmarshal into Go struct field ApiClientACL.${PERMISSION_FIELDS[perm]} of type bool`);
      if (value === true) p.permissions.push(perm);
    }
  }
  return p;
}
