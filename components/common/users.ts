/**
 * Velociraptor's users and roles, made to exist on the server the way Velociraptor itself does it: with its own
 * command line, offline against the datastore, before the server starts (every target runs the script this module
 * renders: systemd ExecStartPre, the container's start command, a Kubernetes init container).
 *
 * Why: a caller whose certificate is valid but who has no stored user record is refused
 * (services/users/grpc.go:33 → UserNotFoundError), and `api.Query` needs a role granting ANY_QUERY — a certificate
 * alone does nothing (velociraptor v0.77.2). Facts used here, all from v0.77.2:
 * - `config api_client --name N --role R OUT` grants exactly R (GrantRoles replaces the policy,
 *   services/acl_manager/acl_manager.go:285-300) and creates a password-less user record only when N does not exist
 *   (bin/config.go:485-504). It also writes a new certificate to OUT; Megaraptor already issued N's certificate from
 *   the same CA, so OUT is /dev/null.
 * - `user add N PASSWORD --role R` (bin/users.go:47-57,64-136): `--role` is required; without PASSWORD it reads the
 *   terminal, which a boot script has not; on an existing user it resets the password. So GUI users are added only
 *   when `user show N` fails (it exits non-zero for an unknown user, bin/users.go:138-160 via kingpin.FatalIfError),
 *   and an existing user only gets its roles reset with `acl grant N --role R` (bin/grant.go: replaces the policy
 *   unless --merge) — a password changed in the GUI survives restarts.
 * - These commands change the datastore under a running server without telling it (bin/users.go ServerChangeWarning),
 *   hence "before the server starts".
 * - The GUI password is an argument of `user add` for the second it runs, as in Velociraptor's own container
 *   entrypoint (Docker/entrypoint: `user add admin "$PASSWORD" --role administrator`); the script file holding it is
 *   readable by the service user only.
 * - A user dropped from the deployment is revoked the way Velociraptor's `user_delete()` does it
 *   (services/users/delete.go 56-92: the policy reset to an empty one, then the user record deleted, which
 *   storage.go DeleteUser 653-675 does by removing `users/<name>.db`). 0.77.2 has no `user delete` command (bin/users.go
 *   49-62 defines only `user add` and `user show`) and `user_delete()` refuses to run outside the frontend
 *   (vql/server/users/delete.go 27-31, services/frontend.go 87-102 RequireFrontend), so the script does the same two
 *   steps offline: `acl grant N '{}'` (an empty policy replaces the old one, bin/grant.go 99-124) and removing the
 *   record file. Velociraptor keeps no revocation list — the API accepts any certificate that chains to the CA
 *   (services/users/grpc.go 95-99) — so what revokes an API user's certificate is its missing user record: the next
 *   call gets `User not found` (storage.go 208). The script knows which users it made from a list it keeps in the
 *   datastore (`megaraptor-users`); users made by hand are never touched.
 */
import { InputError } from "../../core/errors.js";
import { userRecordFile } from "./datastore-names.js";

/** Velociraptor's roles (acls/roles.go:13-15 ALL_ROLES @ v0.77.2); GrantRoles refuses any other. */
export const VELOCIRAPTOR_ROLES = ["org_admin", "administrator", "reader", "analyst", "investigator", "artifact_writer", "api"] as const;

export interface UserSpec {
  name: string;
  roles: string[];
}

/** The API user every deployment gets unless told otherwise. */
export const DEFAULT_API_USERS: UserSpec[] = [{ name: "megaraptor", roles: ["api", "investigator"] }];
/** The GUI user every deployment gets unless told otherwise (Velociraptor's container makes `admin` the same way). */
export const DEFAULT_GUI_USERS: UserSpec[] = [{ name: "admin", roles: ["administrator"] }];

/** services/users/users.go:91 validUsernameRegEx @ v0.77.2. */
const USERNAME = /^[a-zA-Z0-9@.\-_#+]+$/;
/** Names ValidateUsername reserves: the superuser (pinned server name) and the gateway (services/users/users.go:106-128). */
const RESERVED = ["VelociraptorServer", "GRPC_GW"];

/** Refuses what Velociraptor would refuse at boot, so the error comes at preview time and names the field. */
export function checkUsers(apiUsers: UserSpec[], guiUsers: UserSpec[]): void {
  const seen = new Map<string, string>();
  for (const [field, users] of [["apiUsers", apiUsers], ["guiUsers", guiUsers]] as const) {
    users.forEach((u, i) => {
      const at = `${field}[${i}]`;
      if (!USERNAME.test(u.name) || u.name.length > 64) throw new InputError(`${at}.name`, `"${u.name}" is not a Velociraptor user name`, "Use letters, digits and @ . - _ # + (at most 64 characters).");
      if (RESERVED.includes(u.name)) throw new InputError(`${at}.name`, `"${u.name}" is reserved by Velociraptor`, "Choose another name.");
      if (seen.has(u.name)) throw new InputError(`${at}.name`, `"${u.name}" is already listed in ${seen.get(u.name)}`, "API and GUI users need distinct names: an API user has no password, a GUI user has one.");
      seen.set(u.name, field);
      if (!u.roles.length) throw new InputError(`${at}.roles`, "empty", `Give at least one of ${VELOCIRAPTOR_ROLES.join(", ")}.`);
      for (const r of u.roles)
        if (!(VELOCIRAPTOR_ROLES as readonly string[]).includes(r)) throw new InputError(`${at}.roles`, `"${r}" is not a Velociraptor role`, `Use ${VELOCIRAPTOR_ROLES.join(", ")}.`);
    });
  }
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface BootstrapInput {
  /** Path of the velociraptor binary on the server. */
  binary: string;
  /** Path of server.config.yaml on the server. */
  config: string;
  apiUsers: UserSpec[];
  guiUsers: (UserSpec & { password: string })[];
  /** Datastore.location on the server: the user records live there, and the list of users this script made. */
  datastore: string;
}

/** The file, in the datastore, listing the users the bootstrap made ("<name> <record file>" per line). */
export const MANAGED_USERS_FILE = "megaraptor-users";

/** Where every target keeps the rendered script, next to the config. */
export const BOOTSTRAP_PATH = "/etc/velociraptor/bootstrap-users.sh";

/** A POSIX sh script (dash, bash, busybox ash in the official alpine image) that makes the users exist; idempotent. */
export function userBootstrapScript(i: BootstrapInput): string {
  checkUsers(i.apiUsers, i.guiUsers);
  const lines = [
    "#!/bin/sh",
    "# Megaraptor: Velociraptor users and roles. Generated; holds GUI passwords (keep it readable by the service user only).",
    "# Runs before every server start: the commands write the datastore directly, which a running server would not notice.",
    "set -eu",
    `vr() { ${q(i.binary)} --config ${q(i.config)} "$@"; }`,
  ];
  for (const u of i.apiUsers) {
    lines.push(`# API user ${u.name}: its certificate comes from Megaraptor; this creates the user record and sets its roles.`);
    lines.push(`vr config api_client --name ${q(u.name)} --role ${q(u.roles.join(","))} /dev/null >/dev/null`);
  }
  for (const u of i.guiUsers) {
    lines.push(`# GUI user ${u.name}: created once with its password; afterwards only its roles are reset.`);
    lines.push(`if vr user show ${q(u.name)} >/dev/null 2>&1; then`);
    lines.push(`  vr acl grant ${q(u.name)} --role ${q(u.roles.join(","))} >/dev/null`);
    lines.push("else");
    lines.push(`  vr user add ${q(u.name)} ${q(u.password)} --role ${q(u.roles.join(","))} >/dev/null`);
    lines.push("fi");
  }
  const all = [...i.apiUsers, ...i.guiUsers];
  const ds = i.datastore.replace(/\/+$/, "");
  const managed = `${ds}/${MANAGED_USERS_FILE}`;
  lines.push(
    "# Users this script made before and no longer listed: revoked as Velociraptor's user_delete() does (empty policy,",
    "# then the user record removed), so their certificates get 'User not found'. Names compare case-insensitively, as",
    "# Velociraptor's user store does.",
    `keep=' ${all.map((u) => u.name.toLowerCase()).join(" ")} '`,
    `if [ -f ${q(managed)} ]; then`,
    "  while read -r name record; do",
    `    case "$record" in *.db) ;; *) continue ;; esac`,
    `    case "$record" in */*|.*) continue ;; esac`,
    `    lower=$(printf '%s' "$name" | tr 'A-Z' 'a-z')`,
    `    case "$keep" in *" $lower "*) continue ;; esac`,
    `    if vr user show "$name" >/dev/null 2>&1; then vr acl grant "$name" '{}' >/dev/null; fi`,
    `    rm -f ${q(`${ds}/users/`)}"$record"`,
    `  done < ${q(managed)}`,
    "fi",
    `mkdir -p ${q(ds)}`,
    `printf '%s\\n' ${all.map((u) => q(`${u.name} ${userRecordFile(u.name)}`)).join(" ")} > ${q(`${managed}.new`)}`,
    `mv -f ${q(`${managed}.new`)} ${q(managed)}`,
    "",
  );
  return lines.join("\n");
}
