/**
 * The test server admits callers as Velociraptor 0.77.2 does (docs/velociraptor-rules.md §1–4): a certificate must
 * verify with Go's default options (serverAuth), the user must have a record in the datastore, roles come from its
 * ACLs, and refusals carry Velociraptor's codes and texts. Each case here was accepted before these rules existed.
 */
import * as grpc from "@grpc/grpc-js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClientConstructor, type WireVQLResponse } from "../../proto/wire.js";
import { createTestPki, startTestServer, type TestPki, type TestServer } from "../../test-server/index.js";
import { UserStore, bootstrapUser } from "../../test-server/user-store.js";
import { generateServerCert } from "../../test-server/velociraptor-certs.js";
import type { IssuedCert } from "../../components/pki/x509.js";

let pki: TestPki;
let server: TestServer;

type Api = grpc.Client & {
  Query: (args: object, metadata?: grpc.Metadata) => grpc.ClientReadableStream<WireVQLResponse>;
  VFSGetBuffer: (args: object, cb: (err: grpc.ServiceError | null, r?: unknown) => void) => void;
  PushEvents: (args: object, cb: (err: grpc.ServiceError | null, r?: unknown) => void) => void;
  Check: (args: object, cb: (err: grpc.ServiceError | null, r?: { status: string }) => void) => void;
};

function connect(s: TestServer, cert: Pick<IssuedCert, "certificate" | "privateKey">): Api {
  const Ctor = apiClientConstructor();
  return new Ctor(s.address, grpc.credentials.createSsl(Buffer.from(pki.ca.certificate), Buffer.from(cert.privateKey), Buffer.from(cert.certificate)), {
    "grpc.ssl_target_name_override": "VelociraptorServer",
  }) as unknown as Api;
}

async function query(s: TestServer, cert: Pick<IssuedCert, "certificate" | "privateKey">, vql: string, opts: { org_id?: string; metadata?: grpc.Metadata } = {}): Promise<WireVQLResponse[]> {
  const c = connect(s, cert);
  const out: WireVQLResponse[] = [];
  try {
    for await (const m of c.Query({ Query: [{ VQL: vql, Name: "t" }], max_row: 100, max_wait: 1, env: [], org_id: opts.org_id ?? "" }, opts.metadata ?? new grpc.Metadata()))
      out.push(m as WireVQLResponse);
  } finally {
    c.close();
  }
  return out;
}

function unary<T>(s: TestServer, cert: Pick<IssuedCert, "certificate" | "privateKey">, method: "VFSGetBuffer" | "PushEvents" | "Check", args: object): Promise<T> {
  const c = connect(s, cert);
  return new Promise<T>((resolve, reject) => c[method](args, (err, r) => (c.close(), err ? reject(err) : resolve(r as T))));
}

/** The refusal of a call that must fail. */
const refusal = (p: Promise<unknown>): Promise<grpc.ServiceError> =>
  p.then(
    () => {
      throw new Error("the call was expected to be refused");
    },
    (e: grpc.ServiceError) => e,
  );

const certOf = (yaml: { client_cert: string; client_private_key: string }) => ({ certificate: yaml.client_cert, privateKey: yaml.client_private_key });
const rows = (msgs: WireVQLResponse[]) => msgs.filter((m) => m.Response).flatMap((m) => JSON.parse(m.Response) as Record<string, unknown>[]);

beforeAll(async () => {
  pki = await createTestPki();
  server = await startTestServer({ pki });
});
afterAll(() => server.stop());

describe("who the caller is", () => {
  it("leaves a clientAuth-only certificate unidentified: UNKNOWN 'Must set a username' (Go's default Verify wants serverAuth)", async () => {
    const err = await refusal(query(server, pki.clients.clientAuthOnly, "SELECT * FROM info()"));
    expect(err.code).toBe(grpc.status.UNKNOWN);
    expect(err.details).toBe("Must set a username");
  });

  it("refuses a valid certificate whose user has no record: UNKNOWN 'User not found: <name>'", async () => {
    const err = await refusal(query(server, pki.clients.unknownUser, "SELECT * FROM info()"));
    expect([err.code, err.details]).toEqual([grpc.status.UNKNOWN, "User not found: mallory"]);
  });

  it("admits the superuser (the frontend certificate, CN VelociraptorServer) without a user record", async () => {
    expect(server.users.hasUser("VelociraptorServer")).toBe(false);
    expect(rows(await query(server, pki.server, "SELECT whoami() AS U FROM scope()"))).toEqual([{ U: "VelociraptorServer" }]);
  });

  it("lets the gateway certificate act for the user named in its USER metadata, and be refused as itself", async () => {
    const md = new grpc.Metadata();
    md.set("USER", JSON.stringify({ name: "investigator" }));
    expect(rows(await query(server, pki.clients.gateway, "SELECT whoami() AS U FROM scope()", { metadata: md }))).toEqual([{ U: "investigator" }]);
    const err = await refusal(query(server, pki.clients.gateway, "SELECT * FROM info()"));
    expect(err.details).toBe("User not found: GRPC_GW");
  });

  it("answers Check without any user record", async () => {
    expect(await unary<{ status: string }>(server, pki.clients.unknownUser, "Check", { service: "" })).toEqual({ status: "SERVING" });
  });
});

describe("roles from the datastore", () => {
  it("takes users and roles from users/ and acl/ written as `config api_client --role` writes them", async () => {
    const api = await server.provisionApiUser("automation", ["api", "investigator"]);
    expect(rows(await query(server, certOf(api), "SELECT whoami() AS U FROM scope()"))).toEqual([{ U: "automation" }]);
  });

  it("refuses a reader any API query: the reader role has no ANY_QUERY", async () => {
    const api = await server.provisionApiUser("readonly", ["reader"]);
    const err = await refusal(query(server, certOf(api), "SELECT * FROM clients()"));
    expect([err.code, err.details]).toEqual([grpc.status.PERMISSION_DENIED, "Permission denied: User readonly requires permission ANY_QUERY to run queries"]);
  });

  it("refuses an analyst a collection with the launcher's message", async () => {
    const api = await server.provisionApiUser("analyst1", ["analyst"]);
    const msgs = await query(server, certOf(api), "SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts='Generic.Client.Info') AS C FROM scope()");
    expect(rows(msgs)).toEqual([{ C: null }]);
    expect(msgs.some((m) => m.log === "collect_client: PermissionDenied: User analyst1 is not allowed to launch flows COLLECT_CLIENT.\n")).toBe(true);
  });

  it("fails every check of a user whose stored policy names an unknown role (as `acl grant --role` lets happen)", async () => {
    const api = await server.provisionApiUser("typo", ["api"]);
    server.users.setPolicy("root", "typo", { roles: ["api", "investigtor"], permissions: [], publishQueues: [] });
    const err = await refusal(query(server, certOf(api), "SELECT * FROM info()"));
    expect([err.code, err.details]).toEqual([grpc.status.PERMISSION_DENIED, "User typo is not allowed to run queries."]);
  });

  it("sees a user added by another process only after the user cache reloads", async () => {
    const cert = await generateServerCert(pki.ca, "latecomer");
    bootstrapUser(new UserStore(server.datastore), "latecomer", { root: ["api"] });
    expect((await refusal(query(server, cert, "SELECT * FROM info()"))).details).toBe("User not found: latecomer");
    server.users.reload();
    expect(rows(await query(server, cert, "SELECT whoami() AS U FROM scope()"))).toEqual([{ U: "latecomer" }]);
  });

  it("answers an unknown org_id with UNAVAILABLE 'Org not found' (api.Status of a plain error)", async () => {
    const err = await refusal(query(server, pki.clients.admin, "SELECT * FROM info()", { org_id: "ONOPE" }));
    expect([err.code, err.details]).toEqual([grpc.status.UNAVAILABLE, "Org not found"]);
  });
});

describe("unary calls go through api.Status()", () => {
  const file = { client_id: "C.1a2b3c4d5e6f7a01", components: ["x"], offset: 0, length: 1, org_id: "" };

  it("VFSGetBuffer: NOT_FOUND 'Not Found' for a user without a record, UNAVAILABLE for an unidentified caller", async () => {
    const a = await refusal(unary(server, pki.clients.unknownUser, "VFSGetBuffer", file));
    const b = await refusal(unary(server, pki.clients.clientAuthOnly, "VFSGetBuffer", file));
    expect([a.code, a.details]).toEqual([grpc.status.NOT_FOUND, "Not Found"]);
    expect([b.code, b.details]).toEqual([grpc.status.UNAVAILABLE, "Must set a username"]);
  });

  it("VFSGetBuffer: PERMISSION_DENIED without READ_RESULTS", async () => {
    const api = await server.provisionApiUser("writer", ["artifact_writer"]);
    const err = await refusal(unary(server, certOf(api), "VFSGetBuffer", file));
    expect([err.code, err.details]).toEqual([grpc.status.PERMISSION_DENIED, "User is not allowed to view the VFS."]);
  });

  it("PushEvents: PUBLISH only to the queues a policy lists", async () => {
    const api = await server.provisionApiUser("pusher", ["api"]);
    const push = { artifact: "Custom.Events", client_id: "server", flow_id: "", jsonl: Buffer.from("{}\n"), rows: 1, org_id: "", write: false };
    const err = await refusal(unary(server, certOf(api), "PushEvents", push));
    expect([err.code, err.details]).toEqual([grpc.status.PERMISSION_DENIED, "Permission denied: PUBLISH pusher to Custom.Events"]);
    server.users.setPolicy("root", "pusher", { roles: ["api"], permissions: [], publishQueues: ["Custom.Events"] });
    await expect(unary(server, certOf(api), "PushEvents", push)).resolves.toEqual({});
  });

  it("with `frontend -v` the details pass through (NOT_FOUND 'User not found: <name>')", async () => {
    const verbose = await startTestServer({ pki, verbose: true, datastore: mkdtempSync(join(tmpdir(), "vr-verbose-")) });
    try {
      const err = await refusal(unary(verbose, pki.clients.unknownUser, "VFSGetBuffer", file));
      expect([err.code, err.details]).toEqual([grpc.status.NOT_FOUND, "User not found: mallory"]);
    } finally {
      await verbose.stop();
    }
  });
});
