/**
 * The user store in Velociraptor's datastore layout and its rules (docs/velociraptor-rules.md §2–3): file names and
 * encodings, case-insensitive lookups, Velociraptor's errors for a missing user, role expansion and the cache that
 * sees another process's writes only after a reload.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { effectivePolicy, policyFromGrantJson, policyFromProtoJson, ROLE_PERMISSIONS } from "../../test-server/acl.js";
import { decodeUserRecord, encodeUserRecord, sanitizeComponent, unsanitizeComponent } from "../../test-server/datastore.js";
import { UserStore, validateUsername } from "../../test-server/user-store.js";

const fresh = () => mkdtempSync(join(tmpdir(), "vr-datastore-"));

describe("datastore layout", () => {
  it("sanitizes names like utils.SanitizeString and reverses it", () => {
    const cases: Record<string, string> = { megaraptor: "megaraptor", "a@b.c": "a%40b.c", ".hidden": "%2Ehidden", "#x": "%23x", "dot.": "dot%2E", "x.db": "x.db_", "bob_": "bob__", "sp ace$~": "sp ace$~", "ü": "%C3%BC" };
    for (const [name, file] of Object.entries(cases)) {
      expect(sanitizeComponent(name)).toBe(file);
      if (!name.startsWith(".") && !name.startsWith("#") && !name.endsWith(".")) expect(unsanitizeComponent(file)).toBe(name);
    }
  });

  it("encodes a user record as protobuf field 1 (name) and reads protojson records too", () => {
    expect(encodeUserRecord({ name: "bob" })).toEqual(Buffer.from([0x0a, 3, 0x62, 0x6f, 0x62]));
    const salt = Buffer.alloc(32, 7);
    const full = encodeUserRecord({ name: "alice", passwordSalt: salt, passwordHash: Buffer.alloc(32, 9), locked: true });
    expect(decodeUserRecord(full)).toEqual({ name: "alice", passwordSalt: salt, passwordHash: Buffer.alloc(32, 9), locked: true });
    expect(decodeUserRecord(Buffer.from('{"name":"carol"}')).name).toBe("carol");
  });

  it("writes users/<name>.db and acl/<name>.json.db, and orgs/<org>/acl/ for other orgs", () => {
    const dir = fresh();
    const store = new UserStore(dir);
    store.setUser({ name: "megaraptor" });
    store.grantRoles("root", "megaraptor", ["api", "investigator"]);
    store.grantRoles("O123", "megaraptor", ["reader"]);
    expect(readFileSync(join(dir, "users", "megaraptor.db"))).toEqual(Buffer.from([0x0a, 10, ...Buffer.from("megaraptor")]));
    expect(JSON.parse(readFileSync(join(dir, "acl", "megaraptor.json.db"), "utf8"))).toEqual({ roles: ["api", "investigator"] });
    expect(JSON.parse(readFileSync(join(dir, "orgs", "O123", "acl", "megaraptor.json.db"), "utf8"))).toEqual({ roles: ["reader"] });
  });
});

describe("users", () => {
  it("answers Velociraptor's errors for an empty name and for a name without a record", () => {
    const store = new UserStore(fresh());
    expect(() => store.getUser("")).toThrow(/^Must set a username$/);
    expect(() => store.getUser("mallory")).toThrow(/^User not found: mallory$/);
  });

  it("finds users case-insensitively", () => {
    const store = new UserStore(fresh());
    store.setUser({ name: "Admin" });
    expect(store.getUser("admin").name).toBe("Admin");
  });

  it("reserves the superuser and gateway names, and checks characters only when unicode names are disabled", () => {
    expect(() => validateUsername("VelociraptorServer")).toThrow("Username is reserved: VelociraptorServer");
    expect(() => validateUsername("GRPC_GW", { pinnedGwName: "GRPC_GW" })).toThrow("Username is reserved: GRPC_GW");
    expect(() => validateUsername("GRPC_GW")).toThrow("Username is reserved for the gateway: GRPC_GW");
    expect(() => validateUsername("a b")).not.toThrow();
    expect(() => validateUsername("a b", { disableUnicodeUsernames: true })).toThrow("Unacceptable username a b");
  });

  it("checks a stored password as the Basic authenticator does (salted SHA-256)", () => {
    const store = new UserStore(fresh());
    store.setPassword("analyst1", "s3cret");
    expect(store.verifyPassword("analyst1", "s3cret")).toBe(true);
    expect(store.verifyPassword("analyst1", "nope")).toBe(false);
  });

  it("sees a record written by another process only after a reload (the frontend's user cache)", () => {
    const dir = fresh();
    const running = new UserStore(dir);
    const cli = new UserStore(dir);
    cli.setUser({ name: "late" });
    cli.grantRoles("root", "late", ["api"]);
    expect(running.hasUser("late")).toBe(false);
    expect(running.checkAccess("root", "late", "ANY_QUERY").allowed).toBe(false);
    running.reload();
    expect(running.hasUser("late")).toBe(true);
    expect(running.checkAccess("root", "late", "ANY_QUERY").allowed).toBe(true);
  });
});

describe("roles and access", () => {
  it("expands roles as acls/roles.go does (reader has no ANY_QUERY; investigator no MACHINE_STATE)", () => {
    expect(ROLE_PERMISSIONS.reader).toEqual(["READ_RESULTS"]);
    const inv = effectivePolicy({ roles: ["investigator"], permissions: [], publishQueues: [] }, "root");
    expect(inv.ok && [...inv.permissions].sort()).toEqual(["ANY_QUERY", "COLLECT_CLIENT", "LABEL_CLIENT", "NOTEBOOK_EDITOR", "PREPARE_RESULTS", "READ_RESULTS", "START_HUNT"]);
    const adminRoot = effectivePolicy({ roles: ["administrator"], permissions: [], publishQueues: [] }, "root");
    const adminOrg = effectivePolicy({ roles: ["administrator"], permissions: [], publishQueues: [] }, "O123");
    expect(adminRoot.ok && adminRoot.permissions.has("ORG_ADMIN")).toBe(true);
    expect(adminOrg.ok && adminOrg.permissions.has("ORG_ADMIN")).toBe(false);
  });

  it("refuses an unknown role at grant time and writes nothing", () => {
    const dir = fresh();
    const store = new UserStore(dir);
    expect(() => store.grantRoles("root", "bob", ["api", "superhero"])).toThrow("Invalid role superhero");
    expect(existsSync(join(dir, "acl", "bob.json.db"))).toBe(false);
  });

  it("fails every check for a user whose stored policy names an unknown role", () => {
    const store = new UserStore(fresh());
    store.setPolicy("root", "bob", { roles: ["api", "superhero"], permissions: [], publishQueues: [] });
    expect(store.checkAccess("root", "bob", "ANY_QUERY")).toEqual({ allowed: false, error: "Unknown role" });
  });

  it("gives a user without a policy in an org no permission there, and the superuser every permission", () => {
    const store = new UserStore(fresh());
    store.setUser({ name: "bob" });
    store.grantRoles("root", "bob", ["administrator"]);
    expect(store.checkAccess("O123", "bob", "ANY_QUERY").allowed).toBe(false);
    expect(store.checkAccess("O123", "VelociraptorServer", "SERVER_ADMIN").allowed).toBe(true);
  });

  it("grants PUBLISH only for listed queues and never ALL_QUERY", () => {
    const store = new UserStore(fresh());
    store.setPolicy("root", "pusher", policyFromGrantJson('{"publish_queues":["Custom.Events"],"all_query":true}'));
    expect(store.checkAccess("root", "pusher", "PUBLISH", "Custom.Events").allowed).toBe(true);
    expect(store.checkAccess("root", "pusher", "PUBLISH", "Other").allowed).toBe(false);
    expect(store.checkAccess("root", "pusher", "ALL_QUERY").allowed).toBe(false);
  });

  it("reads acl grant JSON with Go struct names only, and protojson with both spellings", () => {
    expect(policyFromGrantJson('{"any_query":true,"readResults":true,"ROLES":["api"]}')).toEqual({ roles: ["api"], permissions: ["ANY_QUERY"], publishQueues: [] });
    expect(() => policyFromGrantJson('{"any_query":"yes"}')).toThrow(/Invalid policy object/);
    expect(policyFromProtoJson('{"anyQuery":true,"read_results":true}').permissions).toEqual(["ANY_QUERY", "READ_RESULTS"]);
  });
});
