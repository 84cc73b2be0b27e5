/**
 * The README's first command: `npm start` spawned by an MCP client over stdio. stdout must carry nothing but JSON-RPC
 * (npm's banner or a compiler message there breaks the client), and a current dist/ is not rebuilt.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../core/paths.js";

const root = packageRoot();
const main = join(root, "dist", "cli", "main.js");
const env = () => {
  const home = mkdtempSync(join(tmpdir(), "mr-start-"));
  return { PATH: process.env.PATH ?? "", HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_LOG_LEVEL: "warn" };
};

const skip = existsSync(main) ? "" : "dist/ is not built: run `npm run build` (npm test does)";
if (skip) console.warn(`skipping npm start tests: ${skip}`);

describe.skipIf(!!skip)(`npm start (README quick start)${skip ? ` — skipped: ${skip}` : ""}`, () => {
  it("answers initialize and tools/list with only JSON-RPC on stdout, without rebuilding a current dist/", async () => {
    const before = statSync(main).mtimeMs;
    const transport = new StdioClientTransport({ command: "npm", args: ["start"], cwd: root, env: env(), stderr: "pipe" });
    const client = new Client({ name: "start-test", version: "1.0.0" });
    try {
      await client.connect(transport);
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name)).toContain("get_server_info");
    } finally {
      await client.close();
    }
    expect(statSync(main).mtimeMs).toBe(before);
  }, 60_000);

  it("writes nothing to stdout that is not a JSON-RPC message", async () => {
    const child = spawn("npm", ["start"], { cwd: root, env: env(), stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stdin.write(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "1" } } }) + "\n");
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer; stdout so far: ${out}`)), 45_000);
      child.stdout.on("data", () => out.includes("\n") && (clearTimeout(t), resolve()));
    });
    child.kill();
    const lines = out.split("\n").filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: "2.0" });
  }, 60_000);
});
