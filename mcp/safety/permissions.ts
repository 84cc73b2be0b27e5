/**
 * Velociraptor's permissions and roles, and what each Megaraptor mode allows. Modes mirror Velociraptor's own roles
 * so that "can this mode do X" has the answer Velociraptor itself would give (acls/roles.go GetRolePermissions,
 * acls/proto/acl.proto ApiClientACL, v0.77.2):
 * - read-only ≈ `reader` + `api`: ANY_QUERY, READ_RESULTS;
 * - investigate ≈ `investigator` (+ `api`): adds LABEL_CLIENT, COLLECT_CLIENT, START_HUNT, NOTEBOOK_EDITOR,
 *   PREPARE_RESULTS;
 * - respond: anything (`administrator`).
 */
import { ROLE_PERMISSIONS } from "../../velociraptor/roles.js";
import type { Mode } from "./mode.js";

/** Every permission (acls/roles.go ALL_PERMISSIONS). */
export const ALL_PERMISSIONS = [
  "ANY_QUERY", "READ_RESULTS", "LABEL_CLIENT", "COLLECT_CLIENT", "COLLECT_BASIC", "START_HUNT", "COLLECT_SERVER",
  "ARTIFACT_WRITER", "SERVER_ARTIFACT_WRITER", "EXECVE", "NOTEBOOK_EDITOR", "SERVER_ADMIN", "ORG_ADMIN", "IMPERSONATION",
  "FILESYSTEM_READ", "FILESYSTEM_WRITE", "NETWORK", "MACHINE_STATE", "PREPARE_RESULTS", "DELETE_RESULTS", "DATASTORE_ACCESS",
] as const;

/** Role → permissions, as acls/roles.go expands them: one table, in the Velociraptor layer. */
export { ROLE_PERMISSIONS };

export const INVESTIGATOR_PERMISSIONS: ReadonlySet<string> = new Set(ROLE_PERMISSIONS.investigator);
const READ_ONLY_PERMISSIONS: ReadonlySet<string> = new Set(["ANY_QUERY", "READ_RESULTS"]);

/** Permissions a key may hold without being able to do more than the mode allows (undefined = anything). */
export function modePermissions(mode: Mode): ReadonlySet<string> | undefined {
  return mode === "read-only" ? READ_ONLY_PERMISSIONS : mode === "investigate" ? INVESTIGATOR_PERMISSIONS : undefined;
}

/**
 * ApiClientACL field names (as `user().effective_policy` shows them: services/acl_manager GetEffectivePolicy, then
 * vql/server/users ConvertPolicyToOrderedDict keeps only true or non-empty fields) → permission names.
 */
export const ACL_FIELD_PERMISSION: Readonly<Record<string, string>> = {
  all_query: "ALL_QUERY",
  any_query: "ANY_QUERY",
  read_results: "READ_RESULTS",
  label_clients: "LABEL_CLIENT",
  collect_client: "COLLECT_CLIENT",
  collect_basic: "COLLECT_BASIC",
  start_hunt: "START_HUNT",
  collect_server: "COLLECT_SERVER",
  artifact_writer: "ARTIFACT_WRITER",
  server_artifact_writer: "SERVER_ARTIFACT_WRITER",
  execve: "EXECVE",
  notebook_editor: "NOTEBOOK_EDITOR",
  org_admin: "ORG_ADMIN",
  impersonation: "IMPERSONATION",
  server_admin: "SERVER_ADMIN",
  filesystem_read: "FILESYSTEM_READ",
  filesystem_write: "FILESYSTEM_WRITE",
  network: "NETWORK",
  machine_state: "MACHINE_STATE",
  prepare_results: "PREPARE_RESULTS",
  delete_results: "DELETE_RESULTS",
  datastore_access: "DATASTORE_ACCESS",
  publish_queues: "PUBLISH",
  super_user: "SUPER_USER",
};
