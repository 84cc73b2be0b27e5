/** Starts the BUILT `megaraptor mcp` over stdio with the SDK's own client, against a test server. */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { RequestOptions } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { packageRoot } from "../../core/paths.js";

export const MAIN = join(packageRoot(), "dist", "cli", "main.js");

export interface StartedMcp {
  client: Client;
  auditPath: string;
  /** The server's MEGARAPTOR_HOME (its integrity keys are in home/keys). */
  home: string;
  /** What the server wrote to stderr so far (its log), for failure messages. */
  stderr(): string;
  close(): Promise<void>;
}

export interface StartMcpOptions {
  args?: string[];
  env?: Record<string, string>;
  capabilities?: Record<string, unknown>;
  setup?: (c: Client) => void;
  /** HOME and MEGARAPTOR_HOME of the server; a fresh temporary folder by default. Pass the same one to restart. */
  home?: string;
  /** The server's working directory; this process's by default. */
  cwd?: string;
}

export async function startMcp(opts: StartMcpOptions = {}): Promise<StartedMcp> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does).`);
  const home = opts.home ?? mkdtempSync(join(tmpdir(), "mr-mcp-"));
  const auditPath = join(home, "audit.jsonl");
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, "mcp", "--audit-log", auditPath, ...(opts.args ?? [])],
    // Every toolset and the output schemas, so suites reach every tool and the SDK client checks each structured
    // result against its listed schema; test/mcp/toolsets.e2e.test.ts covers the default list.
    env: { PATH: process.env.PATH ?? "", HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_LOG_LEVEL: "warn", MEGARAPTOR_TOOLSETS: "all", MEGARAPTOR_OUTPUT_SCHEMAS: "1", ...opts.env },
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
    stderr: "pipe",
  });
  // Read as it comes: an unread pipe fills up and blocks the server's next log line.
  let log = "";
  transport.stderr?.on("data", (d: Buffer) => (log = (log + d.toString()).slice(-64 * 1024)));
  const client = new Client({ name: "megaraptor-tests", version: "1.0.0" }, { capabilities: opts.capabilities ?? {} });
  opts.setup?.(client);
  await client.connect(transport);
  return { client, auditPath, home, stderr: () => log, close: () => client.close() };
}

/**
 * Calls a tool; returns structured content on success, the parsed error body on failure. `options` are the SDK's
 * request options: a deployment needs a longer `timeout` than the SDK's 60 s default.
 */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}, options?: RequestOptions) {
  const r = (await client.callTool({ name, arguments: args }, undefined, options)) as CallToolResult;
  const text = r.content[0]?.type === "text" ? r.content[0].text : "";
  let error: { code: string; message: string; hint?: string; retryable?: boolean; confirm_token?: string; plan?: { summary: string; details: Record<string, unknown> } } | undefined;
  if (r.isError) {
    try {
      error = (JSON.parse(text) as { error: typeof error }).error;
    } catch {
      error = { code: "PROTOCOL", message: text };
    }
  }
  return { ok: !r.isError, structured: r.structuredContent as Record<string, any> | undefined, text, error };
}

/**
 * Plan → confirm in one step, as a model does after the user approved: the first call must answer with a plan and a
 * confirm_token; the same call is repeated with the token (and the reason). Returns the confirming call's result.
 */
export async function confirmed(client: Client, name: string, args: Record<string, unknown>, reason?: string, options?: RequestOptions) {
  const plan = await call(client, name, args);
  if (plan.error?.code !== "CONFIRMATION_REQUIRED" || !plan.error.confirm_token) throw new Error(`${name} did not answer with a plan: ${plan.text}`);
  return call(client, name, { ...args, confirm_token: plan.error.confirm_token, ...(reason === undefined ? {} : { reason }) }, options);
}
