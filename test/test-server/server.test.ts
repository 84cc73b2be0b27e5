/**
 * The test server's own contract, read from raw wire messages: batching, the final empty batch, logs as separate
 * messages, errors as log lines, permission errors as status, and a model that changes.
 */
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apiClientConstructor, type WireVFSFileBuffer, type WireVQLResponse } from "../../proto/wire.js";
import { VelociraptorClient, vqlQuery } from "../../velociraptor/index.js";
import { startTestServer, type ClientName, type TestServer } from "../../test-server/index.js";

let server: TestServer;
let client: VelociraptorClient;

function raw(who: ClientName = "admin") {
  const cfg = server.apiClientConfig(who);
  const Ctor = apiClientConstructor();
  return new Ctor(server.address, grpc.credentials.createSsl(Buffer.from(cfg.ca_certificate), Buffer.from(cfg.client_private_key), Buffer.from(cfg.client_cert)), {
    "grpc.ssl_target_name_override": "VelociraptorServer",
  }) as unknown as grpc.Client & { Query: (args: object) => grpc.ClientReadableStream<WireVQLResponse> };
}

async function messages(vql: string, opts: { max_row?: number; max_wait?: number; env?: { key: string; value: string }[]; who?: ClientName; org_id?: string; timeout?: number } = {}) {
  const c = raw(opts.who);
  const out: WireVQLResponse[] = [];
  try {
    for await (const m of c.Query({ Query: [{ VQL: vql, Name: "t" }], max_row: opts.max_row ?? 1000, max_wait: opts.max_wait ?? 1, env: opts.env ?? [], org_id: opts.org_id ?? "", timeout: opts.timeout ?? 0 }))
      out.push(m as WireVQLResponse);
  } finally {
    c.close();
  }
  return out;
}

beforeAll(async () => {
  // Long enough that the RUNNING state is observable on a loaded machine; the test then polls for FINISHED.
  server = await startTestServer({ flowCompletionMs: 1500 });
  client = VelociraptorClient.fromConfig(server.apiClientConfig());
});
afterAll(async () => {
  client.close();
  await server.stop();
});

describe("streaming semantics", () => {
  it("batches by max_row and always sends the final batch", async () => {
    const msgs = await messages("SELECT _value AS N FROM range(start=0, end=25)", { max_row: 10 });
    const batches = msgs.filter((m) => m.Response);
    expect(batches.map((b) => JSON.parse(b.Response).length)).toEqual([10, 10, 5]);
    expect(batches.map((b) => Number(b.part))).toEqual([0, 1, 2]);
    expect(batches[0]!.Columns).toEqual(["N"]);
    expect(batches[0]!.Query).toMatchObject({ VQL: "SELECT _value AS N FROM range(start=0, end=25)", Name: "t" });
    expect(Number(batches[0]!.timestamp)).toBeGreaterThan(1.7e15);
  });

  it("sends an empty final batch for a query without rows", async () => {
    const batches = (await messages("SELECT * FROM clients(search='host:nothing-here')")).filter((m) => m.Response);
    expect(batches).toHaveLength(1);
    expect(batches[0]!.Response).toBe("[]");
    expect(batches[0]!.Columns).toEqual([]);
  });

  it("sends logs as separate messages with only log and timestamp, ending in a newline", async () => {
    const logs = (await messages("SELECT * FROM info()")).filter((m) => m.log);
    expect(logs[0]!.log).toBe("Starting query execution.\n");
    expect(logs.every((l) => !l.Response && !l.Query)).toBe(true);
    expect(logs.some((l) => /Sending response part 0/.test(l.log))).toBe(true);
  });

  it("numbers statements with query_id and keeps LET across statements, without messages for LET", async () => {
    const msgs = await messages("LET hosts = SELECT os_info.hostname AS H FROM clients() SELECT * FROM hosts WHERE H =~ '^DC' SELECT count() AS N FROM hosts GROUP BY 1");
    const batches = msgs.filter((m) => m.Response);
    expect(batches.map((b) => [Number(b.query_id), JSON.parse(b.Response)])).toEqual([
      [1, [{ H: "DC01" }]],
      [2, [{ N: 6 }]],
    ]);
  });

  it("binds env values as string variables", async () => {
    const msgs = await messages("SELECT X AS Echo, X + '!' AS Bang FROM scope()", { env: [{ key: "X", value: "42" }] });
    expect(JSON.parse(msgs.find((m) => m.Response)!.Response)).toEqual([{ Echo: "42", Bang: "42!" }]);
  });

  it("logs 'Unexpected arg' and returns NULL for an unknown argument, like vfilter", async () => {
    const msgs = await messages("SELECT label(client_id='C.1a2b3c4d5e6f7a01', labels='x', colour='red') AS R FROM scope()");
    expect(msgs.some((m) => m.log === "label: Unexpected arg colour\n")).toBe(true);
    expect(JSON.parse(msgs.find((m) => m.Response)!.Response)).toEqual([{ R: null }]);
  });

  it("reports a syntax error as a 'VQL Error' log line and ends the stream normally", async () => {
    const msgs = await messages("SELECT * FROM clients(");
    expect(msgs.some((m) => m.log.startsWith("VQL Error:"))).toBe(true);
  });

  it("returns PERMISSION_DENIED for a user without ANY_QUERY (api/api.go Query)", async () => {
    const err = await messages("SELECT * FROM info()", { who: "noPermissions" }).catch((e) => e);
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
    expect(err.details).toBe("Permission denied: User noperm requires permission ANY_QUERY to run queries");
  });

  it("returns the user manager's error unchanged (UNKNOWN) for a user without a record", async () => {
    const err = await messages("SELECT * FROM info()", { who: "unknownUser" }).catch((e) => e);
    expect(err.code).toBe(grpc.status.UNKNOWN);
    expect(err.details).toBe("User not found: mallory");
  });

  it("refuses info(), plugin and function, without MACHINE_STATE as vql/info.go 73-77 does: a log line and no value", async () => {
    const plugin = await messages("SELECT * FROM info()", { who: "investigator" });
    expect(plugin.some((m) => m.log === "info: PermissionDenied: Permission denied: [MACHINE_STATE]\n")).toBe(true);
    expect(plugin.filter((m) => m.Response).flatMap((m) => JSON.parse(m.Response))).toEqual([]);
    const fn = await messages("SELECT info() AS Host, config.server_version.version AS V FROM scope()", { who: "investigator" });
    expect(fn.some((m) => m.log === "info: PermissionDenied: Permission denied: [MACHINE_STATE]\n")).toBe(true);
    expect(JSON.parse(fn.find((m) => m.Response)!.Response)).toEqual([{ Host: null, V: "0.77.2" }]);
    const admin = await messages("SELECT info().Hostname AS H FROM scope()");
    expect(JSON.parse(admin.find((m) => m.Response)!.Response)).toEqual([{ H: "velociraptor-test" }]);
  });

  it("enforces per-function permissions as log errors (reader cannot label)", async () => {
    const msgs = await messages("SELECT label(client_id='C.1a2b3c4d5e6f7a01', labels='x', op='set') AS R FROM scope()", { who: "reader" });
    expect(msgs.some((m) => m.log === "label: PermissionDenied: Permission denied: [LABEL_CLIENT]\n")).toBe(true);
  });
});

describe("model state changes", () => {
  it("label(op='set') then clients() shows the label; label without op changes nothing", async () => {
    const id = "C.1a2b3c4d5e6f7a02";
    await client.queryAll(vqlQuery("SELECT label(client_id=Id, labels='ir-case-7') FROM scope()", { Id: id }));
    let rows = (await client.queryAll(vqlQuery("SELECT client_id FROM clients(search='label:ir-case-7')", {}))).rows;
    expect(rows).toEqual([]);
    await client.queryAll(vqlQuery("SELECT label(client_id=Id, labels='ir-case-7', op='set') FROM scope()", { Id: id }));
    rows = (await client.queryAll("SELECT client_id FROM clients(search='label:ir-case-7')")).rows;
    expect(rows).toEqual([{ client_id: id }]);
  });

  it("collect_client creates a flow that goes RUNNING → FINISHED with sample results for the client's OS", async () => {
    const q = vqlQuery("SELECT collect_client(client_id=Id, artifacts='Linux.Sys.Pslist', spec=parse_json(data=Spec)) AS C FROM scope()", {
      Id: "C.2b3c4d5e6f7a8b01",
      Spec: { "Linux.Sys.Pslist": { processRegex: "nginx" } },
    });
    const flowId = ((await client.queryAll(q)).rows[0]!.C as { flow_id: string }).flow_id;
    expect(flowId).toMatch(/^F\./);
    const state = async () => (await client.queryAll(vqlQuery("SELECT state FROM flows(client_id='C.2b3c4d5e6f7a8b01', flow_id=F)", { F: flowId }))).rows[0]!.state;
    expect(await state()).toBe("RUNNING");
    await expect.poll(state, { timeout: 10_000, interval: 100 }).toBe("FINISHED");
    const results = await client.queryAll(vqlQuery("SELECT Name FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id=F, artifact='Linux.Sys.Pslist')", { F: flowId }));
    expect(results.rows.map((r) => r.Name)).toContain("nginx");
  });

  it("hunt(pause=TRUE) creates a PAUSED hunt; hunt_update(start=TRUE) runs it; hunt_delete(archive=TRUE) archives it", async () => {
    const id = ((await client.queryAll("SELECT hunt(artifacts='Windows.System.Pslist', description='t', pause=TRUE) AS H FROM scope()")).rows[0]!.H as { HuntId: string }).HuntId;
    const stateOf = async () => (await client.queryAll(vqlQuery("SELECT state FROM hunts(hunt_id=Id)", { Id: id }))).rows[0]!.state;
    expect(await stateOf()).toBe("PAUSED");
    await client.queryAll(vqlQuery("SELECT hunt_update(hunt_id=Id, start=TRUE) FROM scope()", { Id: id }));
    expect(await stateOf()).toBe("RUNNING");
    await client.queryAll(vqlQuery("SELECT * FROM hunt_delete(hunt_id=Id, archive=TRUE, really_do_it=TRUE)", { Id: id }));
    expect(await stateOf()).toBe("ARCHIVED");
  });

  it("multi-source artifacts are addressed as Artifact/Source, and a bare name says which sources exist", async () => {
    const rows = (await client.queryAll("SELECT * FROM source(client_id='C.1a2b3c4d5e6f7a01', flow_id='F.CT1INFO0001', artifact='Generic.Client.Info/Users')")).rows;
    expect(rows).toEqual([{ Name: "jdoe", Description: expect.stringContaining("ProfileList"), LastLogin: "2025-11-23T09:59:50Z" }]);
    const err = await client.queryAll("SELECT * FROM source(client_id='C.1a2b3c4d5e6f7a01', flow_id='F.CT1INFO0001', artifact='Generic.Client.Info')").catch((e) => e);
    expect(err.message).toMatch(/several sources \(BasicInformation, Users\)/);
  });

  it("pages a generated 1M-row flow server-side with start_row and count", async () => {
    const rows = (await client.queryAll("SELECT Pid FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01', start_row=999990, count=5)")).rows;
    expect(rows.map((r) => r.Pid)).toEqual(["1000990", "1000991", "1000992", "1000993", "1000994"]);
  });
});

type Unary<Req, Res> = (req: Req, cb: (err: grpc.ServiceError | null, res: Res) => void) => void;
function unary<Req, Res>(method: "VFSGetBuffer" | "Check", req: Req): Promise<Res> {
  const c = raw() as unknown as grpc.Client & Record<string, Unary<Req, Res>>;
  return new Promise<Res>((resolve, reject) =>
    c[method]!.call(c, req, (err, res) => (c.close(), err ? reject(err) : resolve(res))),
  );
}

describe("timeouts, orgs, files and health", () => {
  it("cancels a query at its timeout, logs the timeout line and still ends the stream normally", async () => {
    const msgs = await messages("SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')", { timeout: 1, max_row: 1000 });
    const rows = msgs.filter((m) => m.Response).reduce((n, m) => n + JSON.parse(m.Response).length, 0);
    expect(rows).toBeLessThan(1_000_000);
    expect(msgs.some((m) => /^collect: <red>Timeout Error:<\/> Collection timed out after 1(\.\d+)?s\n$/.test(m.log))).toBe(true);
  });

  it("routes a query to the org named in org_id, and the root org is the default", async () => {
    const ids = (msgs: WireVQLResponse[]) => msgs.filter((m) => m.Response).flatMap((m) => JSON.parse(m.Response).map((r: { client_id: string }) => r.client_id));
    expect(ids(await messages("SELECT client_id FROM clients()", { org_id: "O123" }))).toEqual(["C.4d5e6f7a8b9c0d01"]);
    expect(ids(await messages("SELECT client_id FROM clients()"))).not.toContain("C.4d5e6f7a8b9c0d01");
  });

  it("refuses an org the user has no role in with PERMISSION_DENIED", async () => {
    const err = await messages("SELECT * FROM info()", { who: "reader", org_id: "O123" }).catch((e) => e);
    expect(err.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it("serves a generated 50 MB upload through VFSGetBuffer in chunks, clipped at the end of the file", async () => {
    const components = ["clients", "C.1a2b3c4d5e6f7a01", "collections", "F.CT1NETSTAT1", "uploads", "auto", "C%3A", "Users", "jdoe", "AppData", "Local", "Temp", "svch0st.exe"];
    const read = (offset: number, length: number) =>
      unary<object, WireVFSFileBuffer>("VFSGetBuffer", { client_id: "C.1a2b3c4d5e6f7a01", components, offset, length, org_id: "" });
    const first = await read(0, 1 << 20);
    const again = await read(0, 1 << 20);
    const tail = await read(52428800 - 100, 1 << 20);
    expect(first.data.length).toBe(1 << 20);
    expect(Buffer.compare(first.data, again.data)).toBe(0);
    expect(tail.data.length).toBe(100);
  });

  it("answers NOT_FOUND for a file that is not in the filestore", async () => {
    const err = await unary<object, WireVFSFileBuffer>("VFSGetBuffer", { client_id: "C.1", components: ["no", "such", "file"], offset: 0, length: 10, org_id: "" }).catch((e) => e);
    expect(err.code).toBe(grpc.status.NOT_FOUND);
  });

  it("answers Check with SERVING", async () => {
    expect(await unary<object, { status: string }>("Check", { service: "" })).toEqual({ status: "SERVING" });
  });

  it("stops producing rows when the client cancels a generated stream", async () => {
    const c = raw();
    const stream = c.Query({ Query: [{ VQL: "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')", Name: "t" }], max_row: 1000, max_wait: 1, env: [], org_id: "" });
    const before = server.stats.cancelled;
    let seen = 0;
    await new Promise<void>((resolve) => {
      stream.on("data", (m: WireVQLResponse) => {
        if (m.Response && (seen += JSON.parse(m.Response).length) >= 5000) stream.cancel();
      });
      stream.on("error", () => resolve());
      stream.on("end", () => resolve());
    });
    c.close();
    await expect.poll(() => server.stats.cancelled, { timeout: 5000 }).toBeGreaterThan(before);
  });
});

describe("request validation", () => {
  it("fails a request without any Query with 'Query should be specified.'", async () => {
    const c = raw();
    const err = await (async () => {
      for await (const _ of c.Query({ Query: [], max_row: 10, max_wait: 1, env: [], org_id: "" })) void _;
    })().catch((e) => e);
    c.close();
    expect(err.details).toBe("Query should be specified.");
  });

  it("rejects hunt_update(state=...) with 'Unexpected arg state' and leaves the hunt as it was", async () => {
    const msgs = await messages("SELECT hunt_update(hunt_id='H.CT1HUNT0001', state='RUNNING') AS R FROM scope()");
    expect(msgs.some((m) => /hunt_update: Unexpected arg state/.test(m.log))).toBe(true);
    const rows = (await client.queryAll("SELECT state FROM hunts(hunt_id='H.CT1HUNT0001')")).rows;
    expect(rows).toEqual([{ state: "STOPPED" }]);
  });
});
