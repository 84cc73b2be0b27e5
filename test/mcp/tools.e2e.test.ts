/**
 * The MCP server end to end: the built `megaraptor mcp` over stdio, driven by the SDK client, against the
 * Velociraptor API test server. Every tool on a success and a failure path, resources, prompts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { verifyAuditFile, readAudit } from "../../core/audit.js";
import { IntegrityKeys } from "../../core/integrity.js";
import { ALL_KNOWN_ARTIFACTS } from "../../mcp/prompts/known-artifacts.js";
import { PROMPTS } from "../../mcp/prompts/index.js";
import { safetyOf } from "../../mcp/tools/define.js";
import { TOOLS } from "../../mcp/tools/index.js";

const TOOL_NAMES = new Set(TOOLS.map((t) => t.name));
const PROMPT_NAMES = new Set(PROMPTS.map((p) => p.name));
// Argument and value names that appear in playbooks next to tool names.
const ARG_WORDS = new Set(["client_id", "client_ids", "next_cursor", "include_labels", "os_filter", "confirm_token", "hunt_ids", "dry_run", "expected_sha256", "case_id", "last_seen", "process_hash", "hunt_type", "incident_type", "target_os", "deployment_id", "affected_systems", "collection_type", "server_url", "skip_missing", "artifact_set", "server_urls"]);
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { call, startMcp, type StartedMcp } from "../helpers/mcp.js";
import { LINUX, WIN } from "../helpers/fixture-ids.js";

let vr: TestServer;
let mcp: StartedMcp;
let configPath: string;

beforeAll(async () => {
  // Collections stay RUNNING for 1.5 s: long enough to cancel one reliably, short enough for wait=true tests.
  vr = await startTestServer({ flowCompletionMs: 1500 });
  configPath = vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-e2e-")));
  mcp = await startMcp({ args: ["--mode", "respond", "--config", configPath] });
});
afterAll(async () => {
  await mcp.close();
  await vr.stop();
});

describe("tool list", () => {
  it("lists every tool with annotations matching its declaration", async () => {
    const { tools } = await mcp.client.listTools();
    const byName = new Map(tools.map((t) => [t.name, t]));
    for (const name of ["list_clients", "get_client_info", "label_client", "quarantine_client", "list_artifacts", "get_artifact", "collect_artifact", "create_hunt", "list_hunts", "get_hunt_results", "modify_hunt", "list_flows", "get_flow_status", "get_flow_results", "cancel_flow", "run_vql", "vql_help", "get_server_info", "list_orgs"])
      expect(byName.has(name), name).toBe(true);
    // Hints absent from the list take the MCP spec's defaults (readOnly false, destructive true, idempotent false,
    // openWorld true); destructive and idempotent mean nothing for a read-only tool.
    const hints = (name: string) => ({ readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true, ...byName.get(name)!.annotations });
    expect(hints("quarantine_client")).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    expect(hints("list_clients")).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    expect(hints("run_vql").destructiveHint).toBe(true);
    expect(byName.get("list_clients")!.outputSchema).toBeDefined();
    // Every listed tool carries exactly the annotations of its preset, and its plan's confirmation fields.
    for (const def of TOOLS) {
      const listed = byName.get(def.name);
      expect(listed, def.name).toBeDefined();
      const a = safetyOf(def).annotations;
      const h = hints(def.name);
      expect({ readOnlyHint: h.readOnlyHint, openWorldHint: h.openWorldHint }, def.name).toEqual({ readOnlyHint: a.readOnly, openWorldHint: a.openWorld });
      if (!a.readOnly) expect({ destructiveHint: h.destructiveHint, idempotentHint: h.idempotentHint }, def.name).toEqual({ destructiveHint: a.destructive, idempotentHint: a.idempotent });
      if (def.hasPlan) expect(Object.keys(listed!.inputSchema.properties ?? {}), def.name).toEqual(expect.arrayContaining(["confirm_token", "reason"]));
    }
  });
});

describe("clients", () => {
  it("list_clients pages with a signed cursor, without gaps or repeats", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const r = await call(mcp.client, "list_clients", { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(r.ok).toBe(true);
      seen.push(...r.structured!.rows.map((x: { client_id: string }) => x.client_id));
      cursor = r.structured!.page.next_cursor;
      if (!cursor) {
        expect(r.structured!.coverage.status).toBe("exhaustive");
        break;
      }
      expect(r.structured!.coverage.status).toBe("truncated");
    }
    expect(seen).toHaveLength(6);
    expect(new Set(seen).size).toBe(6);
  });

  it("list_clients filters by search verb and OS, labelled as filtered, with ISO timestamps", async () => {
    const r = await call(mcp.client, "list_clients", { search: "label:server", os: "linux" });
    expect(r.structured!.rows.map((x: { hostname: string }) => x.hostname).sort()).toEqual(["db-prod-01", "web-prod-01"]);
    expect(r.structured!.coverage.status).toBe("filtered");
    expect(r.structured!.rows[0].last_seen_at_iso).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it("rejects a tampered cursor with INVALID_CURSOR", async () => {
    const r1 = await call(mcp.client, "list_clients", { limit: 1 });
    const bad = r1.structured!.page.next_cursor.replace(/.$/, (c: string) => (c === "A" ? "B" : "A"));
    const r2 = await call(mcp.client, "list_clients", { limit: 1, cursor: bad });
    expect(r2.error?.code).toBe("INVALID_CURSOR");
  });

  it("get_client_info: details, NOT_FOUND for an unknown id, and a field-naming error for a malformed id", async () => {
    expect((await call(mcp.client, "get_client_info", { client_id: WIN })).structured!.client.os_info.hostname).toBe("WKS-FIN-01");
    expect((await call(mcp.client, "get_client_info", { client_id: "C.ffffffffffffffff" })).error?.code).toBe("NOT_FOUND");
    const bad = await call(mcp.client, "get_client_info", { client_id: "WKS-FIN-01" });
    expect(bad.ok).toBe(false);
    expect(bad.text).toMatch(/client_id/);
    expect(bad.text).toMatch(/C\.1a2b3c4d5e6f7a01/);
  });

  it("label_client adds and removes with an explicit op, and the change is visible", async () => {
    const add = await call(mcp.client, "label_client", { client_id: LINUX, labels: ["case-42"], operation: "add" });
    expect(add.structured!.labels).toContain("case-42");
    const rem = await call(mcp.client, "label_client", { client_id: LINUX, labels: ["case-42"], operation: "remove" });
    expect(rem.structured!.labels).not.toContain("case-42");
    expect((await call(mcp.client, "label_client", { client_id: "C.ffffffffffffffff", labels: ["x"] })).error?.code).toBe("NOT_FOUND");
  });

  it("quarantine_client plans first, then runs the OS artifact and sets the Quarantine label with the token", async () => {
    const plan = await call(mcp.client, "quarantine_client", { client_id: LINUX, message: "IR in progress" });
    expect(plan.error?.code).toBe("CONFIRMATION_REQUIRED");
    expect(plan.error?.plan?.details.artifact).toBe("Linux.Remediation.Quarantine");
    expect(plan.error).toMatchObject({ reason_required: true, hint: expect.stringContaining("reason") });
    const done = await call(mcp.client, "quarantine_client", { client_id: LINUX, message: "IR in progress", confirm_token: plan.error!.confirm_token, reason: "beaconing host" });
    expect(done.ok).toBe(true);
    // Intent before the action, outcome after, both carrying the confirming reason.
    const entries = readAudit(mcp.auditPath).filter((e) => e.tool === "quarantine_client" && e.reason === "beaconing host");
    expect(entries.map((e) => e.outcome)).toEqual(["intent", "ok"]);
    expect(entries[1]!.intent).toBe(entries[0]!.seq);
    expect(done.structured!.labels).toContain("Quarantine");
    expect(done.structured!.flow_id).toMatch(/^F\./);
  });
});

describe("confirmation tokens", () => {
  it("refuses a token reused, or presented with changed arguments", async () => {
    const plan = await call(mcp.client, "quarantine_client", { client_id: WIN });
    const token = plan.error!.confirm_token!;
    const changed = await call(mcp.client, "quarantine_client", { client_id: WIN, message: "different", confirm_token: token, reason: "test" });
    expect(changed.error?.code).toBe("CONFIRMATION_REQUIRED");
    expect(changed.error?.message).toMatch(/unknown or was already used|differ/);
    const plan2 = await call(mcp.client, "quarantine_client", { client_id: WIN, quarantine: false });
    const ok = await call(mcp.client, "quarantine_client", { client_id: WIN, quarantine: false, confirm_token: plan2.error!.confirm_token, reason: "released after review" });
    expect(ok.ok).toBe(true);
    const reused = await call(mcp.client, "quarantine_client", { client_id: WIN, quarantine: false, confirm_token: plan2.error!.confirm_token, reason: "again" });
    expect(reused.error?.message).toMatch(/unknown or was already used/);
  });
});

describe("artifacts and flows", () => {
  it("list_artifacts filters literally and by type; get_artifact returns parameters", async () => {
    const r = await call(mcp.client, "list_artifacts", { search: "Pslist", artifact_type: "client" });
    expect(r.structured!.rows.map((x: { name: string }) => x.name)).toEqual(["Linux.Sys.Pslist", "MacOS.Sys.Pslist", "Windows.System.Pslist"]);
    const a = await call(mcp.client, "get_artifact", { artifact_name: "Windows.System.Pslist" });
    expect(a.structured!.artifact.parameters.map((p: { name: string }) => p.name)).toContain("ProcessRegex");
    const missing = await call(mcp.client, "get_artifact", { artifact_name: "Windows.System.Pslst" });
    expect(missing.error?.code).toBe("NOT_FOUND");
    expect(missing.error?.hint).toContain("Windows.System.Pslist");
  });

  it("collect_artifact with per-artifact parameters and wait returns the first page; bad names get suggestions", async () => {
    const r = await call(mcp.client, "collect_artifact", { client_id: WIN, artifacts: ["Windows.System.Pslist", "Windows.Network.Netstat"], parameters: { "Windows.System.Pslist": { ProcessRegex: "svch" } }, wait: true, wait_timeout: 10 });
    expect(r.ok).toBe(true);
    expect(r.structured!.state).toBe("FINISHED");
    expect(r.structured!.results.rows.some((x: { Name: string }) => x.Name === "svch0st.exe")).toBe(true);
    const badParam = await call(mcp.client, "collect_artifact", { client_id: WIN, artifacts: ["Windows.System.Pslist"], parameters: { ProcesRegex: "x" } });
    expect(badParam.error?.code).toBe("INVALID_INPUT");
    expect(badParam.error?.hint).toContain("ProcessRegex");
  });

  it("collect_artifact with wait reports progress and returns the flow's error log when it fails", async () => {
    const progress: string[] = [];
    const r = await mcp.client.callTool({ name: "collect_artifact", arguments: { client_id: WIN, artifacts: ["Windows.NTFS.MFT"], wait: true, wait_timeout: 10 } }, undefined, {
      onprogress: (p) => void progress.push(String(p.message)),
    });
    const s = r.structuredContent as { state: string; errors: string[] };
    expect(s.state).toBe("ERROR");
    expect(s.errors.join("\n")).toContain("Access is denied");
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toMatch(/RUNNING/);
  });

  it("list_flows, get_flow_status (with errors of a failed flow), get_flow_results pages server-side", async () => {
    const flows = await call(mcp.client, "list_flows", { client_id: WIN });
    expect(flows.structured!.rows.map((f: { flow_id: string }) => f.flow_id)).toContain("F.CT1PSLIST01");
    const failed = await call(mcp.client, "get_flow_status", { client_id: "C.1a2b3c4d5e6f7a02", flow_id: "F.CT3FAILED01" });
    expect(failed.structured!.flow.state).toBe("ERROR");
    expect(failed.structured!.errors[0]).toContain("Access is denied");
    const page = await call(mcp.client, "get_flow_results", { client_id: LINUX, flow_id: "F.BIGSTREAM01", limit: 100, offset: 500_000, columns: ["Pid"] });
    // Linux.Sys.Pslist writes the process tracker's string Pid.
    expect(page.structured!.rows[0]).toEqual({ Pid: String(1000 + 500_000) });
    expect(page.structured!.page.total).toBe(1_000_000);
    expect(page.structured!.coverage.status).toBe("truncated");
    expect((await call(mcp.client, "get_flow_results", { client_id: WIN, flow_id: "F.NOPE" })).error?.code).toBe("NOT_FOUND");
  });

  it("get_flow_results names the sources of a multi-source artifact", async () => {
    const r = await call(mcp.client, "get_flow_results", { client_id: WIN, flow_id: "F.CT1INFO0001", artifact: "Generic.Client.Info", source: "Users" });
    expect(r.structured!.rows).toEqual([{ Name: "jdoe", Description: expect.stringContaining("ProfileList"), LastLogin: "2025-11-23T09:59:50Z" }]);
    expect(r.structured!.available_sources).toEqual(["Generic.Client.Info/BasicInformation", "Generic.Client.Info/Users"]);
    // No source named: the first source with results is read, and every source with results is listed (issue 16).
    const unnamed = await call(mcp.client, "get_flow_results", { client_id: WIN, flow_id: "F.CT1INFO0001", artifact: "Generic.Client.Info" });
    expect(unnamed.structured!.artifact).toBe("Generic.Client.Info/BasicInformation");
    expect(unnamed.structured!.rows.length).toBeGreaterThan(0);
    expect(unnamed.text).toMatch(/Generic\.Client\.Info\/Users/);
  });

  it("cancel_flow cancels a running collection", async () => {
    const c = await call(mcp.client, "collect_artifact", { client_id: LINUX, artifacts: ["Linux.Sys.Pslist"] });
    const r = await call(mcp.client, "cancel_flow", { client_id: LINUX, flow_id: c.structured!.flow_id });
    expect(r.structured).toMatchObject({ cancelled: true, state: "ERROR" });
  });
});

describe("hunts", () => {
  it("create_hunt is paused by default with a scope preview; start needs confirmation; results page", async () => {
    const h = await call(mcp.client, "create_hunt", { artifacts: ["Windows.System.Pslist"], description: "sweep", os_filter: "windows" });
    expect(h.structured!.state).toBe("PAUSED");
    expect(h.structured!.scope.count).toBe(3);
    const plan = await call(mcp.client, "modify_hunt", { hunt_id: h.structured!.hunt_id, action: "start" });
    expect(plan.error?.code).toBe("CONFIRMATION_REQUIRED");
    const started = await call(mcp.client, "modify_hunt", { hunt_id: h.structured!.hunt_id, action: "start", confirm_token: plan.error!.confirm_token });
    expect(started.structured!.state).toBe("RUNNING");
    const stopped = await call(mcp.client, "modify_hunt", { hunt_id: h.structured!.hunt_id, action: "stop" });
    expect(stopped.structured!.state).toBe("STOPPED");
    const archived = await call(mcp.client, "modify_hunt", { hunt_id: h.structured!.hunt_id, action: "archive" });
    expect(archived.structured!.state).toBe("ARCHIVED");
    const results = await call(mcp.client, "get_hunt_results", { hunt_id: "H.CT1HUNT0001" });
    expect(results.structured!.rows.every((r: { ClientId: string }) => r.ClientId === WIN)).toBe(true);
    const listed = await call(mcp.client, "list_hunts", { state: "PAUSED" });
    expect(listed.structured!.rows.map((r: { hunt_id: string }) => r.hunt_id)).toContain("H.CT1HUNT0002");
    expect((await call(mcp.client, "modify_hunt", { hunt_id: "H.NOPE", action: "stop" })).error?.code).toBe("NOT_FOUND");
  });
});

describe("VQL and server", () => {
  it("run_vql passes env, pages, and reports VQL errors from log lines with the server's message", async () => {
    const r = await call(mcp.client, "run_vql", { query: "SELECT client_id FROM clients(search=S)", env: { S: "label:server" }, limit: 2 });
    expect(r.structured!.rows).toHaveLength(2);
    expect(r.structured!.coverage.status).toBe("truncated");
    const bad = await call(mcp.client, "run_vql", { query: "SELECT * FROM clients(" });
    expect(bad.error?.code).toBe("INVALID_INPUT");
    expect(bad.error?.message).toMatch(/line 1, column/);
    const caught = await call(mcp.client, "run_vql", { query: "SELECT * FROM clients(colour='red')" });
    expect(caught.error?.message).toMatch(/clients: unexpected argument colour/);
    const vqlErr = await call(mcp.client, "run_vql", { query: "SELECT * FROM clients(colour='red')", skip_validation: true });
    expect(vqlErr.error?.code).toBe("VQL_ERROR");
    expect(vqlErr.error?.message).toContain("clients: Unexpected arg colour");
  });

  it("run_vql with a state-changing function returns a plan first", async () => {
    const r = await call(mcp.client, "run_vql", { query: "SELECT label(client_id='C.1a2b3c4d5e6f7a03', labels='x', op='set') FROM scope()" });
    expect(r.error?.code).toBe("CONFIRMATION_REQUIRED");
    expect(r.error?.plan?.summary).toContain("label");
  });

  it("vql_help answers from the live server; get_server_info and list_orgs describe the server", async () => {
    const h = await call(mcp.client, "vql_help", { topic: "hunt" });
    expect(h.structured!.source).toBe("server");
    expect(h.structured!.entries.map((e: { name: string }) => e.name)).toContain("hunt_update");
    const info = await call(mcp.client, "get_server_info");
    expect(info.structured).toMatchObject({ version: "0.77.2", user: "admin", roles: ["administrator"] });
    const orgs = await call(mcp.client, "list_orgs");
    expect(orgs.structured!.orgs.map((o: { OrgId: string }) => o.OrgId)).toEqual(["root", "O123"]);
    const other = await call(mcp.client, "list_clients", { org_id: "O123" });
    expect(other.structured!.rows.map((r: { hostname: string }) => r.hostname)).toEqual(["SUB-WKS-01"]);
  });
});

describe("resources and prompts", () => {
  it("reads every resource and template", async () => {
    for (const uri of ["velociraptor://clients", "velociraptor://hunts", "velociraptor://artifacts", "velociraptor://server-info", "velociraptor://deployments", `velociraptor://clients/${WIN}`, "velociraptor://hunts/H.CT1HUNT0001", "velociraptor://hunts/H.CT1HUNT0001/results", "velociraptor://artifacts/Windows.System.Pslist"]) {
      const r = await mcp.client.readResource({ uri });
      const body = JSON.parse((r.contents[0] as { text: string }).text);
      // Deployments need the Pulumi CLI; without it the resource says so instead of pretending there are none.
      if (uri === "velociraptor://deployments" && body.error) expect(body.error.code).toBe("PULUMI_CLI_MISSING");
      else expect(body.error, uri).toBeUndefined();
    }
    const missing = await mcp.client.readResource({ uri: "velociraptor://deployments/nope" });
    expect(JSON.parse((missing.contents[0] as { text: string }).text).error.code).toBe("NOT_FOUND");
  });

  it("completes client ids in resource templates", async () => {
    const r = await mcp.client.complete({ ref: { type: "ref/resource", uri: "velociraptor://clients/{client_id}" }, argument: { name: "client_id", value: "C.2b" } });
    expect(r.completion.values.sort()).toEqual(["C.2b3c4d5e6f7a8b01", "C.2b3c4d5e6f7a8b02"]);
  });

  it("every prompt renders and names only real built-in artifacts", async () => {
    const { prompts } = await mcp.client.listPrompts();
    expect(prompts).toHaveLength(11);
    for (const p of prompts) {
      const args = Object.fromEntries((p.arguments ?? []).map((a) => [a.name, a.name === "client_id" ? WIN : a.name === "target_os" ? "windows" : "x"]));
      const r = await mcp.client.getPrompt({ name: p.name, arguments: args });
      const text = (r.messages[0]!.content as { text: string }).text;
      expect(text.length, p.name).toBeGreaterThan(100);
      for (const m of text.matchAll(/\b(?:Windows|Linux|MacOS|Generic)\.[A-Za-z0-9.]+[A-Za-z0-9]/g)) expect(ALL_KNOWN_ARTIFACTS.has(m[0]), `${p.name}: ${m[0]}`).toBe(true);
      // Every snake_case name that looks like a tool call must be a real tool (prompts other than tools are allowed).
      for (const m of text.matchAll(/\b[a-z]+(?:_[a-z]+)+\b/g))
        if (!PROMPT_NAMES.has(m[0]) && !ARG_WORDS.has(m[0])) expect(TOOL_NAMES.has(m[0]), `${p.name}: ${m[0]}`).toBe(true);
    }
  });
});

describe("audit", () => {
  it("records state-changing calls in an intact hash chain, and detects a modified line", async () => {
    const entries = readAudit(mcp.auditPath);
    expect(entries.some((e) => e.tool === "label_client" && e.outcome === "ok")).toBe(true);
    expect(entries.some((e) => e.tool === "quarantine_client" && e.outcome === "planned")).toBe(true);
    const keys = new IntegrityKeys(join(mcp.home, "keys"));
    expect(verifyAuditFile(mcp.auditPath, keys).ok).toBe(true);
    const { readFileSync, writeFileSync } = await import("node:fs");
    const copy = `${mcp.auditPath}.copy`;
    const lines = readFileSync(mcp.auditPath, "utf8").split("\n");
    lines[1] = lines[1]!.replace('"outcome":"ok"', '"outcome":"error"').replace('"outcome":"planned"', '"outcome":"ok"');
    writeFileSync(copy, lines.join("\n"));
    const v = verifyAuditFile(copy, keys);
    expect(v.ok).toBe(false);
    expect(v.badLine).toBe(2);
  });
});
