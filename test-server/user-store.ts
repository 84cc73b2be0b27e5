/**
 * The user manager and ACL manager of a Velociraptor server, over a datastore directory in Velociraptor's layout.
 * Like Velociraptor (services/users/storage.go, services/acl_manager), it reads every record into a cache at start,
 * looks names up case-insensitively, sees its own writes at once, and sees records written by another process (the
 * stand-in's `user add` / `acl grant` / `config api_client --role` while `frontend` runs) only after the next reload
 * — every `defaults.acl_lru_timeout_sec` seconds, 300 by default, ±10 %.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { MegaraptorError } from "../core/errors.js";
import { effectivePolicy, emptyPolicy, isRole, isRootOrg, PERMISSIONS, policyFromProtoJson, policyToProtoJson, tokenAllows, type AclPolicy, type Permission } from "./acl.js";
import { aclDir, aclPath, decodeUserRecord, encodeUserRecord, passwordHash, unsanitizeComponent, userRecordPath, usersDir, type UserRecord } from "./datastore.js";

/** The caller name that needs no user record and may do anything (constants.PinnedServerName). */
export const SUPERUSER = "VelociraptorServer";
export const DEFAULT_GATEWAY_NAME = "GRPC_GW";

/** A refusal with Velociraptor's own message text; `code` is ours and stable. */
export class VelociraptorRefusal extends MegaraptorError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, { hint });
  }
}

export interface UsernameRules {
  /** API.pinned_gw_name (reserved). */
  pinnedGwName?: string;
  /** defaults.disable_unicode_usernames: only then are names limited to [a-zA-Z0-9@.\-_#+]. */
  disableUnicodeUsernames?: boolean;
}

/** services/users/users.go ValidateUsername. */
export function validateUsername(name: string, rules: UsernameRules = {}): void {
  if (rules.disableUnicodeUsernames && !/^[a-zA-Z0-9@.\-_#+]+$/.test(name)) throw new VelociraptorRefusal("USERNAME_INVALID", `Unacceptable username ${name}`);
  if (name === SUPERUSER) throw new VelociraptorRefusal("USERNAME_RESERVED", `Username is reserved: ${name}`);
  if (rules.pinnedGwName && name === rules.pinnedGwName) throw new VelociraptorRefusal("USERNAME_RESERVED", `Username is reserved: ${name}`);
  if (name === (rules.pinnedGwName || DEFAULT_GATEWAY_NAME)) throw new VelociraptorRefusal("USERNAME_RESERVED", `Username is reserved for the gateway: ${name}`);
}

/** The outcome of an access check: allowed, denied, or the check itself failed (e.g. an unknown role stored). */
export type AccessResult = { allowed: true } | { allowed: false; error?: string };

const key = (name: string) => name.toLowerCase();

function writeAtomic(path: string, data: Buffer | string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data, { mode: 0o600 });
  renameSync(tmp, path);
}

function listRecords(dir: string, ext: string): { name: string; path: string }[] {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(ext) && !(ext === ".db" && e.name.endsWith(".json.db")))
    .map((e) => ({ name: unsanitizeComponent(e.name.slice(0, -ext.length)), path: join(dir, e.name) }));
}

export interface UserStoreOptions {
  /** Reload from disk this often (Velociraptor: defaults.acl_lru_timeout_sec, 300 s default, ±10 % jitter); 0 = never. */
  refreshSeconds?: number;
  usernameRules?: UsernameRules;
}

export class UserStore {
  readonly location: string;
  readonly usernameRules: UsernameRules;
  private users = new Map<string, UserRecord>();
  private acls = new Map<string, Map<string, { username: string; policy: AclPolicy }>>();
  private timer?: NodeJS.Timeout;

  constructor(location: string, opts: UserStoreOptions = {}) {
    // config/migration.go trims trailing separators from Datastore.location.
    this.location = location.replace(/[\\/]+$/, "") || location;
    this.usernameRules = opts.usernameRules ?? {};
    this.reload();
    const seconds = opts.refreshSeconds ?? 0;
    if (seconds > 0) this.scheduleRefresh(seconds);
  }

  private scheduleRefresh(seconds: number): void {
    const jitter = 0.9 + Math.random() * 0.2;
    this.timer = setTimeout(() => {
      this.reload();
      this.scheduleRefresh(seconds);
    }, seconds * 1000 * jitter);
    this.timer.unref();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  /** BuildCache + reloadCache: re-read every user record, and the ACLs of every org read so far. */
  reload(): void {
    const users = new Map<string, UserRecord>();
    for (const f of listRecords(usersDir(this.location), ".db")) {
      try {
        const record = decodeUserRecord(readFileSync(f.path));
        // Two files differing only in case: keep the first, as Velociraptor does.
        if (!users.has(key(f.name))) users.set(key(f.name), { ...record, name: record.name || f.name });
      } catch {
        // An unreadable record is skipped (loadUserRecordIntoCache fails → not cached).
      }
    }
    this.users = users;
    const orgs = new Set(["root", ...this.acls.keys()]);
    this.acls = new Map();
    for (const org of orgs) this.loadOrg(org);
  }

  private loadOrg(orgId: string): Map<string, { username: string; policy: AclPolicy }> {
    const org = isRootOrg(orgId) ? "root" : orgId;
    const cache = new Map<string, { username: string; policy: AclPolicy }>();
    for (const f of listRecords(aclDir(this.location, org), ".json.db")) {
      try {
        if (!cache.has(key(f.name))) cache.set(key(f.name), { username: f.name, policy: policyFromProtoJson(readFileSync(f.path, "utf8")) });
      } catch {
        // reloadCache skips a policy it cannot parse.
      }
    }
    this.acls.set(org, cache);
    return cache;
  }

  private orgAcls(orgId: string) {
    return this.acls.get(isRootOrg(orgId) ? "root" : orgId) ?? this.loadOrg(orgId);
  }

  /** storage.GetUserWithHashes: the cached record, or Velociraptor's errors for "" and for an unknown name. */
  getUser(name: string): UserRecord {
    if (name === "") throw new VelociraptorRefusal("CALLER_UNIDENTIFIED", "Must set a username", "The caller's certificate was not accepted as an identity: Velociraptor re-verifies it with Go's default options, which require the serverAuth extended key usage. Issue API certificates with serverAuth + clientAuth (as `config api_client` does).");
    const r = this.users.get(key(name));
    if (!r) throw new VelociraptorRefusal("USER_NOT_FOUND", `User not found: ${name}`, `Create the user on the server: \`velociraptor --config server.config.yaml config api_client --name ${name} --role api,investigator api_client.yaml\` (or \`user add ${name} --role …\`), then restart the frontend or wait for its user cache to reload.`);
    return { ...r };
  }

  hasUser(name: string): boolean {
    return name !== "" && this.users.has(key(name));
  }

  listUsers(): string[] {
    return [...this.users.values()].map((u) => u.name).sort();
  }

  /** storage.SetUser: validate, write users/<name>.db, update the cache. */
  setUser(record: UserRecord): void {
    if (!record.name) throw new VelociraptorRefusal("CALLER_UNIDENTIFIED", "Must set a username");
    validateUsername(record.name, this.usernameRules);
    writeAtomic(userRecordPath(this.location, record.name), encodeUserRecord(record));
    this.users.set(key(record.name), { ...record });
  }

  /** users.SetPassword + SetUser. */
  setPassword(name: string, password: string): void {
    const salt = randomBytes(32);
    const existing = this.users.get(key(name));
    this.setUser({ ...(existing ?? { name }), name: existing?.name ?? name, passwordSalt: salt, passwordHash: passwordHash(salt, password), locked: false });
  }

  /** True when `password` matches the stored salted hash (the Basic authenticator's check). */
  verifyPassword(name: string, password: string): boolean {
    const r = this.users.get(key(name));
    if (!r?.passwordSalt || !r.passwordHash || r.locked) return false;
    return passwordHash(r.passwordSalt, password).equals(r.passwordHash);
  }

  getPolicy(orgId: string, name: string): AclPolicy | undefined {
    const p = this.orgAcls(orgId).get(key(name));
    return p ? structuredClone(p.policy) : undefined;
  }

  /** ACLManager.SetPolicy: org_admin is dropped outside the root org; the name keeps its first-seen casing. */
  setPolicy(orgId: string, name: string, policy: AclPolicy): void {
    const org = isRootOrg(orgId) ? "root" : orgId;
    const p = structuredClone(policy);
    if (org !== "root") {
      p.roles = p.roles.filter((r) => r !== "org_admin");
      p.permissions = p.permissions.filter((x) => x !== "ORG_ADMIN");
    }
    const cache = this.orgAcls(org);
    const username = cache.get(key(name))?.username ?? name;
    writeAtomic(aclPath(this.location, org, username), policyToProtoJson(p));
    cache.set(key(name), { username, policy: p });
  }

  /** ACLManager.GrantRoles: the policy becomes exactly these roles; an unknown role is refused before anything is written. */
  grantRoles(orgId: string, name: string, roles: string[]): void {
    const policy = emptyPolicy();
    for (const role of roles) {
      if (policy.roles.includes(role)) continue;
      if (!isRole(role)) throw new VelociraptorRefusal("INVALID_ROLE", `Invalid role ${role}`, "Roles are org_admin, administrator, reader, analyst, investigator, artifact_writer, api.");
      policy.roles.push(role);
    }
    this.setPolicy(orgId, name, policy);
  }

  /** ACLManager.CheckAccess for one permission in one org. */
  checkAccess(orgId: string, name: string, permission: Permission | "PUBLISH", queue?: string): AccessResult {
    if (name === SUPERUSER) return { allowed: true };
    if (name === "") return { allowed: false };
    const stored = this.orgAcls(orgId).get(key(name));
    if (!stored) return { allowed: false };
    const e = effectivePolicy(stored.policy, orgId);
    if (!e.ok) return { allowed: false, error: e.error };
    return { allowed: tokenAllows(e, permission, queue) };
  }

  /** The effective permissions in an org (empty when there is no policy or it cannot be expanded). */
  permissions(orgId: string, name: string): Set<Permission> {
    // The superuser's token has super_user set: every check passes.
    if (name === SUPERUSER) return new Set(PERMISSIONS);
    const stored = this.orgAcls(orgId).get(key(name));
    if (!stored) return new Set();
    const e = effectivePolicy(stored.policy, orgId);
    return e.ok ? e.permissions : new Set();
  }
}


/**
 * A deployment's bootstrap of one API user: `config api_client --name N --role R` (root-org roles plus the user
 * record) and `acl grant --org O N --role R` for every other org.
 */
export function bootstrapUser(store: UserStore, name: string, rolesByOrg: Record<string, string[]>): void {
  store.grantRoles("root", name, rolesByOrg.root ?? []);
  if (!store.hasUser(name)) store.setUser({ name });
  for (const [org, roles] of Object.entries(rolesByOrg)) if (!isRootOrg(org)) store.setPolicy(org, name, { ...emptyPolicy(), roles });
}
