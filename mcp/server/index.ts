/**
 * The MCP server: one McpServer with every declared tool (filtered by mode), the resources and the prompts, served
 * over stdio (default) or Streamable HTTP (loopback by default, bearer token, Host/Origin checks).
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { InputError } from "../../core/errors.js";
import { log } from "../../core/logger.js";
import { registerPrompts } from "../prompts/index.js";
import { registerResources } from "../resources/index.js";
import { TOOLS } from "../tools/index.js";
import { Runtime, type ServerOptions } from "./context.js";
import { ToolExecutor } from "./executor.js";
import { registerTools } from "./tools.js";

export const SERVER_NAME = "megaraptor";
export const SERVER_VERSION = "0.1.0";

/** `dynamic`: enable_toolsets may widen this server's tool list (a stdio session); false for stateless HTTP. */
export function buildMcpServer(runtime: Runtime, o: { dynamic: boolean } = { dynamic: true }): McpServer {
  const server = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    {
      capabilities: { logging: {} },
      instructions:
        "Megaraptor drives a Velociraptor DFIR server. Start with get_server_info or list_clients. Results are paged: check `coverage` (truncated means more rows exist — use next_cursor). One confirmation model for every action that needs approval: the first call returns CONFIRMATION_REQUIRED with a plan and a confirm_token; show the plan to the user and, if they approve, repeat the call with exactly the same arguments plus confirm_token — and, for destructive actions (reason_required: true), the user's reason. Remediation tools (remediate_file, kill_process, remove_persistence, rollback_change) also take dry_run=true to preview on the endpoint without a plan; real changes are kept per case_id (list_changes, rollback_change). For analysis use quick_triage, generate_timeline, extract_iocs, correlate and generate_report. Pass user-supplied values to run_vql in env, never inside the query text. Tools come in toolsets (collection, hunts, vql, evidence, analysis, response, deploy, agents); list_toolsets shows which are listed and enable_toolsets lists more.",
    },
  );
  const executor = new ToolExecutor(runtime, TOOLS);
  registerTools(server, executor, o);
  registerResources(server, executor);
  registerPrompts(server);
  return server;
}

export async function serveStdio(opts: ServerOptions): Promise<void> {
  const runtime = new Runtime(opts);
  const server = buildMcpServer(runtime);
  if (!runtime.configured) log.warn("no Velociraptor API configuration found; Velociraptor tools will explain how to configure one");
  runtime.checkAllowListPins();
  // Strict: nothing is served before the key is known to fit the mode. Otherwise the check warns when it completes.
  if (opts.strictKey) await runtime.checkKey(true);
  else void runtime.checkKey(false).catch(() => undefined);
  await server.connect(new StdioServerTransport());
  log.info("megaraptor MCP server ready on stdio", { mode: runtime.mode, velociraptor: runtime.configured });
  const shutdown = () => {
    runtime.close();
    void server.close().finally(() => process.exit(0));
  };
  process.stdin.on("end", shutdown);
  process.on("SIGTERM", shutdown);
  process.on("SIGINT", shutdown);
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export interface HttpOptions extends ServerOptions {
  host: string;
  port: number;
  token?: string;
  /** Extra Host/Origin host names to accept (for a reverse proxy). */
  allowedHosts?: string[];
}

function hostOnly(hostHeader: string): string {
  if (hostHeader.startsWith("[")) return hostHeader.slice(1, hostHeader.indexOf("]"));
  return hostHeader.split(":")[0]!;
}

/** Streamable HTTP, stateless: each POST gets a fresh server bound to the shared runtime. */
export async function serveHttp(opts: HttpOptions): Promise<{ server: Server; url: string; token: string; close(): Promise<void> }> {
  const loopback = LOOPBACK.has(opts.host);
  const configured = opts.token ?? process.env.MEGARAPTOR_HTTP_TOKEN;
  if (!loopback && !configured)
    throw new InputError("--host", `refusing to listen on ${opts.host} without a configured token`, "Set MEGARAPTOR_HTTP_TOKEN (a long random secret) or bind to 127.0.0.1.");
  const token = configured ?? randomBytes(24).toString("base64url");
  const allowed = new Set([...LOOPBACK, ...(loopback ? [] : [opts.host]), ...(opts.allowedHosts ?? [])]);
  const runtime = new Runtime(opts);
  runtime.checkAllowListPins();
  if (opts.strictKey) await runtime.checkKey(true);
  else void runtime.checkKey(false).catch(() => undefined);
  const expected = Buffer.from(`Bearer ${token}`);

  const reject = (res: ServerResponse, status: number, code: string, message: string) => {
    res.writeHead(status, { "content-type": "application/json", ...(status === 401 ? { "www-authenticate": "Bearer" } : {}) });
    res.end(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message: `${code}: ${message}` }, id: null }));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // DNS rebinding: a browser page on another origin must not reach a loopback server.
    if (!allowed.has(hostOnly(req.headers.host ?? ""))) return reject(res, 403, "FORBIDDEN_HOST", `Host ${req.headers.host ?? "(none)"} is not allowed`);
    const origin = req.headers.origin;
    if (origin) {
      let originHost = "";
      try {
        originHost = new URL(origin).hostname.replace(/^\[|\]$/g, "");
      } catch {
        /* invalid origin → rejected below */
      }
      if (!allowed.has(originHost)) return reject(res, 403, "FORBIDDEN_ORIGIN", `Origin ${origin} is not allowed`);
    }
    const auth = Buffer.from(req.headers.authorization ?? "");
    if (auth.length !== expected.length || !timingSafeEqual(auth, expected)) return reject(res, 401, "UNAUTHORIZED", "missing or wrong bearer token");
    if (req.url?.split("?")[0] !== "/mcp") return reject(res, 404, "NOT_FOUND", "the MCP endpoint is /mcp");
    if (req.method !== "POST") return reject(res, 405, "METHOD_NOT_ALLOWED", "this server is stateless: POST /mcp");
    const server = buildMcpServer(runtime, { dynamic: false });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };

  const http = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log.error("HTTP request failed", { error: String(err) });
      if (!res.headersSent) reject(res, 500, "INTERNAL", "request failed");
    });
  });
  await new Promise<void>((resolve, reject2) => {
    http.once("error", reject2);
    http.listen(opts.port, opts.host, () => resolve());
  });
  const port = (http.address() as { port: number }).port;
  const url = `http://${opts.host.includes(":") ? `[${opts.host}]` : opts.host}:${port}/mcp`;
  return {
    server: http,
    url,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        runtime.close();
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}

export { Runtime };
