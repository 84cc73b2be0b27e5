/**
 * The Velociraptor stand-in: the executable installed as `velociraptor` where no Velociraptor binary can be had
 * (the engine tests' Debian host). It is the API test server behind Velociraptor's command line, reading the
 * server.config.yaml that components/config/render.ts produces and refusing what Velociraptor 0.77.2 refuses
 * (docs/velociraptor-rules.md):
 *   velociraptor --config server.config.yaml frontend [-v]
 *   velociraptor --config … config api_client --name N [--role R1,R2] [--password] OUTPUT
 *   velociraptor --config … user add NAME [PASSWORD] --role R1,R2 | user show NAME
 *   velociraptor --config … [--org O] acl grant NAME ['{"policy":…}'] [--role R] [--merge] | acl show NAME [--effective]
 *   velociraptor version
 * It proves that a deployment installs, configures, bootstraps users and serves the API as Velociraptor would; it
 * is not Velociraptor (no clients, no VQL engine beyond the test server's model, no real GUI).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { arch, platform } from "node:os";
import { createInterface } from "node:readline";
import { stringify } from "yaml";
import { encryptPrivateKey } from "../components/pki/x509.js";
import { effectivePolicy, emptyPolicy, isRootOrg, PERMISSIONS, permissionField, policyFromGrantJson, type AclPolicy } from "./acl.js";
import type { FixtureInput } from "./fixture-schema.js";
import { apiHostname, ConfigRefusedError, loadServerConfig, type ServerConfig } from "./server-config.js";
import { parseArgs, UsageError, type CommandSpec } from "./standin-args.js";
import { startHttpListeners } from "./frontend-http.js";
import { DEFAULT_FIXTURE, startTestServer } from "./index.js";
import { UserStore, validateUsername, VelociraptorRefusal } from "./user-store.js";
import { generateServerCert } from "./velociraptor-certs.js";

export const STANDIN_VERSION = "0.77.2";

const COMMANDS: CommandSpec[] = [
  { name: "frontend", flags: { minion: { value: false }, node: { value: true }, disable_artifact_compression: { value: false }, "disable-panic-guard": { value: false } }, args: [] },
  { name: "config api_client", flags: { name: { value: true, required: true }, role: { value: true }, password: { value: false }, pkcs12: { value: true } }, args: [{ name: "output", required: true }] },
  { name: "user add", flags: { role: { value: true, required: true } }, args: [{ name: "username", required: true }, { name: "password" }] },
  { name: "user show", flags: { with_hashes: { value: false } }, args: [{ name: "username", required: true }] },
  { name: "acl grant", flags: { role: { value: true }, merge: { value: false } }, args: [{ name: "principal", required: true }, { name: "policy" }] },
  { name: "acl show", flags: { effective: { value: false } }, args: [{ name: "principal", required: true }] },
  { name: "version", flags: {}, args: [] },
];

/** bin/users.go ServerChangeWarning (printed by `user add` and `acl grant`). */
const SERVER_CHANGE_WARNING = `
NOTE: This command changes the underlying data in the data store.

These changes may not be immediately visible to a running server
so you should restart the server to pick up these changes.
The recommended way to make these changes is via the API.
See the following for more information

https://docs.velociraptor.app/docs/server_automation/server_api/`;

export interface StandInIo {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  /** Reads one line for a password prompt; undefined when there is no terminal to read from. */
  readPassword?: () => Promise<string | undefined>;
  /** The fixture the frontend serves (the bundled default when absent). */
  fixture?: FixtureInput;
}

/** A failure printed as kingpin's FatalIfError does: `velociraptor: error: <command>: <message>`. */
class CommandFailed extends Error {}

/** The default fixture (inside the bundle, build-standin.ts embeds it where DEFAULT_FIXTURE points). */
function defaultFixture(): FixtureInput {
  return JSON.parse(readFileSync(DEFAULT_FIXTURE, "utf8")) as FixtureInput;
}

function storeFor(c: ServerConfig, refreshSeconds = 0): UserStore {
  return new UserStore(c.datastoreLocation, { refreshSeconds, usernameRules: { pinnedGwName: c.raw.API?.pinned_gw_name || undefined, disableUnicodeUsernames: c.disableUnicodeUsernames } });
}

function splitRoles(roles: string): string[] {
  return roles.split(",");
}

/** Go's encoding/json of the policy struct (snake_case, omitempty) — what `acl show` prints. */
function policyAsGoJson(p: AclPolicy): string {
  const out: Record<string, unknown> = {};
  if (p.publishQueues.length) out.publish_queues = p.publishQueues;
  for (const perm of PERMISSIONS) if (p.permissions.includes(perm)) out[permissionField(perm)] = true;
  if (p.roles.length) out.roles = p.roles;
  return JSON.stringify(out);
}

/** RFC 7396 JSON merge patch (jsonpatch.MergePatch in `acl grant --merge`). */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target && typeof target === "object" && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

async function configApiClient(c: ServerConfig, o: { name: string; role?: string; password: boolean; output: string }, io: StandInIo): Promise<void> {
  const store = storeFor(c);
  validateUsername(o.name, store.usernameRules);
  if (!c.raw.Client) throw new CommandFailed("Config does not have a client config!");
  const cert = await generateServerCert({ certificate: c.caCertificate, privateKey: c.caPrivateKey }, o.name, { validityDays: c.certificateValidityDays });
  let privateKey = cert.privateKey;
  if (o.password) {
    const password = await io.readPassword?.();
    if (password === undefined) throw new CommandFailed("Password: unable to read a password without a terminal");
    privateKey = encryptPrivateKey(privateKey, password);
  }
  if (c.api.bindScheme !== "tcp" && c.api.bindScheme !== "unix") throw new CommandFailed("Unknown value for API.BindAddress");
  const connection = c.api.bindScheme === "unix" ? `unix://${c.api.bindAddress}` : `${apiHostname(c)}:${c.api.bindPort}`;
  try {
    // yaml.Marshal of ApiClientConfig, fields in proto order (bin/config.go 447–467).
    const yaml = stringify({ ca_certificate: c.caCertificate, client_cert: cert.certificate, client_private_key: privateKey, api_connection_string: connection, name: o.name }, { lineWidth: 0 });
    writeFileSync(o.output, yaml, { mode: 0o600 });
  } catch (err) {
    throw new CommandFailed(`Unable to open output file: ${(err as Error).message}`);
  }
  io.stdout(`Creating API client file on ${o.output}.\n`);
  if (o.role) {
    try {
      store.grantRoles("root", o.name, splitRoles(o.role));
    } catch (err) {
      throw new CommandFailed(`Unable to set role ACL: ${(err as Error).message}`);
    }
    if (!store.hasUser(o.name)) store.setUser({ name: o.name });
  } else {
    io.stdout(`No role added to user ${o.name}. You will need to do this later using the 'acl grant' command.`);
  }
}

async function userAdd(c: ServerConfig, o: { username: string; password?: string; role: string }, io: StandInIo): Promise<void> {
  const store = storeFor(c);
  try {
    validateUsername(o.username, store.usernameRules);
  } catch (err) {
    throw new CommandFailed(`add user: ${(err as Error).message}`);
  }
  // Roles are written before the password is read, as Velociraptor does: a failed prompt leaves the ACL behind.
  store.grantRoles("root", o.username, splitRoles(o.role));
  let password = o.password;
  const type = c.gui?.authenticatorType ?? "Basic";
  if (!/^basic$/i.test(type)) {
    io.stdout(`Authentication will occur via ${type} - therefore no password needs to be set.`);
    password = Buffer.from(crypto.getRandomValues(new Uint8Array(100))).toString("latin1");
  } else if (!password) {
    io.stdout("Enter user's password: ");
    password = await io.readPassword?.();
    if (password === undefined) throw new CommandFailed("Unable to read password from terminal: inappropriate ioctl for device");
  }
  const existing = store.hasUser(o.username) ? store.getUser(o.username) : { name: o.username };
  store.setUser(existing);
  store.setPassword(o.username, password);
  io.stdout(`${SERVER_CHANGE_WARNING}\n`);
}

/** bin/users.go doShowUser: the record (hashes cleared) as indented JSON; "User not found: N" without one. */
function userShow(c: ServerConfig, o: { username: string }, io: StandInIo): void {
  const record = storeFor(c).getUser(o.username);
  io.stdout(JSON.stringify({ name: record.name, ...(record.readOnly ? { read_only: true } : {}), ...(record.locked ? { locked: true } : {}) }, null, 1));
}

function orgExists(orgId: string | undefined, fixture: FixtureInput): boolean {
  return isRootOrg(orgId) || fixture.orgs.some((o) => o.id === orgId);
}

function aclGrant(c: ServerConfig, o: { principal: string; policy?: string; role?: string; merge: boolean; org?: string }, fixture: FixtureInput, io: StandInIo): void {
  const store = storeFor(c);
  store.getUser(o.principal);
  if (!orgExists(o.org, fixture)) throw new CommandFailed("Org not found");
  const org = o.org || "root";
  const existing = store.getPolicy(org, o.principal) ?? emptyPolicy();
  const text = o.policy ?? "{}";
  const policy = o.merge ? policyFromGrantJson(JSON.stringify(mergePatch(JSON.parse(policyAsGoJson(existing)), JSON.parse(text)))) : policyFromGrantJson(text);
  // Velociraptor 0.77.2 does not refuse an unknown role here (bin/grant.go 129–133 tests a stale err): it is stored.
  for (const role of o.role ? splitRoles(o.role) : []) if (!policy.roles.includes(role)) policy.roles.push(role);
  store.setPolicy(org, o.principal, policy);
  io.stdout(`${SERVER_CHANGE_WARNING}\n`);
}

function aclShow(c: ServerConfig, o: { principal: string; effective: boolean; org?: string }, io: StandInIo): void {
  const store = storeFor(c);
  const org = o.org || "root";
  const policy = store.getPolicy(org, o.principal);
  if (!policy) throw new CommandFailed(`Unable to load existing policy for '${o.principal}': NotFoundError `);
  if (o.effective) {
    const e = effectivePolicy(policy, org);
    if (!e.ok) throw new CommandFailed(`Unable to load existing policy for '${o.principal}' `);
    io.stdout(`${policyAsGoJson({ roles: [], permissions: [...e.permissions], publishQueues: e.publishQueues })}\n`);
  } else io.stdout(`${policyAsGoJson(policy)}\n`);
}

function versionYaml(): string {
  return stringify({
    name: "velociraptor",
    description: "Velociraptor stand-in (Megaraptor API test server), not Velociraptor",
    version: STANDIN_VERSION,
    compiler: `node ${process.version}`,
    system: platform(),
    architecture: arch() === "x64" ? "amd64" : arch(),
  });
}

async function frontend(c: ServerConfig, verbose: boolean, io: StandInIo): Promise<void> {
  const fixture = io.fixture ?? defaultFixture();
  const users = storeFor(c, c.aclLruTimeoutSec);
  const server = await startTestServer({ serverConfig: c, users, fixture, verbose });
  const http = await startHttpListeners({
    certificate: c.frontend!.certificate,
    privateKey: c.frontend!.privateKey,
    frontend: c.frontend ? { bindAddress: c.frontend.bindAddress, bindPort: c.frontend.bindPort, basePath: c.frontend.basePath } : undefined,
    gui: c.gui?.bindPort ? c.gui : undefined,
    users,
  });
  io.stderr(
    `Velociraptor stand-in ${STANDIN_VERSION} (Megaraptor API test server, not Velociraptor): gRPC API on ${server.address}` +
      `${http.frontendPort ? `, frontend on ${c.frontend!.bindAddress}:${http.frontendPort}` : ""}${http.guiPort ? `, GUI on ${c.gui!.bindAddress}:${http.guiPort}` : ""}` +
      `, datastore ${c.datastoreLocation} (${users.listUsers().length} users)\n`,
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
  await Promise.all([server.stop(), http.close()]);
  users.close();
}

/** Runs one stand-in command; returns the exit code. */
export async function runStandIn(argv: string[], io: StandInIo): Promise<number> {
  let command = "";
  try {
    const p = parseArgs(argv, COMMANDS);
    command = p.command;
    if (p.command === "help") {
      io.stdout(`usage: velociraptor [<flags>] <command> [<args> ...]\n\nVelociraptor stand-in (Megaraptor API test server). Commands: ${COMMANDS.map((c) => c.name).join(", ")}.\n`);
      return 0;
    }
    if (p.command === "version") {
      io.stdout(versionYaml());
      return 0;
    }
    const src = { path: p.global.config, env: io.env };
    if (p.command === "frontend") {
      let c: ServerConfig;
      try {
        c = loadServerConfig(src, { frontend: true, runAsUser: true });
      } catch (err) {
        throw new CommandFailed(`loading config file: ${(err as Error).message}`);
      }
      await frontend(c, p.global.verbose, io);
      return 0;
    }
    if (p.command === "config api_client") {
      const c = loadServerConfig(src, { ca: true, runAsUser: true });
      await configApiClient(c, { name: String(p.flags.name), role: p.flags.role === undefined ? undefined : String(p.flags.role), password: p.flags.password === true, output: p.args.output! }, io);
      return 0;
    }
    const c = (() => {
      try {
        return loadServerConfig(src, { frontend: true, runAsUser: p.command !== "acl show" && p.command !== "user show" });
      } catch (err) {
        throw new CommandFailed(`Unable to load config file: ${(err as Error).message}`);
      }
    })();
    const fixture = io.fixture ?? defaultFixture();
    if (p.command === "user add") await userAdd(c, { username: p.args.username!, password: p.args.password, role: String(p.flags.role) }, io);
    else if (p.command === "user show") userShow(c, { username: p.args.username! }, io);
    else if (p.command === "acl grant") aclGrant(c, { principal: p.args.principal!, policy: p.args.policy, role: p.flags.role === undefined ? undefined : String(p.flags.role), merge: p.flags.merge === true, org: p.global.org }, fixture, io);
    else if (p.command === "acl show") aclShow(c, { principal: p.args.principal!, effective: p.flags.effective === true, org: p.global.org }, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) io.stderr(`velociraptor: error: ${err.message}, try --help\n`);
    else if (err instanceof CommandFailed || err instanceof VelociraptorRefusal || err instanceof ConfigRefusedError || err instanceof Error) io.stderr(`velociraptor: error: ${command}: ${err.message}\n`);
    return 1;
  }
}

function readLine(): Promise<string | undefined> {
  if (!process.stdin.isTTY) return Promise.resolve(undefined);
  const rl = createInterface({ input: process.stdin, terminal: true });
  return new Promise((resolve) => rl.question("", (answer) => (rl.close(), resolve(answer))));
}

/** The executable: `node standin.mjs <args>` (installed as /usr/local/bin/velociraptor on the engine tests' host). */
export async function main(): Promise<void> {
  const fixturePath = process.env.VELOCIRAPTOR_STANDIN_FIXTURE;
  const code = await runStandIn(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
    env: process.env,
    readPassword: readLine,
    fixture: fixturePath ? (JSON.parse(readFileSync(fixturePath, "utf8")) as FixtureInput) : undefined,
  });
  process.exitCode = code;
}
