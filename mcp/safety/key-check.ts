/**
 * Defence in depth for the modes (issue 13 item 1): at start, read what the API key itself may do on the server and
 * say so loudly when it is more than the mode allows — a classifier bug or a missed path then still meets a key that
 * cannot do the thing. Read from Velociraptor: `whoami()` (vql/server/users/whoami.go) and `user(user=whoami())`
 * (vql/server/users/get.go → users.go getUserRecord), whose `effective_policy` is the caller's ApiClientACL with its
 * roles expanded (services/acl_manager GetEffectivePolicy). The server's own identity (the frontend certificate used
 * as an API key) has no user record and an effective policy of `{super_user: true}`: it may do everything.
 * With --strict-key (MEGARAPTOR_STRICT_KEY=1) a key that can do more, or whose permissions cannot be read, is refused.
 */
import { MegaraptorError } from "../../core/errors.js";
import type { QueryOptions, Row } from "../../velociraptor/client.js";
import { vqlQuery } from "../../velociraptor/query.js";
import type { Mode } from "./mode.js";
import { ACL_FIELD_PERMISSION, ALL_PERMISSIONS, modePermissions } from "./permissions.js";

export interface KeyPermissions {
  /** whoami(): the name the server knows this key by. */
  user: string;
  /** The server's own identity: every permission, no user record. */
  super_user: boolean;
  /** The roles stored for this user in the org (null: none stored or not readable). */
  roles: string[] | null;
  /** Effective permissions in the org, Velociraptor's names. */
  permissions: string[];
  /** False when the server returned no record or no effective policy for the key: nothing is known. */
  known: boolean;
}

export interface KeyAssessment extends KeyPermissions {
  mode: Mode;
  /** Permissions the key holds beyond what the mode needs (all of them for the superuser). */
  exceeds_mode: string[];
  /** The loud line for stderr and get_server_info; absent when the key fits the mode. */
  warning?: string;
}

/** Parses `user()`'s record (or NULL) for the caller `user`. */
export function keyPermissionsFrom(user: string, record: unknown): KeyPermissions {
  const r = record && typeof record === "object" ? (record as Record<string, unknown>) : undefined;
  const policy = r?.effective_policy && typeof r.effective_policy === "object" ? (r.effective_policy as Record<string, unknown>) : undefined;
  const roles = Array.isArray(r?.roles) ? (r.roles as unknown[]).map(String) : null;
  if (policy?.super_user === true) return { user, super_user: true, roles, permissions: [...ALL_PERMISSIONS], known: true };
  const set = (v: unknown) => v === true || (Array.isArray(v) && v.length > 0);
  const permissions = policy ? Object.entries(policy).filter(([k, v]) => set(v) && ACL_FIELD_PERMISSION[k]).map(([k]) => ACL_FIELD_PERMISSION[k]!) : [];
  return { user, super_user: false, roles, permissions, known: policy !== undefined };
}

/** What the key can do beyond the mode, with the warning to print. */
export function assessKey(mode: Mode, k: KeyPermissions): KeyAssessment {
  const allowed = modePermissions(mode);
  if (!k.known) {
    return { ...k, mode, exceeds_mode: [], warning: `cannot read the permissions of API key "${k.user || "(unknown)"}" (user(user=whoami()) gave no effective policy): the ${mode} mode rests on Megaraptor's checks alone. Give the key a user record with the least role (${ROLE_FOR[mode]}).` };
  }
  const exceeds = allowed === undefined ? [] : k.super_user ? ["SUPER_USER (every permission)"] : k.permissions.filter((p) => !allowed.has(p));
  if (!exceeds.length) return { ...k, mode, exceeds_mode: [] };
  const who = k.super_user ? `API key "${k.user}" is the server's own identity (super user)` : `API key "${k.user}" (roles ${k.roles?.join(",") || "none"}) holds ${exceeds.join(", ")}`;
  return { ...k, mode, exceeds_mode: exceeds, warning: `${who}: more than the ${mode} mode allows. Megaraptor still enforces the mode, but a key with the least role (${ROLE_FOR[mode]}) makes the server refuse too.` };
}

const ROLE_FOR: Record<Mode, string> = { "read-only": "reader,api", investigate: "investigator,api", respond: "administrator" };

type Querier = { queryAll(q: ReturnType<typeof vqlQuery>, o?: QueryOptions): Promise<{ rows: Row[] }> };

/** One query: the key's name and its effective permissions (in `orgId`, else the default org). */
export async function readKeyPermissions(client: Querier, o: QueryOptions = {}): Promise<KeyPermissions> {
  const { rows } = await client.queryAll(vqlQuery("SELECT whoami() AS Name, user(user=whoami()) AS User FROM scope()"), { ...o, maxRows: 1 });
  const row = rows[0] ?? {};
  return keyPermissionsFrom(String(row.Name ?? ""), row.User);
}

export class KeyExceedsModeError extends MegaraptorError {
  constructor(message: string, mode: Mode) {
    super("KEY_EXCEEDS_MODE", `--strict-key: ${message}`, {
      hint: `Use an API key with the least role for ${mode} mode (${ROLE_FOR[mode]}: \`velociraptor acl grant <name> --role ${ROLE_FOR[mode]}\`), or run without --strict-key / MEGARAPTOR_STRICT_KEY to only warn.`,
    });
  }
}

/** --strict-key or MEGARAPTOR_STRICT_KEY=1. */
export function strictKey(flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  return flag === true || /^(1|true|yes)$/i.test(env.MEGARAPTOR_STRICT_KEY ?? "");
}
