/** Modes, a server with no Velociraptor configured, expired confirmation tokens, elicitation, and HTTP transport. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serveHttp } from "../../mcp/server/index.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { readAudit } from "../../core/audit.js";
import { call, startMcp } from "../helpers/mcp.js";

let vr: TestServer;
let configPath: string;

beforeAll(async () => {
  vr = await startTestServer();
  configPath = vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-safety-")));
});
afterAll(() => vr.stop());

describe("modes", () => {
  it("read-only lists no state-changing tool and refuses state-changing VQL, but runs a pure SELECT", async () => {
    const m = await startMcp({ args: ["--read-only", "--config", configPath] });
    try {
      const names = (await m.client.listTools()).tools.map((t) => t.name);
      for (const n of ["label_client", "quarantine_client", "collect_artifact", "create_hunt", "modify_hunt", "cancel_flow"]) expect(names).not.toContain(n);
      expect(names).toContain("run_vql");
      expect((await call(m.client, "run_vql", { query: "SELECT client_id FROM clients()" })).ok).toBe(true);
      const refused = await call(m.client, "run_vql", { query: "SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts='Windows.System.Pslist') FROM scope()" });
      expect(refused.error?.code).toBe("MODE_FORBIDDEN");
      const hidden = await call(m.client, "label_client", { client_id: "C.1a2b3c4d5e6f7a01", labels: ["x"] });
      expect(hidden.ok).toBe(false);
    } finally {
      await m.close();
    }
  });

  it("investigate (the default) hides quarantine and refuses hunt deletion", async () => {
    const m = await startMcp({ args: ["--config", configPath] });
    try {
      const names = (await m.client.listTools()).tools.map((t) => t.name);
      expect(names).not.toContain("quarantine_client");
      expect(names).toContain("collect_artifact");
      const del = await call(m.client, "modify_hunt", { hunt_id: "H.CT1HUNT0001", action: "delete" });
      expect(del.error?.code).toBe("MODE_FORBIDDEN");
      expect(del.error?.hint).toContain("--mode respond");
    } finally {
      await m.close();
    }
  });

  it("MEGARAPTOR_READ_ONLY=1 forces read-only", async () => {
    const m = await startMcp({ args: ["--mode", "respond", "--config", configPath], env: { MEGARAPTOR_READ_ONLY: "1" } });
    try {
      expect((await m.client.listTools()).tools.map((t) => t.name)).not.toContain("quarantine_client");
    } finally {
      await m.close();
    }
  });
});

describe("without Velociraptor configured", () => {
  it("starts, and every Velociraptor tool says how to configure one", async () => {
    const m = await startMcp();
    try {
      const r = await call(m.client, "list_clients");
      expect(r.error?.code).toBe("VELOCIRAPTOR_NOT_CONFIGURED");
      expect(r.error?.hint).toContain("VELOCIRAPTOR_CONFIG_PATH");
      const help = await call(m.client, "vql_help", { topic: "label" });
      expect(help.structured!.source).toBe("builtin");
    } finally {
      await m.close();
    }
  });
});

describe("confirmation", () => {
  // Expiry itself is tested with a clock the test controls (test/mcp/safety/confirm.test.ts, through the executor);
  // here only that the server takes its TTL from MEGARAPTOR_CONFIRM_TTL_SECONDS, with no sleep.
  it("issues tokens that expire after MEGARAPTOR_CONFIRM_TTL_SECONDS", async () => {
    const m = await startMcp({ args: ["--mode", "respond", "--config", configPath], env: { MEGARAPTOR_CONFIRM_TTL_SECONDS: "7" } });
    try {
      const before = Date.now();
      const r = await m.client.callTool({ name: "quarantine_client", arguments: { client_id: "C.1a2b3c4d5e6f7a02" } });
      const body = JSON.parse((r.content as { text: string }[])[0]!.text) as { error: { code: string; expires_at: string } };
      expect(body.error.code).toBe("CONFIRMATION_REQUIRED");
      const ttl = Date.parse(body.error.expires_at) - before;
      expect(ttl).toBeGreaterThan(6000);
      expect(ttl).toBeLessThanOrEqual(7000 + (Date.now() - before));
    } finally {
      await m.close();
    }
  });

  it("asks the human (and the reason) through elicitation when the client supports it, and honours a decline", async () => {
    let answer = true;
    const asked: string[] = [];
    const required: unknown[] = [];
    const m = await startMcp({
      args: ["--mode", "respond", "--config", configPath],
      capabilities: { elicitation: {} },
      setup: (c) =>
        c.setRequestHandler(ElicitRequestSchema, async (req) => {
          asked.push(req.params.message);
          required.push((req.params as { requestedSchema?: { required?: string[] } }).requestedSchema?.required);
          return { action: "accept", content: { approve: answer, reason: "user: contain the DB host" } };
        }),
    });
    try {
      const ok = await call(m.client, "quarantine_client", { client_id: "C.2b3c4d5e6f7a8b02" });
      expect(ok.ok).toBe(true);
      expect(asked[0]).toContain("Quarantine db-prod-01");
      expect(required[0]).toEqual(["approve", "reason"]);
      expect(readAudit(m.auditPath).filter((e) => e.tool === "quarantine_client" && e.outcome === "ok")[0]).toMatchObject({ reason: "user: contain the DB host" });
      answer = false;
      const declined = await call(m.client, "quarantine_client", { client_id: "C.2b3c4d5e6f7a8b02", quarantine: false });
      expect(declined.error?.code).toBe("CONFIRMATION_REQUIRED");
      expect(declined.error?.message).toContain("declined");
    } finally {
      await m.close();
    }
  });
});

describe("hunt scope", () => {
  it("asks for confirmation when a paused hunt would reach more than MEGARAPTOR_MAX_HUNT_CLIENTS clients", async () => {
    const m = await startMcp({ args: ["--config", configPath], env: { MEGARAPTOR_MAX_HUNT_CLIENTS: "2" } });
    try {
      const args = { artifacts: ["Windows.System.Pslist"], description: "wide", os_filter: "windows" };
      const plan = await call(m.client, "create_hunt", args);
      expect(plan.error?.code).toBe("CONFIRMATION_REQUIRED");
      expect((plan.error?.plan?.details.scope as { count: number }).count).toBe(3);
      const ok = await call(m.client, "create_hunt", { ...args, confirm_token: plan.error!.confirm_token });
      expect(ok.structured!.state).toBe("PAUSED");
    } finally {
      await m.close();
    }
  });
});

describe("Streamable HTTP", () => {
  it("requires the bearer token, rejects foreign origins and hosts, and serves tools with the token", async () => {
    const s = await serveHttp({ mode: "investigate", host: "127.0.0.1", port: 0, token: "t0ken-for-tests", auditPath: join(mkdtempSync(join(tmpdir(), "mr-http-")), "a.jsonl"), configPath });
    try {
      const body = JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: {} });
      const headers = { "content-type": "application/json", accept: "application/json, text/event-stream" };
      expect((await fetch(s.url, { method: "POST", headers, body })).status).toBe(401);
      expect((await fetch(s.url, { method: "POST", headers: { ...headers, authorization: "Bearer wrong" }, body })).status).toBe(401);
      expect((await fetch(s.url, { method: "POST", headers: { ...headers, authorization: "Bearer t0ken-for-tests", origin: "https://evil.example" }, body })).status).toBe(403);
      const client = new Client({ name: "http-test", version: "1" });
      await client.connect(new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: { authorization: "Bearer t0ken-for-tests" } } }));
      const r = await call(client, "list_clients", { search: "host:DC01" });
      // Default tools/list (no output schemas): a page is its text alone — the columns once, then a row per line.
      const [columns, first] = r.text.split("\n").filter((l) => l.startsWith("columns: ") || l.startsWith("["));
      const row = Object.fromEntries((JSON.parse(columns!.slice("columns: ".length)) as string[]).map((c, i) => [c, (JSON.parse(first!) as unknown[])[i]]));
      expect(row.hostname).toBe("DC01");
      await client.close();
    } finally {
      await s.close();
    }
  });

  it("refuses a non-loopback bind without a token", async () => {
    const saved = process.env.MEGARAPTOR_HTTP_TOKEN;
    delete process.env.MEGARAPTOR_HTTP_TOKEN;
    await expect(serveHttp({ mode: "investigate", host: "0.0.0.0", port: 0 })).rejects.toThrow(/without a configured token/);
    if (saved !== undefined) process.env.MEGARAPTOR_HTTP_TOKEN = saved;
  });
});
