/**
 * What a Velociraptor server says about itself, read with the permissions the caller really has.
 *
 * Velociraptor 0.77.2 (tag v0.77.2, line numbers at that tag):
 * - the server's version is in the query scope's `config` (services/repository/scope.go 61-75: `config` is the org's
 *   Client config, whose `server_version` the frontend sets to its own version at start, config/validate.go 175-190);
 *   reading it needs nothing beyond ANY_QUERY, which the Query RPC itself checks (api/api.go 922-935) and the `api`,
 *   `analyst`, `investigator` and `administrator` roles grant;
 * - the host name and uptime come only from `info()` (plugin and function), which needs MACHINE_STATE
 *   (vql/info.go 73-77, 104-128) — granted by `administrator` alone (acls/roles.go 187-206), so not by the
 *   `api,investigator` key a deployment hands out. Refused, it logs `info: PermissionDenied: Permission denied:
 *   [MACHINE_STATE]` and yields NULL (vql/acls.go 39-62); the query goes on.
 * - `server_metadata()` needs SERVER_ADMIN (vql/server/clients/metadata.go 38-46) and holds no host facts, so it is
 *   not read; there is no unary gRPC call returning the host name or version.
 * So the version is always read, and a fact the caller may not read is reported as unavailable, naming the permission
 * and the roles that grant it, instead of the whole call failing or the fact silently missing.
 */
import { deniedPermissions, rolesGranting } from "./roles.js";

/** The part of VelociraptorClient used here (declared, not imported: the client calls this module). */
export interface FactsClient {
  readonly user: string;
  queryAll(
    vql: string,
    opts: { maxRows?: number; orgId?: string; signal?: AbortSignal; deadlineSeconds?: number; failOnVqlError?: boolean; retry?: false },
  ): Promise<{ rows: Record<string, unknown>[]; logs: { message: string }[] }>;
}

export interface UnavailableFact {
  /** The facts this caller cannot read. */
  fields: string[];
  /** The permission Velociraptor asked for. */
  permission: string;
  /** Roles that grant it (acls/roles.go). */
  grantedBy: string[];
  /** One sentence for a person: what is missing and how to get it. */
  reason: string;
}

export interface ServerFacts {
  version?: string;
  hostname?: string;
  uptimeSeconds?: number;
  unavailable: UnavailableFact[];
}

// One round trip: the version from the scope (ANY_QUERY), the host from the info() function (MACHINE_STATE).
const FACTS_VQL = "SELECT config.server_version.version AS Version, info() AS Host FROM scope()";
const HOST_FIELDS = ["hostname", "uptime_seconds"];

/**
 * How to grant one permission: alone, merged into the user's policy (bin/grant.go 99-117 merges a snake_case policy
 * object with --merge), or through a role that carries it.
 */
function grant(user: string, permission: string, roles: string[]): string {
  const alone = `velociraptor --config server.config.yaml acl grant ${user} '{"${permission.toLowerCase()}":true}' --merge`;
  return roles.length ? `grant it alone (${alone}) or through the ${roles.join(", ")} role` : `grant it with ${alone}`;
}

export async function readServerFacts(
  client: FactsClient,
  opts: { orgId?: string; signal?: AbortSignal; deadlineSeconds?: number } = {},
): Promise<ServerFacts> {
  const { rows, logs } = await client.queryAll(FACTS_VQL, { maxRows: 1, orgId: opts.orgId, signal: opts.signal, deadlineSeconds: opts.deadlineSeconds, failOnVqlError: false, retry: false });
  const row = rows[0] ?? {};
  const host = row.Host && typeof row.Host === "object" ? (row.Host as Record<string, unknown>) : undefined;
  const unavailable: UnavailableFact[] = [];
  const denied = logs.map((l) => deniedPermissions("info", l.message)).find((p) => p !== undefined);
  if (!host && denied) {
    const user = client.user || "this API user";
    for (const permission of denied) {
      const grantedBy = rolesGranting(permission);
      unavailable.push({
        fields: HOST_FIELDS,
        permission,
        grantedBy,
        reason: `${HOST_FIELDS.join(" and ")} need ${permission} (Velociraptor's info()), which ${user} does not hold: ${grant(user, permission, grantedBy)}.`,
      });
    }
  }
  return {
    version: typeof row.Version === "string" && row.Version ? row.Version : undefined,
    hostname: typeof host?.Hostname === "string" ? host.Hostname : undefined,
    uptimeSeconds: typeof host?.Uptime === "number" ? host.Uptime : undefined,
    unavailable,
  };
}
