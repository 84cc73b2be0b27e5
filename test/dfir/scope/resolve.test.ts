/**
 * The case-wide scope resolver against the test server with the incident fixture plus a failed flow, a cancelled flow
 * and a second hunt that shares a flow (as Server.Hunts.AddFlow / hunt_add makes possible). Flow states and statuses
 * follow Velociraptor: a timed-out client query raises "Query timed out after N seconds" (actions/vql.go:277), a
 * cancelled flow is ERROR with "Cancelled by <user>" (services/launcher/flows.go:171).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../../core/paths.js";
import { resolveScope, type ResolvedScope } from "../../../dfir/scope/resolve.js";
import { startTestServer, type TestServer } from "../../../test-server/index.js";
import type { FixtureInput } from "../../../test-server/fixture-schema.js";
import { VelociraptorClient } from "../../../velociraptor/client.js";
import type { VelociraptorSession } from "../../../velociraptor/session.js";
import { HR, LINUX as WEB, WIN as FIN } from "../../helpers/fixture-ids.js";


let vr: TestServer;
let session: VelociraptorSession;
let pslistRows: number;
let netstatRows: number;

function fixture(): FixtureInput {
  const f = JSON.parse(readFileSync(join(packageRoot(), "test", "fixtures", "incident.json"), "utf8")) as FixtureInput;
  const org = f.orgs[0]!;
  const flows = org.flows!;
  const amcache = flows.find((x) => x.session_id === "F.FINAMCA001")!;
  flows.push({ ...amcache, client_id: HR, session_id: "F.HRAMCACHE1", state: "ERROR", status: "Query timed out after 600 seconds", results: { "Windows.Detection.Amcache": (amcache.results!["Windows.Detection.Amcache"] as unknown[]).slice(0, 2) as never } });
  flows.push({ client_id: WEB, session_id: "F.WEBPSX0001", artifacts: ["Linux.Sys.Pslist"], state: "ERROR", status: "Cancelled by admin", create_time: 1795338700000000, results: {} });
  const ps = org.hunts!.find((h) => h.hunt_id === "H.PSWIN00001")!;
  // A process hunt to which FIN's earlier pslist flow and its netstat flow were added (hunt_add takes any flow).
  org.hunts!.push({ ...ps, hunt_id: "H.DUPHUNT001", hunt_description: "re-run on FIN, with its earlier flows added", flows: [{ client_id: FIN, flow_id: "F.FINPSLIST1" }, { client_id: FIN, flow_id: "F.FINNETSTAT" }] });
  netstatRows = (flows.find((x) => x.session_id === "F.FINNETSTAT")!.results!["Windows.Network.Netstat"] as unknown[]).length;
  pslistRows = ["F.FINPSLIST1", "F.HRPSLIST01"].reduce((n, id) => n + (flows.find((x) => x.session_id === id)!.results!["Windows.System.Pslist"] as unknown[]).length, 0);
  return f;
}

beforeAll(async () => {
  vr = await startTestServer({ fixture: fixture() as never });
  const client = VelociraptorClient.fromConfig(vr.apiClientConfig("admin"));
  session = { client: () => client, signal: new AbortController().signal };
});
afterAll(async () => {
  await vr?.stop();
});

async function count(scope: ResolvedScope, artifact: string): Promise<{ rows: number; flows: string[] }> {
  let rows = 0;
  const flows: string[] = [];
  for (const s of scope.sources.filter((x) => x.artifact === artifact))
    for await (const r of s.rows) {
      rows++;
      flows.push(String(s.flow_id ?? r.FlowId));
    }
  return { rows, flows };
}

describe("resolveScope", () => {
  it("reads several clients, a label and hunts in one scope; a flow reached twice is read once; host names for all", async () => {
    const scope = await resolveScope(session, { client_ids: [FIN, HR], label: "webserver", hunt_ids: ["H.PSWIN00001", "H.DUPHUNT001"], max_flows: 50 });
    expect(scope.clients.map((c) => [c.client_id, c.hostname])).toEqual([
      [FIN, "WKS-FIN-01"],
      [HR, "WKS-HR-07"],
      [WEB, "web-prod-01"],
    ]);
    // FIN's and HR's pslist flows are in H.PSWIN00001, FIN's also in H.DUPHUNT001, and both clients were named directly.
    const ps = await count(scope, "Windows.System.Pslist");
    expect(ps.rows).toBe(pslistRows);
    // FIN's netstat flow is in H.DUPHUNT001, which reads only Windows.System.Pslist: its netstat rows are read once,
    // directly, not lost to the hunt's claim.
    expect((await count(scope, "Windows.Network.Netstat")).flows.filter((f) => f === "F.FINNETSTAT")).toHaveLength(netstatRows);
    expect(scope.duplicates).toBe(4);
    expect(scope.flows.filter((f) => f.flow_id === "F.FINPSLIST1")).toEqual([expect.objectContaining({ via: "hunt", hunt_id: "H.PSWIN00001", state: "FINISHED" })]);
    expect(scope.flows.find((f) => f.flow_id === "F.WEBBASH001")).toMatchObject({ via: "label", client_id: WEB });
    expect(scope.hunts.map((h) => [h.hunt_id, h.flows])).toEqual([
      ["H.PSWIN00001", 2],
      ["H.DUPHUNT001", 2],
    ]);
  });

  it("lists failed and cancelled flows as caveats with their error, and still reads their partial results", async () => {
    const scope = await resolveScope(session, { client_ids: [HR, WEB], max_flows: 50 });
    expect(scope.caveats).toEqual(
      expect.arrayContaining([
        `Flow F.HRAMCACHE1 on WKS-HR-07 (${HR}) failed: Query timed out after 600 seconds; its partial results are included.`,
        `Flow F.WEBPSX0001 on web-prod-01 (${WEB}) was cancelled (Cancelled by admin); its partial results are included.`,
      ]),
    );
    expect(scope.flows.find((f) => f.flow_id === "F.HRAMCACHE1")).toMatchObject({ state: "ERROR", status: "Query timed out after 600 seconds" });
    expect((await count(scope, "Windows.Detection.Amcache")).rows).toBe(1);
  });

  it("keeps the appendix's queries with the sources, and filters by artifact", async () => {
    const scope = await resolveScope(session, { client_id: FIN, artifacts: ["Windows.NTFS.MFT"], max_flows: 50 });
    expect(scope.sources.map((s) => [s.artifact, s.flow_id, s.query.env])).toEqual([["Windows.NTFS.MFT", "F.FINMFT0001", { ClientId: FIN, FlowId: "F.FINMFT0001", ArtifactName: "Windows.NTFS.MFT" }]]);
  });

  it("refuses an empty scope, flow ids without exactly one client, an unknown label or hunt, naming the field", async () => {
    await expect(resolveScope(session, { max_flows: 5 })).rejects.toThrow(/^client_ids: give the scope/);
    await expect(resolveScope(session, { client_ids: [FIN, HR], flow_ids: ["F.FINMFT0001"], max_flows: 5 })).rejects.toThrow(/^flow_ids: flow ids belong to one client/);
    await expect(resolveScope(session, { label: "nobody-has-this", max_flows: 5 })).rejects.toThrow(/^label: no client carries the label "nobody-has-this"/);
    await expect(resolveScope(session, { hunt_ids: ["H.NOSUCH0001"], max_flows: 5 })).rejects.toThrow(/^hunt_ids: hunt H.NOSUCH0001 does not exist/);
    await expect(resolveScope(session, { client_id: FIN, flow_ids: ["F.NOSUCHFLOW"], max_flows: 5 })).rejects.toThrow(/^flow_ids: flow F.NOSUCHFLOW does not exist/);
  });
});
