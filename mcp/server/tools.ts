/**
 * The MCP side of tool calls: lists the tools the mode allows (annotations from each tool's preset) and answers every
 * tools/call through the shared executor (./executor.ts) — also for tools the mode hides, which are refused with
 * MODE_FORBIDDEN and audited rather than reported as unknown. Errors are MCP tool errors with code / message / hint /
 * retryable — never a stack trace. Confirmation here is a confirm_token, or elicitation when the client supports it.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { CallToolRequestSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type { MegaraptorError } from "../../core/errors.js";
import { allows } from "../safety/mode.js";
import { safetyOf, type Plan } from "../tools/define.js";
import type { Approval, Channel, ToolExecutor } from "./executor.js";

interface CallExtra {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification: (n: { method: "notifications/progress"; params: { progressToken: string | number; progress: number; total?: number; message?: string } }) => Promise<void>;
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

export async function callTool(server: McpServer, executor: ToolExecutor, name: string, args: Record<string, unknown>, extra: CallExtra): Promise<CallToolResult> {
  const channel: Channel = {
    signal: extra.signal,
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
  return { content: [{ type: "text", text }], structuredContent: out.result.structured };
}

export function registerTools(server: McpServer, executor: ToolExecutor): void {
  const mode = executor.runtime.mode;
  for (const def of executor.tools) {
    const safety = safetyOf(def);
    if (!allows(mode, safety.tier)) continue; // tools above the mode are not listed (calls are still answered below)
    server.registerTool(
      def.name,
      {
        title: def.title,
        description: def.description,
        inputSchema: def.inputSchema,
        outputSchema: def.output,
        annotations: {
          title: def.title,
          readOnlyHint: safety.annotations.readOnly,
          destructiveHint: safety.annotations.destructive,
          idempotentHint: safety.annotations.idempotent,
          openWorldHint: safety.annotations.openWorld,
        },
      },
      (args: Record<string, unknown>, extra: CallExtra) => callTool(server, executor, def.name, args, extra),
    );
  }
  // The SDK's own dispatcher answers a hidden tool with "Tool X not found" and bad arguments with free text. Every
  // call goes to the executor instead: MODE_FORBIDDEN (audited) above the mode, INVALID_INPUT naming the field.
  server.server.setRequestHandler(CallToolRequestSchema, (request, extra) => callTool(server, executor, request.params.name, request.params.arguments ?? {}, extra));
}
