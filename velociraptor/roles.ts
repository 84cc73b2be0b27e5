/**
 * Velociraptor's roles and the permissions each grants, as 0.77.2 expands them (acls/roles.go GetRolePermissions,
 * lines 176-260): the one table the client, the deploy health check and the MCP safety layer answer "which role
 * grants X" from.
 */

/** Role → permissions (administrator also gets ORG_ADMIN, but only in the root org: acls/roles.go 208-212). */
export const ROLE_PERMISSIONS: Readonly<Record<string, readonly string[]>> = {
  org_admin: ["ORG_ADMIN"],
  administrator: ["ANY_QUERY", "READ_RESULTS", "IMPERSONATION", "LABEL_CLIENT", "COLLECT_CLIENT", "COLLECT_BASIC", "START_HUNT", "COLLECT_SERVER", "ARTIFACT_WRITER", "SERVER_ARTIFACT_WRITER", "EXECVE", "NOTEBOOK_EDITOR", "SERVER_ADMIN", "FILESYSTEM_READ", "FILESYSTEM_WRITE", "NETWORK", "MACHINE_STATE", "PREPARE_RESULTS", "DELETE_RESULTS"],
  reader: ["READ_RESULTS"],
  api: ["ANY_QUERY", "READ_RESULTS"],
  analyst: ["READ_RESULTS", "NOTEBOOK_EDITOR", "LABEL_CLIENT", "ANY_QUERY", "PREPARE_RESULTS"],
  investigator: ["READ_RESULTS", "NOTEBOOK_EDITOR", "COLLECT_CLIENT", "START_HUNT", "LABEL_CLIENT", "ANY_QUERY", "PREPARE_RESULTS"],
  artifact_writer: ["ARTIFACT_WRITER"],
};

/** The roles that grant `permission` (empty for ALL_QUERY, DATASTORE_ACCESS, PUBLISH: only an explicit policy gives those). */
export function rolesGranting(permission: string): string[] {
  return Object.entries(ROLE_PERMISSIONS).filter(([, perms]) => perms.includes(permission)).map(([role]) => role);
}

/**
 * A VQL plugin or function refused for a missing permission logs `<name>: PermissionDenied: Permission denied: [<PERM>]`
 * and yields NULL / no rows; the query itself goes on (vql/acls.go CheckAccess 39-62, e.g. vql/info.go 73-77).
 * Returns the permissions named in such a log line for `name`, or undefined when the line is something else.
 */
export function deniedPermissions(name: string, logLine: string): string[] | undefined {
  const m = new RegExp(`^${name}: PermissionDenied: Permission denied: \\[([A-Z_ ]+)\\]`).exec(logLine.trim());
  return m ? m[1]!.split(" ").filter(Boolean) : undefined;
}
