/**
 * README claims that need their own attack: an unexpected exception inside a tool reaches the model as a typed error
 * body — code INTERNAL, the message, the hint — never as a stack trace or the exception's other fields.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { defineTool } from "../../../mcp/tools/define.js";
import { Runtime } from "../../../mcp/server/context.js";
import { ToolExecutor } from "../../../mcp/server/executor.js";
import { registerTools } from "../../../mcp/server/tools.js";

describe("tool errors", () => {
  it("an unexpected exception in a tool is INTERNAL with its message, never a stack trace or the exception's secret-bearing fields", async () => {
    const boom = defineTool({
      name: "boom",
      title: "Throws",
      description: "test tool",
      input: z.object({ how: z.enum(["error", "type", "string", "nested"]) }),
      output: z.object({}),
      preset: "read",
      async handler(a) {
        if (a.how === "string") throw "a thrown string";
        if (a.how === "type") (undefined as unknown as { x: () => void }).x();
        const err = Object.assign(new Error("disk went away"), { config: { client_private_key: "-----BEGIN RSA PRIVATE KEY-----\nMIIsecret\n-----END RSA PRIVATE KEY-----" } });
        throw a.how === "nested" ? new Error("outer", { cause: err }) : err;
      },
    });
    const home = mkdtempSync(join(tmpdir(), "mr-claims-"));
    const server = new McpServer({ name: "t", version: "1" });
    registerTools(server, new ToolExecutor(new Runtime({ mode: "read-only", auditPath: join(home, "audit.jsonl") }), [boom]));
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(a);
    const client = new Client({ name: "t", version: "1" });
    await client.connect(b);
    try {
      for (const how of ["error", "type", "string", "nested"]) {
        const r = (await client.callTool({ name: "boom", arguments: { how } })) as { isError?: boolean; content: { type: string; text: string }[] };
        expect(r.isError, how).toBe(true);
        const text = r.content[0]!.text;
        const body = JSON.parse(text) as { error: { code: string; message: string; hint?: string } };
        expect(body.error.code, how).toBe("INTERNAL");
        expect(body.error.hint, how).toMatch(/MEGARAPTOR_LOG_LEVEL=debug/);
        expect(text, how).not.toMatch(/\n\s+at |\.ts:\d+|node:internal|PRIVATE KEY|MIIsecret/);
      }
    } finally {
      await client.close();
    }
  });
});
