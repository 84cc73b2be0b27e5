/**
 * Collections and remediation through the one executor, in process, against the wire-compatible test server (issue 16
 * "Collections and smaller defects"): waits on multi-source artifacts and templates answer with the flow id and a first
 * page per result set; get_flow_results picks a source with results; progress only increases; the audit outcome of a
 * remediation is the ledger's result; a dry run shows the hash found and where the file would go; modify_hunt takes
 * the reason on the confirming call.
 *
 * Multi-source facts (Velocidex/velociraptor cd02ac663): Generic.Client.Info has the sources BasicInformation,
 * DetailedInfo, LinuxInfo, WindowsInfo and Users (artifacts/definitions/Generic/Client/Info.yaml L18-L112); a flow
 * lists `Artifact/Source` in artifacts_with_results only for sources that produced rows (flows/artifacts.go
 * ~L463-470; flows/artifacts_test.go ~L650 expects BasicInformation and Users). The incident fixture's sample of it
 * has BasicInformation only, so the default fixture's Users rows (same definition) are added here.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAudit } from "../../core/audit.js";
import { packageRoot } from "../../core/paths.js";
import { ChangeLedger } from "../../dfir/response/ledger.js";
import { Runtime } from "../../mcp/server/context.js";
import { ToolExecutor, type Channel } from "../../mcp/server/executor.js";
import { TOOLS } from "../../mcp/tools/index.js";
import type { FixtureInput } from "../../test-server/fixture-schema.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { LINUX, WIN } from "../helpers/fixture-ids.js";

const EVIL = "C:\\Users\\bob\\AppData\\Local\\Temp\\upd.exe";

let vr: TestServer;
let runtime: Runtime;
let executor: ToolExecutor;
let home: string;
const savedHome = process.env.MEGARAPTOR_HOME;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "mr-collect-"));
  process.env.MEGARAPTOR_HOME = home;
  const fixture = (name: string) => JSON.parse(readFileSync(join(packageRoot(), "test", "fixtures", name), "utf8")) as FixtureInput;
  const incident = fixture("incident.json");
  const info = fixture("default.json").artifacts.find((a) => a.name === "Generic.Client.Info")!;
  incident.artifacts = incident.artifacts.map((a) => (a.name === "Generic.Client.Info" ? info : a));
  // Long enough that every wait polls more than once (progress), short enough for a quick file.
  vr = await startTestServer({ fixture: incident, flowCompletionMs: 400 });
  runtime = new Runtime({ mode: "respond", apiConfig: vr.apiClientConfig("admin"), auditPath: join(home, "audit.jsonl") });
  executor = new ToolExecutor(runtime, TOOLS);
});
afterAll(async () => {
  runtime.close();
  await vr.stop();
  if (savedHome === undefined) delete process.env.MEGARAPTOR_HOME;
  else process.env.MEGARAPTOR_HOME = savedHome;
});

/** Runs a call; records every progress notification it sends. */
async function run(tool: string, args: Record<string, unknown>) {
  const progress: { progress: number; total?: number; message?: string }[] = [];
  const channel: Channel = { signal: new AbortController().signal, via: "token", progress: async (p, total, message) => void progress.push({ progress: p, total, message }) };
  const outcome = await executor.run(tool, args, channel);
  return { outcome, progress, structured: outcome.ok ? (outcome.result.structured as Record<string, any>) : undefined, text: outcome.ok ? outcome.result.text : "" };
}

/** Plan, then the same call with the token and a reason. */
async function confirmedRun(tool: string, args: Record<string, unknown>, reason: string) {
  const plan = await executor.run(tool, args, { signal: new AbortController().signal, via: "token" });
  expect(plan.ok, JSON.stringify(plan)).toBe(false);
  const token = !plan.ok ? (plan.extra?.confirm_token as string) : "";
  expect(token).toMatch(/^ct_/);
  return run(tool, { ...args, confirm_token: token, reason });
}

const increasing = (values: number[]) => values.every((v, i) => i === 0 || v > values[i - 1]!);

describe("waiting for collections", () => {
  it("collect_artifact wait=true on a multi-source artifact returns the flow id and a first page per source", async () => {
    const r = await run("collect_artifact", { client_id: LINUX, artifacts: ["Generic.Client.Info"], wait: true, wait_timeout: 30, limit: 5 });
    expect(r.outcome.ok, JSON.stringify(r.outcome)).toBe(true);
    expect(r.structured!.flow_id).toMatch(/^F\./);
    expect(r.structured!.state).toBe("FINISHED");
    const pages = r.structured!.pages as { artifact: string; rows: unknown[] }[];
    const sources = vr.model.org("root")!.flows.get(`${LINUX}/${r.structured!.flow_id as string}`)!.results;
    const withRows = Object.keys(sources).filter((k) => (sources[k] as unknown[]).length > 0).sort();
    expect(withRows.length).toBeGreaterThan(1);
    expect(pages.map((p) => p.artifact)).toEqual(withRows);
    for (const p of pages) expect(p.rows.length).toBeGreaterThan(0);
    for (const s of withRows) expect(r.text).toContain(`First page of ${s}`);
  });

  it("collect_template wait=true returns the first page of every result set", async () => {
    const r = await run("collect_template", { client_id: LINUX, template: "quick-triage", skip_missing: true, wait: true, wait_timeout: 30, limit: 3 });
    expect(r.outcome.ok, JSON.stringify(r.outcome)).toBe(true);
    expect(r.structured!.state).toBe("FINISHED");
    const pages = r.structured!.pages as { artifact: string; rows: unknown[]; page: { has_more: boolean } }[];
    expect(pages.length).toBeGreaterThan(1);
    expect(pages.every((p) => p.rows.length > 0 && p.rows.length <= 3)).toBe(true);
    expect(r.text).toContain(`First page of ${pages[0]!.artifact}`);
  });

  it("collect_bulk and collect_template replies name each machine beside its client id", async () => {
    // Host names as the incident fixture's clients report them (os_info.hostname).
    const bulk = await run("collect_bulk", { client_ids: [LINUX], client_search: "host:WKS-FIN-01", artifacts: ["Generic.Client.Info"] });
    expect(bulk.outcome.ok, JSON.stringify(bulk.outcome)).toBe(true);
    const results = bulk.structured!.results as { client_id: string; hostname?: string }[];
    expect(Object.fromEntries(results.map((x) => [x.client_id, x.hostname]))).toEqual({ [WIN]: "WKS-FIN-01", [LINUX]: "web-prod-01" });
    expect(bulk.text).toMatch(new RegExp(`${LINUX}\\s+web-prod-01`));
    expect(bulk.text).toMatch(new RegExp(`${WIN}\\s+WKS-FIN-01`));
    const tpl = await run("collect_template", { client_id: LINUX, template: "quick-triage", skip_missing: true });
    expect(tpl.structured!.hostname).toBe("web-prod-01");
    expect(tpl.text).toContain(`on web-prod-01 (${LINUX}`);
  });

  it("get_flow_results picks the source with results when none is named and lists the others", async () => {
    const c = await run("collect_artifact", { client_id: LINUX, artifacts: ["Generic.Client.Info"], wait: true, wait_timeout: 30 });
    const flow = c.structured!.flow_id as string;
    const r = await run("get_flow_results", { client_id: LINUX, flow_id: flow, artifact: "Generic.Client.Info" });
    expect(r.outcome.ok, JSON.stringify(r.outcome)).toBe(true);
    expect(r.structured!.artifact).toMatch(/^Generic\.Client\.Info\//);
    expect(r.structured!.rows.length).toBeGreaterThan(0);
    const others = (r.structured!.available_sources as string[]).filter((s) => s !== r.structured!.artifact);
    expect(others.length).toBeGreaterThan(0);
    for (const o of others) expect(r.text).toContain(o);
  });
});

describe("progress notifications only increase (MCP)", () => {
  it.each([
    ["collect_artifact", { client_id: LINUX, artifacts: ["Linux.Sys.Pslist"], wait: true, wait_timeout: 30 }],
    ["collect_template", { client_id: LINUX, template: "quick-triage", skip_missing: true, wait: true, wait_timeout: 30 }],
    ["collect_bulk", { client_ids: [LINUX, WIN], artifacts: ["Generic.Client.Info"], wait: true, wait_timeout: 30 }],
    ["quick_triage", { client_id: LINUX, wait_timeout: 30 }],
  ])("%s", async (tool, args) => {
    const r = await run(tool, args);
    expect(r.outcome.ok, JSON.stringify(r.outcome)).toBe(true);
    expect(r.progress.length).toBeGreaterThan(1);
    expect(increasing(r.progress.map((p) => p.progress)), JSON.stringify(r.progress)).toBe(true);
    for (const p of r.progress) if (p.total !== undefined) expect(p.progress).toBeLessThanOrEqual(p.total);
  });
});

describe("remediation", () => {
  it("a dry run shows the hash it found and where the file would go", async () => {
    const r = await run("remediate_file", { client_id: WIN, path: EVIL, case_id: "IR-DRY", dry_run: true });
    expect(r.outcome.ok, JSON.stringify(r.outcome)).toBe(true);
    const row = r.structured!.rows[0] as { Sha256: string; QuarantinePath: string };
    expect(row.Sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.text).toContain(`sha256 ${row.Sha256}`);
    expect(r.text).toContain(`→ ${row.QuarantinePath}`);
    expect(row.QuarantinePath).toContain("Quarantine");
  });

  it("the audit outcome of a remediation is the ledger's result", async () => {
    const wrongHash = "0".repeat(64);
    const r = await confirmedRun("remediate_file", { client_id: WIN, path: EVIL, case_id: "IR-AUDIT", expected_sha256: wrongHash }, "contain the beacon");
    expect(r.outcome.ok, JSON.stringify(r.outcome)).toBe(true);
    const ledger = ChangeLedger.for("IR-AUDIT").read();
    expect(ledger.map((e) => e.result)).toEqual(["failed"]);
    expect(r.structured!.outcome).toBe("failed");
    const audit = readAudit(runtime.audit.path).filter((e) => e.tool === "remediate_file" && e.case === "IR-AUDIT");
    expect(audit.map((e) => e.outcome)).toEqual(["planned", "intent", "failed"]);
  });
});

describe("modify_hunt", () => {
  it("accepts reason on the confirming call without invalidating the token", async () => {
    const h = await run("create_hunt", { artifacts: ["Windows.System.Pslist"], description: "sweep", os_filter: "windows" });
    const id = h.structured!.hunt_id as string;
    const started = await confirmedRun("modify_hunt", { hunt_id: id, action: "start" }, "start the sweep for IR-7");
    expect(started.outcome.ok, JSON.stringify(started.outcome)).toBe(true);
    const deleted = await confirmedRun("modify_hunt", { hunt_id: id, action: "delete" }, "test hunt, results not needed");
    expect(deleted.outcome.ok, JSON.stringify(deleted.outcome)).toBe(true);
    expect(deleted.structured!.state).toBe("DELETED");
    const audit = readAudit(runtime.audit.path).filter((e) => e.tool === "modify_hunt" && e.outcome === "ok");
    expect(audit.map((e) => e.reason)).toEqual(["start the sweep for IR-7", "test hunt, results not needed"]);
  });
});
