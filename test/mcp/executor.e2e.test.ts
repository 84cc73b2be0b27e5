/**
 * The one executor, seen from outside: the MCP server and the CLI refuse, plan and audit identically; a tool above the
 * mode is MODE_FORBIDDEN (not "not found") and audited; bad input and unknown tools get the README's error codes; an
 * action whose audit intent cannot be written does not run. Both sides run the BUILT package (dist/).
 */
import { execFile } from "node:child_process";
import { mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readAudit } from "../../core/audit.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { call, MAIN, startMcp } from "../helpers/mcp.js";
import { LINUX } from "../helpers/fixture-ids.js";

let vr: TestServer;
let configPath: string;

beforeAll(async () => {
  vr = await startTestServer();
  configPath = vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-exec-")));
});
afterAll(() => vr.stop());

const labels = () => vr.model.org("root")!.clients.get(LINUX)!.labels;

/** `megaraptor tool` from dist/, with its own home and audit log. */
function cli(home: string, auditPath: string, mode: string, name: string, args: Record<string, unknown>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      [MAIN, "tool", name, "--config", configPath, "--args", JSON.stringify(args)],
      { env: { PATH: process.env.PATH ?? "", HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_AUDIT_LOG: auditPath, MEGARAPTOR_MODE: mode, MEGARAPTOR_LOG_LEVEL: "warn" } },
      (err, stdout, stderr) => resolve({ code: (err as { code?: number } | null)?.code ?? 0, stdout, stderr }),
    );
  });
}

/** The same calls, in order, that both sides make. */
const SEQUENCE: [string, Record<string, unknown>][] = [
  ["kill_process", { client_id: LINUX, pid: 4242, case_id: "PARITY-1" }], // above investigate: refused
  ["quarantine_client", { client_id: LINUX }], // above investigate: refused
  ["label_client", { client_id: LINUX, labels: ["parity"] }], // runs: intent + ok
  ["create_hunt", { artifacts: ["Linux.Sys.Pslist"], description: "parity", paused: false }], // plan only
  ["list_clients", { limit: 1 }], // read: not audited
  ["label_client", { client_id: "not-a-client-id", labels: ["x"] }], // bad input: not audited
];

const shape = (path: string) => readAudit(path).map((e) => [e.tool, e.outcome, e.error?.code ?? null, e.case ?? null]);

describe("one executor for the MCP server and the CLI", () => {
  it("gives the same refusals and writes the same audit entries", { timeout: 120_000 }, async () => {
    const m = await startMcp({ args: ["--mode", "investigate", "--config", configPath] });
    const mcpCodes: (string | null)[] = [];
    try {
      for (const [name, args] of SEQUENCE) mcpCodes.push((await call(m.client, name, args)).error?.code ?? null);
    } finally {
      await m.close();
    }

    const home = mkdtempSync(join(tmpdir(), "mr-exec-cli-"));
    const cliAudit = join(home, "audit.jsonl");
    const cliResults = [];
    for (const [name, args] of SEQUENCE) cliResults.push(await cli(home, cliAudit, "investigate", name, args));

    expect(mcpCodes).toEqual(["MODE_FORBIDDEN", "MODE_FORBIDDEN", null, "CONFIRMATION_REQUIRED", null, "INVALID_INPUT"]);
    expect(cliResults.map((r) => r.code !== 0)).toEqual(mcpCodes.map((c) => c !== null));
    expect(cliResults[0]!.stderr).toMatch(/kill_process needs the respond mode; this server runs in investigate mode/);
    expect(cliResults[3]!.stderr).toMatch(/Confirmation required: Create and START a hunt/);
    expect(shape(cliAudit)).toEqual(shape(m.auditPath));
    expect(shape(m.auditPath)).toEqual([
      ["kill_process", "refused", "MODE_FORBIDDEN", "PARITY-1"],
      ["quarantine_client", "refused", "MODE_FORBIDDEN", null],
      ["label_client", "intent", null, null],
      ["label_client", "ok", null, null],
      ["create_hunt", "planned", null, null],
    ]);
    expect(readAudit(cliAudit)[0]!.principal).toMatch(/\(cli\)$/);
  });
});

describe("error codes over MCP", () => {
  it("calls to tools above the mode say MODE_FORBIDDEN; bad arguments INVALID_INPUT naming the field; unknown tools NOT_FOUND", async () => {
    const m = await startMcp({ args: ["--read-only", "--config", configPath] });
    try {
      const above = await call(m.client, "label_client", { client_id: LINUX, labels: ["x"] });
      expect(above.error).toMatchObject({ code: "MODE_FORBIDDEN", message: expect.stringMatching(/label_client needs the investigate mode; this server runs in read-only mode/), hint: expect.stringContaining("--mode investigate") });
      expect(readAudit(m.auditPath).map((e) => [e.tool, e.outcome, e.error?.code])).toEqual([["label_client", "refused", "MODE_FORBIDDEN"]]);
      const bad = await call(m.client, "get_client_info", { client_id: "nope" });
      expect(bad.error).toMatchObject({ code: "INVALID_INPUT", message: expect.stringMatching(/^client_id: /) });
      const unknown = await call(m.client, "list_client", {});
      expect(unknown.error).toMatchObject({ code: "NOT_FOUND", message: 'no tool "list_client"', hint: expect.stringContaining("list_clients") });
    } finally {
      await m.close();
    }
  });
});

describe("audit before action", () => {
  it("refuses an action whose audit intent cannot be written (full disk), and nothing changes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-exec-full-"));
    const full = join(dir, "audit.jsonl");
    symlinkSync("/dev/full", full);
    const m = await startMcp({ args: ["--mode", "investigate", "--config", configPath, "--audit-log", full] });
    try {
      const r = await call(m.client, "label_client", { client_id: LINUX, labels: ["must-not-apply"] });
      expect(r.error).toMatchObject({ code: "AUDIT_UNAVAILABLE", message: expect.stringMatching(/ENOSPC/) });
      expect(labels()).not.toContain("must-not-apply");
      // Reads need no audit entry and still work.
      expect((await call(m.client, "get_client_info", { client_id: LINUX })).ok).toBe(true);
    } finally {
      await m.close();
    }
  });
});
