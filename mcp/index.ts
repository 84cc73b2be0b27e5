/** Megaraptor's public API for use from code. */
export * from "../velociraptor/index.js";
export { buildMcpServer, serveHttp, serveStdio, Runtime } from "./server/index.js";
export { TOOLS } from "./tools/index.js";
export { defineTool, type ToolDefinition, type ToolContext } from "./tools/define.js";
export { AuditLog, verifyAuditFile, readAudit } from "../core/audit.js";
export { parseVql, references } from "../velociraptor/vql/index.js";
