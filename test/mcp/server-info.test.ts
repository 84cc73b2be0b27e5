/**
 * get_server_info with the key a deployment hands out (api,investigator): Velociraptor 0.77.2 refuses info() without
 * MACHINE_STATE (vql/info.go 73-77), so the tool must still answer with the version (ANY_QUERY is enough) and say
 * which facts are missing, which permission they need and which role grants it — not fail, not drop them silently.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildMcpServer, Runtime } from "../../mcp/server/index.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import type { ApiClientConfig } from "../../velociraptor/config.js";
import { call } from "../helpers/mcp.js";

let vr: TestServer;
const open: Client[] = [];

async function mcpAs(apiConfig: ApiClientConfig): Promise<Client> {
  const home = mkdtempSync(join(tmpdir(), "mr-info-"));
  const server = buildMcpServer(new Runtime({ mode: "read-only", apiConfig, auditPath: join(home, "audit.jsonl") }));
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  const client = new Client({ name: "t", version: "1" });
  await client.connect(b);
  open.push(client);
  return client;
}

beforeAll(async () => {
  vr = await startTestServer();
});
afterAll(async () => {
  for (const c of open) await c.close();
  await vr.stop();
});

describe("get_server_info", () => {
  it("with a deployment's api,investigator key: the version, and host name and uptime reported as needing MACHINE_STATE", async () => {
    const client = await mcpAs(await vr.provisionApiUser("megaraptor", ["api", "investigator"]));
    const r = await call(client, "get_server_info");
    expect(r.error).toBeUndefined();
    expect(r.structured).toMatchObject({ version: "0.77.2", hostname: null, uptime_seconds: null, user: "megaraptor", roles: ["api", "investigator"] });
    expect(r.structured!.unavailable).toEqual([
      expect.objectContaining({ fields: ["hostname", "uptime_seconds"], permission: "MACHINE_STATE", granted_by: ["administrator"] }),
    ]);
    expect(r.structured!.unavailable[0].reason).toContain(`acl grant megaraptor '{"machine_state":true}' --merge`);
    expect(r.text).toMatch(/Not shown: hostname and uptime_seconds need MACHINE_STATE/);
  });

  it("with an administrator key: everything, nothing unavailable", async () => {
    const client = await mcpAs(vr.apiClientConfig("admin"));
    const r = await call(client, "get_server_info");
    expect(r.structured).toMatchObject({ version: "0.77.2", hostname: "velociraptor-test", unavailable: [] });
    expect(r.structured!.uptime_seconds).toEqual(expect.any(Number));
  });
});
