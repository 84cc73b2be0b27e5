/** `megaraptor mcp`: the MCP server on stdio (default) or Streamable HTTP. */
import type { Command } from "commander";
import { log } from "../../core/logger.js";
import { installMemoryReport } from "../../core/memory-report.js";
import { resolveMode } from "../../mcp/safety/mode.js";
import { strictKey } from "../../mcp/safety/key-check.js";
import { parseToolsets } from "../../mcp/tools/toolsets.js";

export function register(program: Command): void {
  program
    .command("mcp")
    .description("Run the MCP server (stdio by default; --http for Streamable HTTP)")
    .option("-c, --config <file>", "api_client.yaml (default: VELOCIRAPTOR_CONFIG_PATH / VELOCIRAPTOR_API_FILE / VELOCIRAPTOR_* variables)")
    .option("--mode <mode>", "read-only | investigate | respond (default investigate, or MEGARAPTOR_MODE)")
    .option("--read-only", "same as --mode read-only (or MEGARAPTOR_READ_ONLY=1)")
    .option("--audit-log <file>", "audit log path (default ~/.megaraptor/audit.jsonl or MEGARAPTOR_AUDIT_LOG)")
    .option("--org <id>", "default org id (or MEGARAPTOR_DEFAULT_ORG)")
    .option("--strict-key", "refuse to start when the API key can do more than the mode allows, or its permissions cannot be read (or MEGARAPTOR_STRICT_KEY=1)")
    .option("--toolsets <list>", "tool groups to list: comma-separated names, default, all (default: default, or MEGARAPTOR_TOOLSETS); list_toolsets names them")
    .option("--output-schemas", "list each tool's output schema too (or MEGARAPTOR_OUTPUT_SCHEMAS=1)")
    .option("--http", "serve Streamable HTTP instead of stdio")
    .option("--host <host>", "HTTP bind address", "127.0.0.1")
    .option("--port <port>", "HTTP port", "8765")
    .action(async (o: { config?: string; mode?: string; readOnly?: boolean; auditLog?: string; org?: string; strictKey?: boolean; toolsets?: string; outputSchemas?: boolean; http?: boolean; host: string; port: string }) => {
      const mode = resolveMode({ mode: o.mode, readOnly: o.readOnly });
      const toolsets = o.toolsets !== undefined ? parseToolsets(o.toolsets, "--toolsets") : parseToolsets(process.env.MEGARAPTOR_TOOLSETS, "MEGARAPTOR_TOOLSETS");
      const outputSchemas = o.outputSchemas === true || /^(1|true|yes)$/i.test(process.env.MEGARAPTOR_OUTPUT_SCHEMAS ?? "");
      installMemoryReport(); // only with MEGARAPTOR_DEBUG_MEMORY=1 (benchmarks)
      const { serveHttp, serveStdio } = await import("../../mcp/server/index.js");
      const base = { mode, configPath: o.config, auditPath: o.auditLog, defaultOrg: o.org, strictKey: strictKey(o.strictKey), toolsets, outputSchemas };
      if (!o.http) return serveStdio(base);
      const s = await serveHttp({ ...base, host: o.host, port: Number(o.port) });
      // The token goes to stderr once, for the operator; it is never logged in structured logs.
      process.stderr.write(`megaraptor MCP (Streamable HTTP) on ${s.url}\n`);
      if (!process.env.MEGARAPTOR_HTTP_TOKEN) process.stderr.write(`bearer token (generated; set MEGARAPTOR_HTTP_TOKEN to fix one): ${s.token}\n`);
      log.info("http server ready", { url: s.url, mode });
      const stop = () => void s.close().then(() => process.exit(0));
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
}
