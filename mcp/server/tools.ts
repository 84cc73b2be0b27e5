/**
 * Registers the declared tools on an McpServer: mode filtering, plan → confirm (token or elicitation), audit,
 * progress, cancellation, and errors as MCP tool errors with code / hint / retryable — never a stack trace.
 */
import type { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { toMegaraptorError, type MegaraptorError } from "../../core/errors.js";
import { log } from "../../core/logger.js";
import { allows, ModeForbiddenError } from "../safety/mode.js";
import { ConfirmationRequiredError } from "../safety/confirm.js";
import type { AnyTool, Plan, ToolContext } from "../tools/define.js";
import type { Runtime } from "./context.js";

type Extra = {
  signal: AbortSignal;
  _meta?: { progressToken?: string | number };
  sendNotification: (n: { method: "notifications/progress"; params: { progressToken: string | number; progress: number; total?: number; message?: string } }) => Promise<void>;
};

export function errorResult(e: MegaraptorError, extra: Record<string, unknown> = {}): CallToolResult {
  const body = { error: { code: e.code, message: e.message, hint: e.hint, retryable: e.retryable, ...e.details, ...extra } };
  return { isError: true, content: [{ type: "text", text: JSON.stringify(body, null, 2) }] };
}

async function askHuman(server: McpServer, plan: Plan): Promise<boolean | undefined> {
  const caps = server.server.getClientCapabilities();
  if (!caps?.elicitation) return undefined;
  const r = await server.server.elicitInput({
    message: `${plan.summary}\n\n${JSON.stringify(plan.details, null, 2)}\n\nApprove this action?`,
    requestedSchema: { type: "object", properties: { approve: { type: "boolean", title: "Approve", description: "Run exactly this action" } }, required: ["approve"] },
  });
  return r.action === "accept" && r.content?.approve === true;
}

export function registerTools(server: McpServer, runtime: Runtime, tools: AnyTool[]): void {
  for (const def of tools) {
    if (!allows(runtime.mode, def.tier)) continue; // tools above the mode are not even listed
    server.registerTool(
      def.name,
      {
        title: def.title,
        description: def.description,
        inputSchema: def.input,
        outputSchema: def.output,
        annotations: {
          title: def.title,
          readOnlyHint: def.annotations.readOnly,
          destructiveHint: def.annotations.destructive,
          idempotentHint: def.annotations.idempotent,
          openWorldHint: def.annotations.openWorld,
        },
      },
      (async (args: Record<string, unknown>, extra: Extra) => callTool(server, runtime, def, args, extra)) as never,
    );
  }
}

export async function callTool(server: McpServer, runtime: Runtime, def: AnyTool, args: Record<string, unknown>, extra: Extra): Promise<CallToolResult> {
  const auditBase = { tool: def.name, principal: runtime.principal, mode: runtime.mode, arguments: args, case: typeof args.case_id === "string" ? args.case_id : undefined };
  const ctx: ToolContext = {
    client: () => runtime.client(),
    orgId: (args.org_id as string | undefined) ?? runtime.defaultOrg,
    signal: extra.signal,
    mode: runtime.mode,
    principal: runtime.principal,
    audit: runtime.audit,
    progress: async (progress, total, message) => {
      const token = extra._meta?.progressToken;
      if (token !== undefined) await extra.sendNotification({ method: "notifications/progress", params: { progressToken: token, progress, total, message } });
    },
  };
  const audited = typeof def.audit === "function" ? safeAuditDecision(def, args) : def.audit;
  try {
    if (!allows(runtime.mode, def.tier)) throw new ModeForbiddenError(def.name, def.tier, runtime.mode);
    const plan = def.plan ? await def.plan(args, ctx) : undefined;
    if (plan) {
      const token = args.confirm_token as string | undefined;
      if (token) runtime.confirmations.consume(def.name, args, token);
      else {
        const approved = await askHuman(server, plan).catch(() => undefined);
        if (approved === false) {
          await runtime.audit.append({ ...auditBase, outcome: "refused", summary: `declined by the user: ${plan.summary}` });
          return errorResult(new ConfirmationRequiredError(`The user declined: ${plan.summary}`, "Do not retry unless the user asks for it."));
        }
        if (approved === undefined) {
          const issued = runtime.confirmations.issue(def.name, args);
          await runtime.audit.append({ ...auditBase, outcome: "planned", summary: plan.summary });
          const e = new ConfirmationRequiredError(
            `Confirmation required: ${plan.summary}.`,
            "Show this plan to the user; if they approve, call the same tool again with exactly the same arguments plus confirm_token.",
          );
          return errorResult(e, { plan, confirm_token: issued.token, expires_at: issued.expiresAt });
        }
      }
    }
    const result = await def.handler(args, ctx);
    if (audited) await runtime.audit.append({ ...auditBase, outcome: "ok", summary: result.auditSummary });
    return { content: [{ type: "text", text: result.text }], structuredContent: result.structured as Record<string, unknown> };
  } catch (err) {
    const e = toMegaraptorError(err);
    if (e.code === "INTERNAL") log.error("tool failed unexpectedly", { tool: def.name, error: String((err as Error)?.stack ?? err) });
    if (audited || e.code === "MODE_FORBIDDEN" || e.code === "CONFIRMATION_REQUIRED")
      await runtime.audit.append({ ...auditBase, outcome: e.code === "MODE_FORBIDDEN" || e.code === "CONFIRMATION_REQUIRED" ? "refused" : "error", error: { code: e.code, message: e.message } }).catch(() => undefined);
    return errorResult(e);
  }
}

/** A per-call audit decision must never let a call escape the log: when in doubt, audit. */
function safeAuditDecision(def: AnyTool, args: Record<string, unknown>): boolean {
  try {
    return (def.audit as (a: Record<string, unknown>) => boolean)(args);
  } catch {
    return true;
  }
}
