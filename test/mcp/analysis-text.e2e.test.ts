/**
 * Replies a model can act on from the text alone (issue 16): for each analysis and collection tool, the text content
 * carries what the next step needs — host names on each line, the next_cursor value itself, the flow state, what was
 * left out and how to page, failed flows as caveats — and the structured content holds at least as much.
 * The built MCP server over stdio against the test server with the incident fixture, plus a failed flow (a client
 * query that timed out: "Query timed out after N seconds", actions/vql.go:277) and a cancelled one ("Cancelled by
 * <user>", services/launcher/flows.go:171).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../core/paths.js";
import type { FixtureInput } from "../../test-server/fixture-schema.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { call, startMcp, type StartedMcp } from "../helpers/mcp.js";
import { HR, LINUX as WEB, WIN as FIN } from "../helpers/fixture-ids.js";

const TIMED_OUT = "Query timed out after 600 seconds";

let vr: TestServer;
let mcp: StartedMcp;

function fixture(): FixtureInput {
  const f = JSON.parse(readFileSync(join(packageRoot(), "test", "fixtures", "incident.json"), "utf8")) as FixtureInput;
  const flows = f.orgs[0]!.flows!;
  const amcache = flows.find((x) => x.session_id === "F.FINAMCA001")!;
  flows.push({ ...amcache, client_id: HR, session_id: "F.HRAMCACHE1", create_time: 1795338400000000, state: "ERROR", status: TIMED_OUT, results: {} });
  flows.push({ client_id: WEB, session_id: "F.WEBPSX0001", artifacts: ["Linux.Sys.Pslist"], state: "ERROR", status: "Cancelled by admin", create_time: 1795338700000000, results: {} });
  return f;
}

beforeAll(async () => {
  vr = await startTestServer({ fixture: fixture() as never, flowCompletionMs: 150 });
  const config = vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-text-")));
  mcp = await startMcp({ args: ["--config", config, "--mode", "investigate"], env: { MEGARAPTOR_EVIDENCE_DIR: mkdtempSync(join(tmpdir(), "mr-text-ev-")), MEGARAPTOR_CASES_DIR: mkdtempSync(join(tmpdir(), "mr-text-cases-")) } });
});
afterAll(async () => {
  await mcp?.close();
  await vr?.stop();
});

describe("text content a model can act on", () => {
  it("generate_timeline: the host on each cross-host line, the next_cursor value, failed flows as caveats", async () => {
    const r = await call(mcp.client, "generate_timeline", { client_ids: [FIN, HR], limit: 10 });
    expect(r.ok, r.text).toBe(true);
    const lines = r.text.split("\n").filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
    expect(lines).toHaveLength(10);
    for (const l of lines) expect(l).toMatch(/ (WKS-FIN-01|WKS-HR-07) /);
    expect(r.structured!.page.next_cursor).toBeTruthy();
    expect(r.text).toContain(`next_cursor: ${r.structured!.page.next_cursor}`);
    expect(r.text).toContain(`caveat: Flow F.HRAMCACHE1 on WKS-HR-07 (${HR}) failed: ${TIMED_OUT}`);
    expect(r.structured!.scope.caveats.some((c: string) => c.includes(TIMED_OUT))).toBe(true);
    expect(r.structured!.coverage.status).toBe("truncated");
    const next = await call(mcp.client, "generate_timeline", { client_ids: [FIN, HR], limit: 10, cursor: r.structured!.page.next_cursor });
    expect(next.structured!.page.offset).toBe(10);
    const events = r.structured!.events as { client_id: string; hostname: string }[];
    expect(new Set(events.map((e) => `${e.client_id} ${e.hostname}`)).size).toBeGreaterThan(0);
    for (const e of events) expect(e.hostname).toBe(e.client_id === FIN ? "WKS-FIN-01" : "WKS-HR-07");
    // Files name the host on every line too.
    const file = await call(mcp.client, "generate_timeline", { client_ids: [FIN, HR], format: "timesketch", case_id: "IR-TEXT-1" });
    const records = readFileSync(file.structured!.file.path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as { client_id: string; hostname: string });
    expect(new Set(records.map((x) => `${x.client_id} ${x.hostname}`))).toEqual(new Set([`${FIN} WKS-FIN-01`, `${HR} WKS-HR-07`]));
    expect(file.text).toContain(`caveat: Flow F.HRAMCACHE1 on WKS-HR-07 (${HR}) failed`);
  });

  it("extract_iocs: says how many indicators were left out and how to page (the cursor value), never exhaustive when cut", async () => {
    const r = await call(mcp.client, "extract_iocs", { label: "finance", limit: 3 });
    expect(r.ok, r.text).toBe(true);
    const total = r.structured!.total as number;
    expect(total).toBeGreaterThan(3);
    expect(r.structured!.coverage.status).toBe("truncated");
    expect(r.text).toContain(`${total - 3} left out of this answer`);
    expect(r.text).toContain(`next_cursor: ${r.structured!.page.next_cursor}`);
    expect(r.text.split("\n").filter((l) => / ×\d+/.test(l))).toHaveLength(3);
    for (const l of r.text.split("\n").filter((x) => / ×\d+/.test(x))) expect(l).toContain(" on WKS-FIN-01");
    // The suppressed values per rule, not only a count.
    expect(r.text).toMatch(/suppressed \(non-public address\): \d+ occurrence\(s\) of \d+ value\(s\): 10\./);
    expect(Object.keys(r.structured!.suppressed_values)).toEqual(Object.keys(r.structured!.suppressed));
    const last = await call(mcp.client, "extract_iocs", { label: "finance", limit: 1000, offset: 0 });
    expect(last.structured!.coverage.status).toBe("exhaustive");
    expect(last.structured!.page.has_more).toBe(false);
    expect(last.text).not.toContain("next_cursor");
    const page2 = await call(mcp.client, "extract_iocs", { label: "finance", limit: 3, cursor: r.structured!.page.next_cursor });
    expect(page2.structured!.indicators.map((i: { value: string }) => i.value)).toEqual(last.structured!.indicators.slice(3, 6).map((i: { value: string }) => i.value));
  });

  it("correlate: host names beside client ids in the matrix, caveats for cancelled flows", async () => {
    const r = await call(mcp.client, "correlate", { client_ids: [FIN, WEB], indicators: ["185.220.101.4"] });
    expect(r.ok, r.text).toBe(true);
    expect(r.text).toContain(`WKS-FIN-01 (${FIN})`);
    expect(r.text).toContain(`web-prod-01 (${WEB})`);
    expect(r.text).toContain(`caveat: Flow F.WEBPSX0001 on web-prod-01 (${WEB}) was cancelled (Cancelled by admin)`);
    expect(r.structured!.matrix.hosts).toEqual(["WKS-FIN-01", "web-prod-01"]);
  });

  it("get_flow_results: a failed flow never reads '0 rows, all shown'; the state is in the text", async () => {
    const r = await call(mcp.client, "get_flow_results", { client_id: HR, flow_id: "F.HRAMCACHE1" });
    expect(r.ok, r.text).toBe(true);
    expect(r.text).toContain("(flow ERROR)");
    expect(r.text).toContain(TIMED_OUT);
    expect(r.text).not.toContain("All rows are shown");
    expect(r.structured!.coverage.status).not.toBe("exhaustive");
    const paged = await call(mcp.client, "get_flow_results", { client_id: FIN, flow_id: "F.FINPSLIST1", limit: 2 });
    expect(paged.text).toContain(`next_cursor: ${paged.structured!.page.next_cursor}`);
    const hunt = await call(mcp.client, "get_hunt_results", { hunt_id: "H.PSWIN00001", limit: 2 });
    expect(hunt.text).toMatch(/^Hunt H\.PSWIN00001 \(hunt STOPPED\) Windows\.System\.Pslist: 2 row\(s\) \[truncated\]/);
    expect(hunt.text).toContain(`next_cursor: ${hunt.structured!.page.next_cursor}`);
  });

  it("stack_results: the text says what was cut and how to get the rest, never a bare status", async () => {
    const r = await call(mcp.client, "stack_results", { hunt_id: "H.PSWIN00001", group_by: ["Name"], limit: 1 });
    expect(r.ok, r.text).toBe(true);
    expect(r.structured!.groups_total).toBeGreaterThan(1);
    expect(r.text.split("\n")[0]).toBe(`${r.structured!.rows_scanned} rows → ${r.structured!.groups_total} groups (rarest first) [truncated] 1 of ${r.structured!.groups_total} groups shown. Raise limit, or group by fewer/coarser columns.`);
  });

  it("quick_triage: each notable line names the host and the row (service name and command line, process and pid)", async () => {
    const r = await call(mcp.client, "quick_triage", { client_id: FIN, wait_timeout: 60 });
    expect(r.ok, r.text).toBe(true);
    const notable = r.text.split("\n").filter((l) => /^\[\d+\] /.test(l));
    expect(notable.length).toBeGreaterThan(0);
    for (const l of notable) expect(l).toMatch(/^\[\d+\] WKS-FIN-01 \S+: /);
    expect(r.text).toMatch(/service UpdSvc \(Update Service, Running, Auto\) C:\\Users\\bob\\AppData\\Local\\Temp\\upd\.exe -svc/);
    expect(r.text).toMatch(/process upd\.exe \(pid 5012\) C:\\Users\\bob\\AppData\\Local\\Temp\\upd\.exe --beacon/);
    expect(r.structured!.notable.length).toBeGreaterThanOrEqual(notable.length);
  });

  it("generate_report: several clients in one call, hosts beside client ids, the same allow-list options, what was suppressed", async () => {
    const r = await call(mcp.client, "generate_report", { case_id: "IR-TEXT-1", title: "Text", client_ids: [FIN, HR], allow: { domains: ["update-check.biz"] }, formats: ["markdown"] });
    expect(r.ok, r.text).toBe(true);
    expect(r.structured!.suppressed.find((s: { rule: string }) => s.rule === "domain update-check.biz")).toMatchObject({ values: expect.arrayContaining(["update-check.biz"]) });
    expect(r.text).toMatch(/suppressed \(domain update-check\.biz\): \d+ occurrence\(s\): .*update-check\.biz/);
    expect(r.text).toContain(`caveat: Flow F.HRAMCACHE1 on WKS-HR-07 (${HR}) failed: ${TIMED_OUT}`);
    const md = readFileSync(r.structured!.files[0].path, "utf8");
    expect(md).toContain(`| WKS-FIN-01 (${FIN}) |`);
    expect(md).toContain("### Suppressed as known-good");
    expect(md).toMatch(/\| domain update-check\.biz \| \d+ \| [^|]*update-check\.biz/);
    expect(md).toContain(`ERROR: ${TIMED_OUT}`);
  });
});
