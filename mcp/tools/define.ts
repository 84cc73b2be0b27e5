/**
 * A tool is data: name, model-facing description, zod input and output schemas, annotations, the safety tier it
 * needs, whether it is audited or needs plan → confirm, and a handler. The registry in ./index.ts drives the MCP tool
 * list, mode filtering, the audit log and docs/tools.md — so adding a tool means one defineTool() and one registry line.
 *
 * Handlers receive validated arguments and a ToolContext; they return `{ structured, text }` where `structured`
 * matches the output schema. Throw MegaraptorError subclasses for failures: the server turns them into MCP tool
 * errors with code, message, hint and retryable.
 */
import type { z } from "zod";
import type { AuditLog } from "../../core/audit.js";
import type { Mode, Tier } from "../safety/mode.js";
import type { VelociraptorSession } from "../../velociraptor/session.js";

export interface ToolAnnotationsSpec {
  readOnly: boolean;
  destructive: boolean;
  idempotent: boolean;
  /** Touches systems beyond the Velociraptor server (endpoints, clouds). */
  openWorld: boolean;
}

export interface Plan {
  /** One line: what will happen. */
  summary: string;
  /** Exactly what will run: clients, artifacts, parameters, VQL. */
  details: Record<string, unknown>;
}

/** orgId is org_id from the arguments, else MEGARAPTOR_DEFAULT_ORG. */
export interface ToolContext extends VelociraptorSession {
  progress(progress: number, total?: number, message?: string): Promise<void>;
  mode: Mode;
  principal: string;
  audit: AuditLog;
}

export interface ToolResult<O> {
  structured: O;
  text: string;
  /** One line for the audit log. */
  auditSummary?: string;
}

export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  annotations: ToolAnnotationsSpec;
  tier: Tier;
  /** State-changing: every call is written to the audit log (a function decides per call, e.g. run_vql). */
  audit: boolean | ((args: z.infer<I>) => boolean);
  needsVelociraptor: boolean;
  /**
   * Plan → confirm: return a plan when this call needs explicit approval (undefined = run now). The server then
   * answers with the plan and a token bound to these exact arguments; the call runs when repeated with the token.
   */
  plan?: (args: z.infer<I>, ctx: ToolContext) => Promise<Plan | undefined>;
  handler: (args: z.infer<I>, ctx: ToolContext) => Promise<ToolResult<z.infer<O>>>;
}

export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(def: ToolDefinition<I, O>): ToolDefinition<I, O> {
  return def;
}

/** Declarations typed loosely for the registry (each keeps its own types where defined). */
export type AnyTool = ToolDefinition<z.ZodObject, z.ZodObject>;
