/**
 * A wire-compatible Velociraptor API server for tests and manual trials: real gRPC over real mutual TLS, answering
 * VQL from an in-memory model with Velociraptor's documented streaming behaviour (batches by max_row / max_wait,
 * the final batch always sent, logs as separate messages, VQL errors as log lines, permission errors as status).
 * Callers are admitted by Velociraptor 0.77.2's rules (docs/velociraptor-rules.md): the certificate must verify as
 * Go verifies it (serverAuth), the user must have a record in the datastore's users/, and roles come from its acl/.
 */
import * as grpc from "@grpc/grpc-js";
import { EventEmitter, once } from "node:events";
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify as toYaml } from "yaml";
import { apiServiceDefinition, type WireVFSFileBuffer, type WireVQLCollectorArgs } from "../proto/wire.js";
import { parseVql } from "../velociraptor/vql/parser.js";
import { packageRoot } from "../core/paths.js";
import type { IssuedCert } from "../components/pki/x509.js";
import type { ApiClientConfig } from "../velociraptor/config.js";
import { Evaluator, Scope } from "./evaluator.js";
import type { FixtureInput } from "./fixture-schema.js";
import { GENERATED_COLUMNS, Model, type Row } from "./model.js";
import { generatedBatches } from "./generated-batches.js";
import { createTestPki, type ClientName, type TestPki } from "./pki.js";
import { apiStatus, GoError, grpcStatus as status, orgNotFound, permissionDenied, rawStatus, userFromContext, type AuthContext, type Principal } from "./api-auth.js";
import type { ServerConfig } from "./server-config.js";
import { bootstrapUser, SUPERUSER, UserStore } from "./user-store.js";
import { generateServerCert } from "./velociraptor-certs.js";
import { encodeVQLResponse, type VQLResponseOut } from "./vql-response-encode.js";

export { createTestPki, badServerCertificates, type TestPki, type ClientName } from "./pki.js";
export { Model } from "./model.js";
export type { FixtureInput } from "./fixture-schema.js";

export const DEFAULT_FIXTURE = join(packageRoot(), "test", "fixtures", "default.json");

export interface TestServerOptions {
  /** A fixture file path or object; the default fixture otherwise. */
  fixture?: string | FixtureInput;
  /** 0 (default) = an ephemeral port. */
  port?: number;
  host?: string;
  pki?: TestPki;
  /** Serve with this certificate instead of the valid VelociraptorServer one (TLS failure tests). */
  serverCert?: IssuedCert;
  /** Bind only after this many milliseconds (retry tests); the port is reserved up front. */
  lateStartMs?: number;
  /** How long new collections stay RUNNING. */
  flowCompletionMs?: number;
  /**
   * A Velociraptor datastore folder: its users/ and acl/ records decide who may call. Without one, a fresh folder is
   * made and every fixture user is bootstrapped in it as a deployment does (`config api_client --role`, `acl grant`).
   */
  datastore?: string;
  /** An open user store to use instead (the Velociraptor stand-in passes one that reloads on Velociraptor's schedule). */
  users?: UserStore;
  /** Serve as this loaded server.config.yaml says: its CA, Frontend certificate, API bind address/port, datastore. */
  serverConfig?: ServerConfig;
  /** `frontend -v`: Velociraptor's api.Status() then passes error details through. */
  verbose?: boolean;
  /**
   * Run `SELECT * FROM source(...)` over generated results row by row through the evaluator, as every other statement
   * runs, instead of sending batches of JSON text (the reference the direct paths are tested against).
   */
  rowByRow?: boolean;
}

/** The api_client.yaml fields, typed as the client reads them. */
export type ApiClientYaml = ApiClientConfig;

export interface TestServer {
  port: number;
  address: string;
  /** The test PKI (not available when serving from a server.config.yaml). */
  pki: TestPki;
  /** Users and roles, in Velociraptor's datastore layout under `datastore`. */
  users: UserStore;
  datastore: string;
  /**
   * What `velociraptor config api_client --name NAME --role ROLES` does on a real server: a certificate with
   * serverAuth + clientAuth from this server's CA, the roles granted, the user record created. `roles` may map org
   * ids to roles (other orgs as `acl grant --org`). Returns the api_client.yaml fields.
   */
  provisionApiUser(name: string, roles: string[] | Record<string, string[]>): Promise<ApiClientYaml>;
  model: Model;
  stats: ServerStats;
  /**
   * "batch" (rows, VQL) after a batch with rows went to the client: tests cancel "mid-stream" on it, at a point that
   * is known to be inside a running query rather than guessed by a delay.
   */
  events: EventEmitter;
  /** Resolves once the server listens (immediately unless lateStartMs). */
  ready: Promise<void>;
  apiClientConfig(user?: ClientName): ApiClientYaml;
  writeApiClientYaml(dir: string, user?: ClientName): string;
  /**
   * Writes every generated flow result to JSON Lines files (./result-store.ts); `SELECT * FROM source(...)` over
   * them is then sent from the files, byte for byte what the row-by-row path sends. Only `flowIds` when given.
   */
  storeResults(flowIds?: readonly string[]): Promise<void>;
  /**
   * Graceful stop: open calls may finish; any still open after 3 s are cut (a stalled reader cannot hold it), and a
   * connection still in its TLS handshake a second later is left to close on its own.
   */
  stop(): Promise<void>;
  /** Abrupt stop: every open stream is cut (for "server died mid-stream" tests). */
  kill(): void;
}

const USER_OF: Record<ClientName, string> = {
  admin: "admin",
  reader: "reader",
  investigator: "investigator",
  noPermissions: "noperm",
  unknownUser: "mallory",
  foreignCa: "admin",
  expired: "admin",
  clientAuthOnly: "admin",
  gateway: "GRPC_GW",
};

async function freePort(host: string): Promise<number> {
  const s = createServer();
  s.listen(0, host);
  await once(s, "listening");
  const port = (s.address() as { port: number }).port;
  s.close();
  await once(s, "close");
  return port;
}

/** Go's time.Duration String() for a span in milliseconds: "1.5s", "2m3.25s", "850ms". */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const trim = (x: number) => x.toFixed(3).replace(/\.?0+$/, "");
  const m = Math.floor(ms / 60_000);
  const s = (ms - m * 60_000) / 1000;
  return m ? `${m}m${trim(s)}s` : `${trim(s)}s`;
}

/** µs since the epoch: 51 bits, exact in a double (the encoder writes it as a uint64 varint). */
function nowUs(): number {
  return Date.now() * 1000;
}

/** A statement's batch without rows. */
const EMPTY_ARRAY = Buffer.from("[]");

/**
 * proto.API with Query's responses encoded by ./vql-response-encode.ts (the same bytes as the loaded codec, Response
 * taken as bytes so a stored batch is never decoded to a string and encoded again). Other methods keep the codec.
 */
function serviceDefinition(): grpc.ServiceDefinition {
  const def = apiServiceDefinition();
  // A batch arrives encoded already (runQuery encodes it before its rows' block is reused); a log line as fields.
  return { ...def, Query: { ...def.Query!, responseSerialize: (m: VQLResponseOut | Buffer) => (Buffer.isBuffer(m) ? m : encodeVQLResponse(m)) } };
}


export interface ServerStats {
  /** Queries currently running. */
  active: number;
  /** Queries that ended because the client cancelled or went away. */
  cancelled: number;
  completed: number;
  /** The last VQLCollectorArgs received, as decoded (tests inspect env and options). */
  lastRequest?: WireVQLCollectorArgs;
}

/** api/api.go Query, up to streamQuery: identity, org switch, ANY_QUERY, then a Query must be given. */
function admitQuery(model: Model, auth: AuthContext, call: grpc.ServerWritableStream<WireVQLCollectorArgs, VQLResponseOut | Buffer>): { user: string; orgId: string } | grpc.ServiceError {
  const args = call.request;
  let who: Principal;
  try {
    who = userFromContext(call as never, auth);
  } catch (err) {
    // Query returns GetUserFromContext's error unchanged: UNKNOWN "User not found: <name>" / "Must set a username".
    return rawStatus(err as GoError);
  }
  let orgId = who.org;
  if (args.org_id) {
    if (!model.org(args.org_id)) return apiStatus(orgNotFound(), auth.verbose);
    orgId = args.org_id;
  }
  const access = auth.users.checkAccess(orgId, who.name, "ANY_QUERY");
  if (access.allowed === false && access.error) return status(grpc.status.PERMISSION_DENIED, `User ${who.name} is not allowed to run queries.`);
  if (!access.allowed) return status(grpc.status.PERMISSION_DENIED, `Permission denied: User ${who.name} requires permission ANY_QUERY to run queries`);
  // streamQuery: a plain error, so UNKNOWN like every other error Query returns.
  if (!args.Query?.length) return status(grpc.status.UNKNOWN, "Query should be specified.");
  return { user: who.name, orgId };
}

async function runQuery(model: Model, stats: ServerStats, auth: AuthContext, events: EventEmitter, call: grpc.ServerWritableStream<WireVQLCollectorArgs, VQLResponseOut | Buffer>): Promise<void> {
  const args = call.request;
  stats.lastRequest = args;
  const admitted = admitQuery(model, auth, call);
  if (admitted instanceof Error) return void call.emit("error", admitted);
  const { user, orgId } = admitted;
  const org = model.org(orgId)!;
  const perms = model.permissions(user, orgId);

  const maxRow = Number(args.max_row);
  const maxWaitMs = (Number(args.max_wait) || 10) * 1000;
  const timeoutS = Number(args.timeout) || 0;
  const abort = new AbortController();
  const onCancel = () => abort.abort();
  call.on("cancelled", onCancel);
  call.on("close", onCancel);
  let timedOut = false;
  const timer = timeoutS > 0 ? setTimeout(() => ((timedOut = true), abort.abort()), timeoutS * 1000) : undefined;
  const started = Date.now();
  stats.active++;

  const aborted = new Promise<void>((r) => abort.signal.addEventListener("abort", () => r(), { once: true }));
  const writeNow = async (msg: VQLResponseOut | Buffer) => {
    if (abort.signal.aborted && !timedOut) return;
    // Back-pressure: a million-row answer must not pile up in memory when the client reads slowly.
    if (!call.write(msg)) await Promise.race([once(call, "drain"), aborted]);
  };
  // Writes go out one after another: a log line written while a batch waits for drain waits behind it, so at most one
  // drain wait (and its listeners) exists per call — not one per log line of a fast stored-result stream.
  let queue: Promise<void> = Promise.resolve();
  const write = (msg: VQLResponseOut | Buffer): Promise<void> => {
    const p = queue.then(() => writeNow(msg));
    queue = p.catch(() => undefined);
    return p;
  };
  // A log line is fire-and-forget; a failed stream ends the call through its own cancel/close events.
  const log = (message: string) => void write({ log: `${message}\n`, timestamp: nowUs() }).catch(() => undefined);

  const scope = new Scope();
  for (const e of args.env ?? []) scope.set(e.key, e.value);
  const evaluator = new Evaluator({ model, user, org, permissions: perms, log, signal: abort.signal });

  try {
    for (const request of args.Query) {
      log("Starting query execution.");
      const parsed = parseVql(request.VQL ?? "");
      if (parsed.errors.length) {
        log(`VQL Error: ${parsed.errors[0]!.message}`);
        continue;
      }
      for (let index = 0; index < parsed.statements.length; index++) {
        const st = parsed.statements[index]!;
        let part = 0;
        let batch: Row[] = [];
        let lastSend = Date.now();
        // The batch is taken before the write waits for drain, and the max_wait timer never starts a second flush
        // while one is waiting: otherwise a slow reader receives the same batch twice.
        let flushing: Promise<void> | undefined;
        // One response message: the batch's JSON array (UTF-8), its row count and columns.
        const respond = async (Response: Buffer, count: number, Columns: string[]) => {
          const thisPart = part++;
          lastSend = Date.now();
          // Encoded now: Response may be a view of a block its producer reuses once this batch is written.
          await write(encodeVQLResponse({ Response, Columns, Query: { VQL: request.VQL, Name: request.Name }, query_id: index, part: thisPart, timestamp: nowUs() }));
          // The size in bytes, as Velociraptor logs len(result.Payload) (api/query.go streamQuery).
          log(`Time ${((Date.now() - started) / 1000).toFixed(3)}: ${request.Name}: Sending response part ${thisPart} ${Response.length} B (${count} rows).`);
          if (count) events.emit("batch", count, request.VQL);
        };
        const send = async () => {
          const rows = batch;
          batch = [];
          await respond(Buffer.from(JSON.stringify(rows)), rows.length, rows.length ? Object.keys(rows[0]!) : []);
        };
        // A generated result is sent as its stored file holds it (./result-store.ts), or as rows built as text
        // (./generated-batches.ts), in full batches of max_row rows.
        const direct = await evaluator.directSource(st, scope);
        if (direct) {
          const { result, start, count } = direct;
          const rowsPerBatch = maxRow > 0 ? maxRow : 1;
          const stored = model.results.has(result);
          const batches = stored ? model.results.batches(result, start, count, rowsPerBatch, abort.signal) : generatedBatches(result.generate.rows, result.generate.seed, start, count, rowsPerBatch);
          const columns = stored ? model.results.columns(result) : [...GENERATED_COLUMNS];
          let sent = 0;
          for await (const b of batches) {
            if (abort.signal.aborted) break;
            await respond(b.json, b.rows, columns);
            sent += b.rows;
            if (!stored) model.generatedServed += b.rows;
          }
          if (abort.signal.aborted) break;
          // As the row-by-row path: the last batch carries the last rows; only a statement without rows sends "[]".
          if (!sent) await respond(EMPTY_ARRAY, 0, []);
          continue;
        }
        const flush = async (final = false) => {
          while (flushing) await flushing;
          // The timer may have just sent these rows; only a statement's last batch goes out empty.
          if (!final && !batch.length) return;
          flushing = send().finally(() => (flushing = undefined));
          await flushing;
        };
        const waiter = setInterval(() => {
          if (!flushing && batch.length && Date.now() - lastSend >= maxWaitMs) void flush();
        }, Math.min(maxWaitMs, 250));
        try {
          for await (const row of evaluator.statement(st, scope)) {
            if (abort.signal.aborted) break;
            if (batch.length >= maxRow) await flush();
            batch.push(row);
          }
        } finally {
          clearInterval(waiter);
        }
        if (abort.signal.aborted) break;
        // LET produces no messages; every SELECT ends with a (possibly empty) batch.
        if (st.kind === "select") await flush(true);
      }
      if (abort.signal.aborted) break;
    }
    // api/query.go 130–131: logged when the timeout fires, with the elapsed time as a Go duration.
    if (timedOut) log(`collect: <red>Timeout Error:</> Collection timed out after ${goDuration(Date.now() - started)}`);
    log(`DEBUG:Query Stats: {"RowsScanned":0,"PluginsCalled":0,"FunctionsCalled":0,"ProtocolSearch":0,"ScopeCopy":0}`);
  } catch (err) {
    log(`ERROR:${(err as Error).message}`);
  } finally {
    if (timer) clearTimeout(timer);
    stats.active--;
    if (abort.signal.aborted && !timedOut) stats.cancelled++;
    else stats.completed++;
    call.off("cancelled", onCancel);
    // The last log lines (query stats, a timeout) are queued writes: they go out before the stream ends.
    await queue;
    if (!call.cancelled && !call.destroyed) call.end();
  }
}

/** How long stop() waits for open calls to finish before cutting them. */
const STOP_GRACE_MS = 3000;
/** How long stop() then waits for the cut connections to close before it ends regardless. */
const STOP_AFTER_CUT_MS = 1000;

/** VFSGetBuffer / PushEvents: identity and org through api.Status(), as the unary calls do. */
function admitUnary(model: Model, auth: AuthContext, call: { getAuthContext(): unknown; metadata?: grpc.Metadata }, orgId: string): Principal | grpc.ServiceError {
  let who: Principal;
  try {
    who = userFromContext(call as never, auth);
  } catch (err) {
    return apiStatus(err as GoError, auth.verbose);
  }
  const sameOrg = (a: string, b: string) => (a || "root") === (b || "root");
  if (!sameOrg(who.org, orgId)) {
    if (!model.org(orgId)) return apiStatus(orgNotFound(), auth.verbose);
    return { name: who.name, org: orgId || "root" };
  }
  return who;
}

/** Starts a server. Await `ready` if you passed lateStartMs. */
export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const config = opts.serverConfig;
  // From a server.config.yaml there is no test PKI: the config's CA and Frontend certificate are used.
  const pki = config ? undefined : (opts.pki ?? (await createTestPki()));
  const model = typeof opts.fixture === "object" ? new Model(opts.fixture) : Model.fromFile(opts.fixture ?? DEFAULT_FIXTURE);
  if (opts.flowCompletionMs !== undefined) model.flowCompletionMs = opts.flowCompletionMs;
  if (opts.rowByRow) model.directSource = false;
  const host = config ? config.api.bindAddress : (opts.host ?? "127.0.0.1");
  const caCertificate = config ? config.caCertificate : pki!.ca.certificate;
  const serverCert = config ? { certificate: config.frontend!.certificate, privateKey: config.frontend!.privateKey } : (opts.serverCert ?? pki!.server);
  const stats: ServerStats = { active: 0, cancelled: 0, completed: 0 };

  const datastore = opts.users?.location ?? opts.datastore ?? config?.datastoreLocation ?? mkdtempSync(join(tmpdir(), "vr-datastore-"));
  const users = opts.users ?? new UserStore(datastore, { usernameRules: { pinnedGwName: config?.raw.API?.pinned_gw_name || undefined, disableUnicodeUsernames: config?.disableUnicodeUsernames } });
  // A fresh datastore gets the fixture's users the way a deployment's bootstrap creates them.
  if (!opts.users && !opts.datastore && !config) for (const u of model.fixture.users) bootstrapUser(users, u.name, u.roles);
  model.users = users;
  const auth: AuthContext = {
    users,
    caCertificate,
    gatewayName: config?.api.pinnedGwName ?? "GRPC_GW",
    orgExists: (id) => Boolean(model.org(id)),
    verbose: opts.verbose ?? false,
  };
  const events = new EventEmitter();
  const server = new grpc.Server({ "grpc.max_send_message_length": -1, "grpc.max_receive_message_length": 64 * 1024 * 1024 });

  server.addService(serviceDefinition(), {
    Query: (call: grpc.ServerWritableStream<WireVQLCollectorArgs, VQLResponseOut | Buffer>) => void runQuery(model, stats, auth, events, call),
    VFSGetBuffer: (call: grpc.ServerUnaryCall<WireVFSFileBuffer, WireVFSFileBuffer>, cb: grpc.sendUnaryData<Partial<WireVFSFileBuffer>>) => {
      const who = admitUnary(model, auth, call, call.request.org_id);
      if (who instanceof Error) return cb(who);
      const access = users.checkAccess(who.org, who.name, "READ_RESULTS");
      if (!access.allowed) return cb(permissionDenied(access.allowed === false ? access.error : undefined, "User is not allowed to view the VFS."));
      const data = model.readFileStore(call.request.org_id, call.request.components, Number(call.request.offset), call.request.length);
      if (!data) return cb(status(grpc.status.NOT_FOUND, `file ${call.request.components.join("/")} not found`));
      cb(null, { ...call.request, data });
    },
    PushEvents: (call: grpc.ServerUnaryCall<{ artifact: string; org_id: string }, object>, cb: grpc.sendUnaryData<object>) => {
      const who = admitUnary(model, auth, call, call.request.org_id);
      if (who instanceof Error) return cb(who);
      if (who.name !== SUPERUSER) {
        // api/events.go: GetEffectivePolicy errors go through Status(); a missing PUBLISH is PERMISSION_DENIED.
        if (!users.getPolicy(who.org, who.name)) return cb(apiStatus(new GoError("NotFoundError", true), auth.verbose));
        const access = users.checkAccess(who.org, who.name, "PUBLISH", call.request.artifact);
        if (access.allowed === false && access.error) return cb(apiStatus(new GoError(access.error), auth.verbose));
        if (!access.allowed) return cb(status(grpc.status.PERMISSION_DENIED, `Permission denied: PUBLISH ${who.name} to ${call.request.artifact}`));
      }
      cb(null, {});
    },
    Check: (_call: unknown, cb: grpc.sendUnaryData<{ status: string }>) => cb(null, { status: "SERVING" }),
  });

  const creds = grpc.ServerCredentials.createSsl(
    Buffer.from(caCertificate),
    [{ cert_chain: Buffer.from(serverCert.certificate), private_key: Buffer.from(serverCert.privateKey) }],
    true,
  );
  const unix = config?.api.bindScheme === "unix";
  const port = unix ? 0 : config ? config.api.bindPort || (await freePort(host)) : opts.port || (await freePort(host));
  const bind = () =>
    new Promise<void>((resolve, reject) =>
      server.bindAsync(unix ? `unix:${host}` : `${host}:${port}`, creds, (err) => (err ? reject(err) : resolve())),
    );
  const ready = opts.lateStartMs ? new Promise<void>((r) => setTimeout(r, opts.lateStartMs)).then(bind) : bind();
  if (!opts.lateStartMs) await ready;
  const address = unix ? `unix://${host}` : `${host}:${port}`;
  const testPki = (): TestPki => {
    if (!pki) throw new Error("This test server runs from a server.config.yaml: it has no test PKI (use `config api_client` to issue certificates).");
    return pki;
  };

  const apiClientConfig = (who: ClientName = "admin"): ApiClientYaml => {
    const cert = testPki().clients[who];
    return {
      ca_certificate: caCertificate,
      client_cert: cert.certificate,
      client_private_key: cert.privateKey,
      api_connection_string: address,
      name: USER_OF[who],
    };
  };

  return {
    port,
    address,
    get pki() {
      return testPki();
    },
    users,
    datastore,
    async provisionApiUser(name, roles) {
      const cert = await generateServerCert(testPki().ca, name);
      bootstrapUser(users, name, Array.isArray(roles) ? { root: roles } : roles);
      return { ca_certificate: caCertificate, client_cert: cert.certificate, client_private_key: cert.privateKey, api_connection_string: address, name };
    },
    model,
    stats,
    events,
    ready,
    apiClientConfig,
    writeApiClientYaml(dir, who = "admin") {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, `api_client.${who}.yaml`);
      writeFileSync(path, toYaml(apiClientConfig(who)), { mode: 0o600 });
      chmodSync(path, 0o600);
      return path;
    },
    storeResults: (flowIds) => model.storeResults(flowIds),
    stop: () =>
      new Promise<void>((resolve) => {
        // A graceful stop waits for every open call and session; one a client left open (a child process killed
        // mid-stream, a channel not closed) would hold a test's afterAll until its timeout. After a grace period
        // the rest is cut, as kill() does. A TCP connection that never finished its TLS handshake (a port probe, a
        // client killed while connecting) is no HTTP/2 session, so neither shutdown closes it and the TLS server
        // would wait for its 120 s handshake timeout: a moment after the cut, stop() ends without it
        // (test/test-server/stop.test.ts).
        let finished = false;
        let afterCut: NodeJS.Timeout | undefined;
        const finish = () => {
          if (finished) return;
          finished = true;
          clearTimeout(grace);
          clearTimeout(afterCut);
          if (!opts.users) users.close();
          model.results.dispose();
          resolve();
        };
        const grace = setTimeout(() => {
          server.forceShutdown();
          afterCut = setTimeout(finish, STOP_AFTER_CUT_MS);
        }, STOP_GRACE_MS);
        server.tryShutdown(finish);
      }),
    kill: () => {
      server.forceShutdown();
      model.results.dispose();
    },
  };
}
