/**
 * A tool is data: name, model-facing description, zod input and output schemas, ONE safety preset, optionally a plan
 * (plan → confirm) and a handler. The preset decides the tier (which modes list and run the tool), the MCP
 * annotations, whether calls are audited and whether confirming a plan needs a reason — so these never disagree
 * (test/mcp/safety/presets.test.ts checks the rules). The registry in ./index.ts drives the MCP tool list, the
 * executor (mcp/server/executor.ts), the CLI and docs/tools.md.
 *
 * Handlers receive validated arguments and a ToolContext; they return `{ structured, text }` where `structured`
 * matches the output schema. Throw MegaraptorError subclasses for failures: the executor turns them into errors with
 * code, message, hint and retryable.
 */
import { z } from "zod";
import type { AuditLog } from "../../core/audit.js";
import type { Mode, Tier } from "../safety/mode.js";
import type { VelociraptorSession } from "../../velociraptor/session.js";
import type { ToolsetSession } from "./toolsets.js";

export interface ToolAnnotationsSpec {
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  /** Touches systems beyond the Velociraptor server (endpoints, hosts, clouds). */
  openWorld: boolean;
}

export interface PresetSpec {
  tier: Tier;
  annotations: ToolAnnotationsSpec;
  /** Calls are written to the audit log (intent before, outcome after). */
  audit: boolean;
  /** One line for docs/tools.md. */
  means: string;
}

const hints = (readOnly: boolean, destructive: boolean, idempotent: boolean, openWorld: boolean): ToolAnnotationsSpec => ({ readOnly, destructive, idempotent, openWorld });

/**
 * Every tool names one of these. Rules (checked by test/mcp/safety/presets.test.ts): a read tier is read-only; every
 * other tier is audited; a destructive preset plans before it acts (plan → confirm); a respond-tier preset is
 * destructive, and confirming any of its plans needs a reason.
 */
export const PRESETS = {
  read: { tier: "read", annotations: hints(true, false, true, false), audit: false, means: "reads Velociraptor or Megaraptor's own state; changes nothing" },
  "read-remote": { tier: "read", annotations: hints(true, false, true, true), audit: false, means: "reads or probes hosts and clouds beyond Velociraptor; changes nothing" },
  evidence: { tier: "evidence", annotations: hints(false, false, false, false), audit: true, means: "adds files to the evidence folder only (audited: chain of custody); changes nothing elsewhere" },
  query: { tier: "query", annotations: hints(false, true, false, true), audit: true, means: "runs what it is given: each call is classified and needs the mode (and confirmation) its effects need" },
  change: { tier: "investigate", annotations: hints(false, false, true, false), audit: true, means: "changes Velociraptor server state (labels, flow state, server-side exports)" },
  collect: { tier: "investigate", annotations: hints(false, false, false, true), audit: true, means: "runs collections or hunts on endpoints" },
  "local-write": { tier: "investigate", annotations: hints(false, false, true, false), audit: true, means: "writes files or stored state on this machine" },
  deploy: { tier: "investigate", annotations: hints(false, false, true, true), audit: true, means: "creates or updates infrastructure (Pulumi) or installs agents" },
  disruptive: { tier: "investigate", annotations: hints(false, true, false, true), audit: true, means: "can remove data or undo work on servers and infrastructure: plan → confirm (a reason when the plan is destructive)" },
  "local-delete": { tier: "investigate", annotations: hints(false, true, true, false), audit: true, means: "deletes stored state on this machine: plan → confirm" },
  destructive: { tier: "respond", annotations: hints(false, true, false, true), audit: true, means: "changes endpoints or destroys infrastructure: plan → confirm with a reason" },
} as const satisfies Record<string, PresetSpec>;

export type Preset = keyof typeof PRESETS;

export interface Plan {
  /** One line: what will happen. */
  summary: string;
  /** Exactly what will run: clients, artifacts, parameters, VQL. */
  details: Record<string, unknown>;
  /** This planned action is destructive (e.g. deleting a hunt's results): confirming it needs a reason. */
  destructive?: boolean;
}

/** How the human approved the plan this call executes. */
export interface Confirmation {
  via: "token" | "elicitation" | "cli";
  /** Why: required for destructive presets, recorded in the audit log and the case ledger. */
  reason?: string;
}

/** orgId is org_id from the arguments, else MEGARAPTOR_DEFAULT_ORG. */
export interface ToolContext extends VelociraptorSession {
  progress(progress: number, total?: number, message?: string): Promise<void>;
  mode: Mode;
  principal: string;
  audit: AuditLog;
  /** Set when the call executes an approved plan. */
  confirmation?: Confirmation;
  /** The toolsets the caller's session lists (list_toolsets / enable_toolsets). */
  toolsets: ToolsetSession;
}

export interface ToolResult<O> {
  structured: O;
  text: string;
  /** One line for the audit log. */
  auditSummary?: string;
  /**
   * The audit outcome when the call ran but its change did not (fully) happen — a remediation the case ledger records
   * as failed or partial — so the audit log and the ledger agree. Absent: ok.
   */
  outcome?: "ok" | "failed" | "partial";
  /**
   * The text renders every value of `structured` (a page of rows: mcp/tools/page-text.ts). Where no output schema is
   * listed the MCP adapter then sends the text alone rather than a second copy of the rows (mcp/server/tools.ts).
   */
  textCarriesAll?: boolean;
}

export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  /** The safety preset: tier, annotations, audit and confirmation follow from it. */
  preset: Preset;
  /**
   * For audited presets: false when this particular call changes nothing (e.g. run_vql with a pure SELECT, a
   * timeline returned as rows), so it is not audited. An exception counts as "changes something".
   */
  changes?: (args: z.infer<I>) => boolean;
  /**
   * Plan → confirm: return a plan when this call needs explicit approval (undefined = run now). The executor then
   * answers with the plan and a token bound to these exact arguments; the call runs when repeated with the token.
   */
  plan?: (args: z.infer<I>, ctx: ToolContext) => Promise<Plan | undefined>;
  handler: (args: z.infer<I>, ctx: ToolContext) => Promise<ToolResult<z.infer<O>>>;
}

/** The confirmation fields every tool with a plan accepts (added to its input schema). */
export const ConfirmInput = z.object({
  confirm_token: z.string().min(1).max(200).optional().describe("from the plan: repeat the same call with this token"),
  reason: z.string().trim().min(3).max(1000).optional().describe("why (audit log, case ledger); required to confirm a destructive plan"),
});

/** A call whose arguments were validated against the tool's schema, ready for the executor. */
export interface BoundCall {
  /** The validated arguments (for the audit log and the confirmation fingerprint). */
  args: Record<string, unknown>;
  confirm: z.infer<typeof ConfirmInput>;
  /** true unless the tool says this call changes nothing; an exception counts as a change. */
  changes(): boolean;
  plan?: (ctx: ToolContext) => Promise<Plan | undefined>;
  run(ctx: ToolContext): Promise<ToolResult<Record<string, unknown>>>;
}

/** A declared tool as the registry, the executor, the CLI and the docs see it (its argument types erased safely). */
export interface Tool {
  name: string;
  title: string;
  description: string;
  preset: Preset;
  input: z.ZodObject;
  output: z.ZodObject;
  /** The input schema the MCP client sees: the tool's, plus confirm_token and reason when it has a plan. */
  inputSchema: z.ZodObject;
  hasPlan: boolean;
  /** Whether some calls change nothing and so go unaudited (the tool declares `changes`). */
  auditsPerCall: boolean;
  bind(raw: unknown): { ok: true; call: BoundCall } | { ok: false; error: z.ZodError };
}

/** The tool's preset, plus whether confirming any of its plans needs a reason (respond tier). */
export function safetyOf(tool: { preset: Preset }): PresetSpec & { reasonRequired: boolean } {
  const p = PRESETS[tool.preset];
  return { ...p, reasonRequired: p.tier === "respond" };
}

export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(def: ToolDefinition<I, O>): ToolDefinition<I, O> & Tool {
  const { plan, changes } = def;
  return {
    ...def,
    inputSchema: plan ? def.input.extend(ConfirmInput.shape) : def.input,
    hasPlan: plan !== undefined,
    auditsPerCall: changes !== undefined,
    bind(raw) {
      const parsed = def.input.safeParse(raw ?? {});
      if (!parsed.success) return { ok: false, error: parsed.error };
      const confirm = plan ? ConfirmInput.safeParse(raw ?? {}) : { success: true as const, data: {} };
      if (!confirm.success) return { ok: false, error: confirm.error };
      const args = parsed.data;
      return {
        ok: true,
        call: {
          args,
          confirm: confirm.data,
          changes: () => {
            try {
              return changes ? changes(args) : true;
            } catch {
              return true;
            }
          },
          plan: plan ? (ctx) => plan(args, ctx) : undefined,
          run: (ctx) => def.handler(args, ctx),
        },
      };
    },
  };
}
