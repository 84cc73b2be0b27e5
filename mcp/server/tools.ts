/**
 * The MCP side of tool calls: lists the tools the mode allows (annotations from each tool's preset) and answers every
 * tools/call through the shared executor (./executor.ts) — also for tools the mode hides, which are refused with
 * MODE_FORBIDDEN and audited rather than reported as unknown. Errors are MCP tool errors with code / message / hint /
 * retryable — never a stack trace. Confirmation here is a confirm_token, or elicitation when the client supports it.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult, type Tool as ListedTool } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { MegaraptorError } from "../../core/errors.js";
import { safetyOf, type Plan, type Tool } from "../tools/define.js";
import { parseToolsets, TOOLSET_NAMES, toolsetOf, type ToolsetName, type ToolsetSession } from "../tools/toolsets.js";
import type { Approval, Channel, ToolExecutor } from "./executor.js";

interface CallExtra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification: (n: { method: "notifications/progress"; params: { progressToken: string | number; progress: number; total?: number; message?: string } }) => Promise<void>;
}

/** A tool that exists and the mode allows, but whose toolset this session does not list. */
export class ToolsetDisabledError extends MegaraptorError {
  constructor(tool: string, toolset: string | undefined, dynamic: boolean) {
    super("TOOLSET_DISABLED", `${tool} is in the "${toolset ?? "?"}" toolset, which this session does not list`, {
      hint: dynamic ? `Call enable_toolsets with toolsets=["${toolset ?? "all"}"], then call ${tool}.` : `Restart the MCP server with --toolsets default,${toolset ?? "all"} (or MEGARAPTOR_TOOLSETS).`,
      details: { toolset },
    });
  }
}

export function errorResult(e: MegaraptorError, extra: Record<string, unknown> = {}): CallToolResult {
  const body = { error: { code: e.code, message: e.message, hint: e.hint, retryable: e.retryable, ...e.details, ...extra } };
  return { isError: true, content: [{ type: "text", text: JSON.stringify(body, null, 2) }] };
}

/** Asks the human through MCP elicitation; undefined when the client cannot be asked (then a token is issued). */
async function askHuman(server: McpServer, plan: Plan, o: { reasonRequired: boolean; reason?: string }): Promise<Approval | undefined> {
  if (!server.server.getClientCapabilities()?.elicitation) return undefined;
  const r = await server.server.elicitInput({
    message: `${plan.summary}\n\n${JSON.stringify(plan.details, null, 2)}\n\nApprove this action?`,
    requestedSchema: {
      type: "object",
      properties: {
        approve: { type: "boolean", title: "Approve", description: "Run exactly this action" },
        reason: { type: "string", title: "Reason", description: o.reasonRequired ? "Why (required: recorded in the audit log and the case ledger)" : "Why (recorded in the audit log)", ...(o.reason ? { default: o.reason } : {}) },
      },
      required: o.reasonRequired && !o.reason ? ["approve", "reason"] : ["approve"],
    },
  });
  if (r.action !== "accept" || r.content?.approve !== true) return { kind: "declined" };
  const reason = typeof r.content.reason === "string" && r.content.reason.trim() ? r.content.reason.trim() : o.reason;
  return { kind: "approved", reason };
}

export async function callTool(server: McpServer, executor: ToolExecutor, name: string, args: Record<string, unknown>, extra: CallExtra, toolsets: ToolsetSession): Promise<CallToolResult> {
  const channel: Channel = {
    signal: extra.signal,
    toolsets,
    via: "elicitation",
    progress: async (progress, total, message) => {
      const token = extra._meta?.progressToken;
      if (token !== undefined) await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, total, message } });
    },
    approve: (plan, o) => askHuman(server, plan, o),
  };
  const out = await executor.run(name, args, channel);
  if (!out.ok) return errorResult(out.error, out.extra);
  const text = [out.result.text, ...out.warnings.map((w) => `WARNING: ${w}`)].join("\n");
  return { content: [{ type: "text", text }], ...(sendsStructured(executor, out.result) ? { structuredContent: out.result.structured } : {}) };
}

/**
 * Whether a result carries structuredContent beside its text. The MCP spec (server/tools.mdx, 2025-06-18 and
 * 2025-11-25, "Tool Result"): "Tool results may contain structured or unstructured content"; "If an output schema is
 * provided: Servers MUST provide structured results that conform to this schema"; and "For backwards compatibility, a
 * tool that returns structured content SHOULD also return the serialized JSON in a TextContent block".
 * So: with output schemas listed (--output-schemas) every result has its structured content, as it MUST. Without
 * them, a result whose text renders every value (a page of rows: ../tools/page-text.ts) is text only — structured
 * content is optional there, and a second copy of the rows would double each page; clients that pass
 * structuredContent to the model instead of the text when both are present (Claude Code: anthropics/claude-code
 * #79944) then hand it the compact page. Where both are sent, a page's text is that compact rendering rather than the
 * serialized JSON the SHOULD names: the same values, columns named once, which is what backwards compatibility needs.
 */
function sendsStructured(executor: ToolExecutor, result: { textCarriesAll?: boolean }): boolean {
  return executor.runtime.outputSchemas || result.textCarriesAll !== true;
}

/**
 * The tools/list entry of one tool. Built here rather than by McpServer.registerTool so the list stays small: no
 * `$schema` keys, no Number.MAX_SAFE_INTEGER bounds that zod adds to every integer, annotations without a second copy
 * of the title, and output schemas only when asked for (the executor checks every structured result against its
 * schema either way; sendsStructured says when a result carries it).
 */
export function listEntry(def: Tool, o: { outputSchemas: boolean }): ListedTool {
  const safety = safetyOf(def);
  return {
    name: def.name,
    title: def.title,
    description: def.description,
    inputSchema: compactSchema(z.toJSONSchema(def.inputSchema, { target: "draft-7", io: "input" })) as ListedTool["inputSchema"],
    ...(o.outputSchemas ? { outputSchema: compactSchema(z.toJSONSchema(def.output, { target: "draft-7", io: "output", unrepresentable: "any" })) as ListedTool["outputSchema"] } : {}),
    annotations: hintsDifferingFromDefaults({
      readOnlyHint: safety.annotations.readOnly,
      destructiveHint: safety.annotations.destructive,
      idempotentHint: safety.annotations.idempotent,
      openWorldHint: safety.annotations.openWorld,
    }),
  };
}

/** The MCP spec's defaults for absent hints (schema.ts ToolAnnotations): a tool is assumed to write, destroy, not be
 * idempotent and touch an open world unless it says otherwise. Listing only the hints that differ means the same. */
const HINT_DEFAULTS = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true } as const;

function hintsDifferingFromDefaults(h: Record<keyof typeof HINT_DEFAULTS, boolean>): Partial<Record<keyof typeof HINT_DEFAULTS, boolean>> {
  // destructiveHint and idempotentHint mean something only when readOnlyHint is false: keep them then, as the spec
  // reads them; drop them for read-only tools where a client ignores them.
  const out: Partial<Record<keyof typeof HINT_DEFAULTS, boolean>> = {};
  for (const k of Object.keys(HINT_DEFAULTS) as (keyof typeof HINT_DEFAULTS)[]) {
    if (h.readOnlyHint && (k === "destructiveHint" || k === "idempotentHint")) continue;
    if (h[k] !== HINT_DEFAULTS[k]) out[k] = h[k];
  }
  return out;
}

/**
 * Drops what a model does not need to form a call: `$schema`; ±MAX_SAFE_INTEGER bounds (zod's default for int());
 * string length limits and array size caps (a call past one is refused naming the field and the limit);
 * `additionalProperties: false` (unknown fields are refused the same way); the regular expression of a field whose description already shows its form with an
 * example (ids); and defaults that are empty values ([], {}, "", false), which say no more than the field being
 * optional. The executor still validates every call against the full schema and names the field and the expected
 * form when one is wrong.
 */
function compactSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(compactSchema);
  if (node === null || typeof node !== "object") return node;
  const described = typeof (node as { description?: unknown }).description === "string";
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "$schema" || k === "minLength" || k === "maxLength" || k === "maxItems") continue;
    if (k === "additionalProperties" && v === false) continue;
    if (k === "pattern" && described) continue;
    if (k === "default" && isEmptyValue(v)) continue;
    if ((k === "maximum" || k === "minimum") && typeof v === "number" && Math.abs(v) >= Number.MAX_SAFE_INTEGER) continue;
    out[k] = compactSchema(v);
  }
  return out;
}

function isEmptyValue(v: unknown): boolean {
  if (v === false || v === "") return true;
  if (Array.isArray(v)) return v.length === 0;
  return v !== null && typeof v === "object" && Object.keys(v).length === 0;
}

/** The toolsets one MCP session lists; enabling more tells the client its list changed. */
function sessionToolsets(server: McpServer, executor: ToolExecutor, dynamic: boolean): ToolsetSession {
  const enabled = new Set<ToolsetName>(executor.runtime.toolsets ?? parseToolsets(undefined));
  return {
    enabled: () => TOOLSET_NAMES.filter((n) => enabled.has(n)),
    dynamic,
    allowedInMode: (tool) => executor.allowedInMode(tool),
    async enable(names) {
      const added = names.filter((n) => !enabled.has(n));
      added.forEach((n) => enabled.add(n));
      if (added.length && server.isConnected()) await server.server.sendToolListChanged();
      return added;
    },
  };
}

/**
 * Lists the tools the mode allows from the session's toolsets, and answers every tools/call through the executor —
 * also for tools the mode hides (MODE_FORBIDDEN, audited) and tools outside the listed toolsets (TOOLSET_DISABLED,
 * naming the toolset to enable), rather than the SDK's "Tool X not found".
 * `dynamic`: whether enable_toolsets may widen the list (false for the stateless HTTP transport).
 */
export function registerTools(server: McpServer, executor: ToolExecutor, o: { dynamic: boolean } = { dynamic: true }): void {
  const toolsets = sessionToolsets(server, executor, o.dynamic);
  const listed = (def: Tool) => {
    if (!executor.allowedInMode(def.name)) return false; // above the mode: never listed (calls are refused below)
    if (def.name === "enable_toolsets" && !toolsets.dynamic) return false; // it could not change anything here
    // A tool outside the table (only a test's own registry has one: test/mcp/toolsets.test.ts forbids it in TOOLS)
    // is listed rather than made unreachable.
    const set = toolsetOf(def.name);
    return set === undefined || toolsets.enabled().includes(set);
  };
  server.server.registerCapabilities({ tools: { listChanged: o.dynamic } });
  server.server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: executor.tools.filter(listed).map((def) => listEntry(def, { outputSchemas: executor.runtime.outputSchemas })) }));
  server.server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const name = request.params.name;
    const def = executor.find(name);
    // enable_toolsets itself answers where it cannot work (it says to restart with --toolsets).
    if (def && name !== "enable_toolsets" && executor.allowedInMode(name) && !listed(def)) return Promise.resolve(errorResult(new ToolsetDisabledError(name, toolsetOf(name), toolsets.dynamic)));
    return callTool(server, executor, name, request.params.arguments ?? {}, extra, toolsets);
  });
}
