/**
 * collect_bulk names each machine with one os_info.hostname lookup per named client. That lookup is a nicety: when it
 * fails the collection must still be scheduled (the name left out), and when the caller cancels it must stop. The API
 * test server cannot fail just that query, so the real client is wrapped and only the lookup's query is made to fail;
 * scheduling still goes to the test server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VelociraptorClient, type QueryOptions, type Row } from "../../../velociraptor/client.js";
import { CancelledError, VelociraptorUnreachableError } from "../../../velociraptor/errors.js";
import type { BuiltQuery } from "../../../velociraptor/query.js";
import { collectBulk } from "../../../dfir/collection/collect.js";
import type { CollectionSession } from "../../../dfir/collection/session.js";
import { startTestServer, type TestServer } from "../../../test-server/index.js";
import { LINUX, WIN } from "../../helpers/fixture-ids.js";

const LOOKUP = "FROM clients(client_id=ClientId)";

let vr: TestServer;
let real: VelociraptorClient;

beforeAll(async () => {
  vr = await startTestServer();
  real = VelociraptorClient.fromConfig(vr.apiClientConfig("admin"));
});
afterAll(async () => {
  real.close();
  await vr.stop();
});

/** The real client, except that the host-name lookup for `failFor` throws `error()`. */
function session(failFor: string, error: () => Error, signal = new AbortController().signal): CollectionSession & { lookups: string[] } {
  const lookups: string[] = [];
  const client = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== "queryAll") return Reflect.get(target, prop, receiver) as unknown;
      return async (q: BuiltQuery, o: QueryOptions): Promise<{ rows: Row[] }> => {
        if (q.vql.includes(LOOKUP)) {
          const id = q.env.ClientId;
          lookups.push(id);
          if (id === failFor) throw error();
        }
        return target.queryAll(q, o);
      };
    },
  });
  return {
    client: () => client,
    signal,
    lookups,
    gate: { checkName: () => undefined, enforce: async () => undefined },
    progress: async () => undefined,
  };
}

describe("collect_bulk's host-name lookup", () => {
  it("a failed lookup leaves that machine's name out and the collection still runs on every client", async () => {
    const s = session(WIN, () => new VelociraptorUnreachableError("127.0.0.1:0", "connection reset"));
    const r = await collectBulk(s, { clientIds: [WIN, LINUX], artifacts: ["Generic.Client.Info"], timeoutSeconds: 60 });
    expect(s.lookups).toEqual([WIN, LINUX]);
    expect(r.failed).toBe(0);
    expect(r.scheduled).toBe(2);
    const [win, linux] = r.results;
    expect(win).toMatchObject({ client_id: WIN, state: "RUNNING" });
    expect(win!.hostname).toBeUndefined();
    expect(win!.flow_id).toMatch(/^F\./);
    expect(linux).toMatchObject({ client_id: LINUX, hostname: "web-prod-01", state: "RUNNING" });
  });

  it("a cancel during the lookup stops the collection: nothing is scheduled", async () => {
    const ac = new AbortController();
    const s = session(LINUX, () => {
      ac.abort();
      return new CancelledError();
    }, ac.signal);
    const before = (await real.queryAll({ vql: "SELECT * FROM flows(client_id=ClientId)", env: { ClientId: WIN } }, { maxRows: 10_000 })).rows.length;
    await expect(collectBulk(s, { clientIds: [WIN, LINUX], artifacts: ["Generic.Client.Info"], timeoutSeconds: 60 })).rejects.toBeInstanceOf(CancelledError);
    const after = (await real.queryAll({ vql: "SELECT * FROM flows(client_id=ClientId)", env: { ClientId: WIN } }, { maxRows: 10_000 })).rows.length;
    expect(after).toBe(before);
  });
});
