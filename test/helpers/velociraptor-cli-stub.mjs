#!/usr/bin/env node
/**
 * A stand-in for the parts of Velociraptor 0.77.2's command line that the user bootstrap script calls, with the
 * rules of the real commands (a JSON file plays the datastore). It exists to run the generated script for real;
 * every rule below comes from Velociraptor's source at v0.77.2:
 * - `config api_client --name N [--role R] OUTPUT` (bin/config.go:63-84 flags; 359-510): --name and OUTPUT
 *   required; ValidateUsername (services/users/users.go:91,106-128); writes OUTPUT; with --role: GrantRoles (replaces
 *   the policy, refuses unknown roles: services/acl_manager/acl_manager.go:285-300) and creates a password-less user
 *   record only if the user does not exist.
 * - `user add NAME [PASSWORD] --role R` (bin/users.go:47-57, 64-136): --role required; no PASSWORD → reads the
 *   terminal (fails without one); GrantRoles; sets the password and overwrites the user record.
 * - `user show NAME` (bin/users.go:138-180): exits non-zero when the user does not exist (kingpin.FatalIfError).
 * - `acl grant PRINCIPAL [POLICY] --role R` (bin/grant.go:33-140): the user must exist; policy = {} + roles
 *   (without --merge the old policy is replaced).
 * Env: VR_STUB_STORE (JSON file), VR_STUB_LOG (one line per call, argv joined by spaces).
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";

const ROLES = ["org_admin", "administrator", "reader", "analyst", "investigator", "artifact_writer", "api"];
const store = process.env.VR_STUB_STORE;
const db = store && existsSync(store) ? JSON.parse(readFileSync(store, "utf8")) : { users: {}, acl: {} };
const save = () => writeFileSync(store, JSON.stringify(db));
const fail = (msg) => {
  process.stderr.write(`velociraptor: error: ${msg}\n`);
  process.exit(1);
};

let argv = process.argv.slice(2);
if (process.env.VR_STUB_LOG) appendFileSync(process.env.VR_STUB_LOG, argv.join(" ") + "\n");
const flags = {};
const positional = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a.startsWith("--")) {
    const [k, v] = a.slice(2).split("=", 2);
    flags[k] = v ?? argv[++i];
  } else positional.push(a);
}
if (!flags.config) fail("no config");
const validName = (n) => {
  if (!/^[a-zA-Z0-9@.\-_#+]+$/.test(n)) fail(`Unacceptable username ${n}`);
  if (n === "VelociraptorServer" || n === "GRPC_GW") fail(`Username is reserved: ${n}`);
};
const grant = (name, roles) => {
  for (const r of roles) if (!ROLES.includes(r)) fail(`Invalid role ${r}`);
  db.acl[name] = { roles: [...new Set(roles)] };
};

const cmd = positional.slice(0, 2).join(" ");
const args = positional.slice(2);
switch (cmd) {
  case "config api_client": {
    if (!flags.name) fail("required flag --name not provided");
    if (args.length !== 1) fail("required argument 'output' not provided");
    validName(flags.name);
    writeFileSync(args[0], "api_connection_string: x\n");
    if (flags.role) {
      grant(flags.name, flags.role.split(","));
      if (!db.users[flags.name]) db.users[flags.name] = { name: flags.name };
    }
    break;
  }
  case "user add": {
    if (!flags.role) fail("required flag --role not provided");
    const [name, password] = args;
    if (!name) fail("required argument 'username' not provided");
    validName(name);
    grant(name, flags.role.split(","));
    if (!password) {
      if (!process.stdin.isTTY) fail("Unable to read password from terminal: inappropriate ioctl for device");
    }
    db.users[name] = { name, password };
    break;
  }
  case "user show": {
    const [name] = args;
    if (!db.users[name]) fail(`User not found`);
    process.stdout.write(JSON.stringify({ name }) + "\n");
    break;
  }
  case "acl grant": {
    const [principal] = args;
    if (!principal) fail("required argument 'principal' not provided");
    if (!db.users[principal]) fail("User not found");
    // grant.go validates roles inside `if err != nil`, so an unknown role is stored, not refused.
    db.acl[principal] = { roles: flags.role ? [...new Set(flags.role.split(","))] : [] };
    break;
  }
  default:
    fail(`unknown command ${cmd}`);
}
save();
