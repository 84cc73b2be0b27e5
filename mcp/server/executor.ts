/**
 * The one tool executor. The MCP server, the CLI (`megaraptor tool`, the deploy subcommands) and the resources all
 * run tools through it, so a call behaves the same whoever makes it:
 *
 *   validate → mode check → plan → confirm (token, elicitation or --yes; a reason for destructive presets)
 *   → audit intent (refuse when it cannot be written) → handler → output check → audit outcome.
 *
 * Mode refusals, declined and malformed confirmations, and plans are audited too. Errors come back as typed
 * MegaraptorErrors; the adapters (./tools.ts, cli/run-tool.ts, ../resources) only render them.
 */
import type { z } from "zod";
import type { AuditEntry, NewAuditEntry } from "../../core/audit.js";
import { InputError, MegaraptorError, toMegaraptorError } from "../../core/errors.js";
import { log } from "../../core/logger.js";
import { ConfirmationRequiredError } from "../safety/confirm.js";
import { allows, ModeForbiddenError } from "../safety/mode.js";
import { safetyOf, type Confirmation, type Plan, type Tool, type ToolContext, type ToolResult } from "../tools/define.js";
import type { ToolsetSession } from "../tools/toolsets.js";
import { TOOLSET_NAMES } from "../tools/toolsets.js";
import type { Runtime } from "./context.js";

/** How the human answered a plan on this channel. */
export type Approval = { kind: "approved"; reason?: string } | { kind: "declined" } | { kind: "plan-only"; hint: string };

/** What the caller's side offers a call: cancel signal, progress, and (optionally) a way to ask the human. */
export interface Channel {
  signal: AbortSignal;
  progress?: (progress: number, total?: number, message?: string) => Promise<void>;
  /** org_id when the arguments have none (CLI --org); else the runtime's default org. */
  orgId?: string;
  via: Confirmation["via"];
  /**
   * Ask the human about a plan. undefined: nobody can be asked here — the executor answers with a confirm_token.
   * `reason` is the reason already in the arguments, if any.
   */
  approve?: (plan: Plan, o: { tool: string; reasonRequired: boolean; reason?: string }) => Promise<Approval | undefined>;
  /** Names an input field in errors (the CLI says --client-id where the MCP client says client_id). */
  fieldName?: (path: string) => string;
  /** The MCP session's toolsets; elsewhere (CLI, resources) every toolset counts as listed and none can change. */
  toolsets?: ToolsetSession;
}

export type Outcome =
  | { ok: true; result: ToolResult<Record<string, unknown>>; warnings: string[] }
  | { ok: false; error: MegaraptorError; extra?: Record<string, unknown> };

type ProgressFn = (progress: number, total?: number, message?: string) => Promise<void>;

/**
 * MCP requires a call's progress values to increase with every notification. Tools report per phase (scheduling 0..n,
 * then waiting 0..m, then reading 0..k); this shifts each new phase past the last value sent, and its total with it,
 * so what the client sees only ever increases and a phase's own total still bounds its values.
 */
export function monotonicProgress(send: ProgressFn): ProgressFn {
  let last = -Infinity;
  let shift = 0;
  return (progress, total, message) => {
    if (progress + shift <= last) shift = last + 1 - progress;
    last = progress + shift;
    return send(last, total === undefined ? undefined : total + shift, message);
  };
}

function firstIssue(error: z.ZodError, name: (p: string) => string): InputError {
  const i = error.issues[0];
  const path = i?.path.map(String).join(".") || "input";
  return new InputError(name(path), i?.message ?? "is invalid", "The tool's input schema lists every field and its type.");
}

export class ToolExecutor {
  private readonly byName: Map<string, Tool>;

  constructor(
    readonly runtime: Runtime,
    readonly tools: readonly Tool[],
  ) {
    this.byName = new Map(tools.map((t) => [t.name, t]));
  }

  find(name: string): Tool | undefined {
    return this.byName.get(name);
  }

  /** Whether this runtime's mode lets the named tool run. */
  allowedInMode(name: string): boolean {
    const def = this.byName.get(name);
    return def !== undefined && allows(this.runtime.mode, safetyOf(def).tier);
  }

  /** For callers without an MCP session: every toolset counts as listed, and none can be enabled. */
  private readonly fixedToolsets: ToolsetSession = {
    enabled: () => TOOLSET_NAMES,
    dynamic: false,
    allowedInMode: (tool) => this.allowedInMode(tool),
    enable: async () => [],
  };

  /** The ToolContext every tool call (and every resource read) gets — built here and nowhere else. */
  context(channel: Channel, orgId?: unknown, confirmation?: Confirmation): ToolContext {
    const runtime = this.runtime;
    return {
      client: () => runtime.client(),
      orgId: (typeof orgId === "string" && orgId ? orgId : undefined) ?? channel.orgId ?? runtime.defaultOrg,
      signal: channel.signal,
      mode: runtime.mode,
      principal: runtime.principal,
      audit: runtime.audit,
      progress: channel.progress ?? (async () => undefined),
      confirmation,
      toolsets: channel.toolsets ?? this.fixedToolsets,
    };
  }

  /** Runs one call. Never throws: failures come back as { ok: false, error }. */
  async run(tool: Tool | string, raw: Record<string, unknown>, channel: Channel): Promise<Outcome> {
    const def = typeof tool === "string" ? this.find(tool) : tool;
    if (!def) return { ok: false, error: await this.unknownTool(String(tool)) };
    // One increasing progress sequence per call, whatever the phases of its plan and handler report.
    if (channel.progress) channel = { ...channel, progress: monotonicProgress(channel.progress) };
    const safety = safetyOf(def);
    const runtime = this.runtime;
    const caseId = typeof raw.case_id === "string" ? raw.case_id : undefined;
    const record = (e: Pick<NewAuditEntry, "outcome" | "summary" | "reason" | "intent" | "error">, args: unknown = raw) =>
      runtime.audit.append({ tool: def.name, principal: runtime.principal, mode: runtime.mode, arguments: args, case: caseId, ...e });
    /** A refusal is recorded when it can be; the refusal stands either way. */
    const refuse = async (error: MegaraptorError, extra?: Record<string, unknown>, summary?: string): Promise<Outcome> => {
      await record({ outcome: "refused", summary, error: { code: error.code, message: error.message } }).catch((err: unknown) => log.error("could not audit a refusal", { tool: def.name, error: String(err) }));
      return { ok: false, error, extra };
    };

    // Above the mode: refused and audited, whether or not the tool is listed in this mode.
    if (!allows(runtime.mode, safety.tier)) return refuse(new ModeForbiddenError(def.name, safety.tier, runtime.mode));

    const bound = def.bind(raw);
    if (!bound.ok) return { ok: false, error: firstIssue(bound.error, channel.fieldName ?? ((p) => p)) };
    const call = bound.call;
    const args = call.args;
    const audited = safety.audit && call.changes();
    const given = call.confirm.reason ?? (typeof args.reason === "string" && args.reason.trim() ? args.reason.trim() : undefined);

    let confirmation: Confirmation | undefined;
    let plan: Plan | undefined;
    let intent: AuditEntry | undefined;
    try {
      plan = call.plan ? await call.plan(this.context(channel, args.org_id)) : undefined;
      if (plan) {
        const reasonRequired = safety.reasonRequired || plan.destructive === true;
        const token = call.confirm.confirm_token;
        if (token) {
          // The reason is checked before the token is spent, so the call can be repeated with one.
          if (reasonRequired && !given) return refuse(new ConfirmationRequiredError(`${def.name} is destructive: confirming it needs a reason.`, "Ask the user why, then repeat the call with the same arguments, the same confirm_token and reason=\"…\"."), { plan }, plan.summary);
          runtime.confirmations.consume(def.name, args, token);
          confirmation = { via: "token", reason: given };
        } else {
          const answer = await channel.approve?.(plan, { tool: def.name, reasonRequired, reason: given }).catch((err: unknown) => {
            log.warn("could not ask the user to approve a plan; answering with a confirm_token", { tool: def.name, error: String(err) });
            return undefined;
          });
          if (answer?.kind === "declined") return refuse(new ConfirmationRequiredError(`The user declined: ${plan.summary}`, "Do not retry unless the user asks for it."), undefined, `declined by the user: ${plan.summary}`);
          if (answer?.kind === "plan-only") {
            await record({ outcome: "planned", summary: plan.summary }, args);
            return { ok: false, error: new ConfirmationRequiredError(`Confirmation required: ${plan.summary}.`, answer.hint), extra: { plan, reason_required: reasonRequired } };
          }
          if (answer?.kind === "approved") {
            if (reasonRequired && !answer.reason) return refuse(new ConfirmationRequiredError(`${def.name} is destructive: approving it needs a reason.`, "Give the reason for this action when approving it."), { plan }, plan.summary);
            confirmation = { via: channel.via, reason: answer.reason };
          } else {
            const issued = runtime.confirmations.issue(def.name, args);
            await record({ outcome: "planned", summary: plan.summary }, args);
            const hint = `Show this plan to the user; if they approve, call ${def.name} again with exactly the same arguments plus confirm_token${reasonRequired ? ' and reason="why" (required: this action is destructive)' : ""}.`;
            return { ok: false, error: new ConfirmationRequiredError(`Confirmation required: ${plan.summary}.`, hint), extra: { plan, confirm_token: issued.token, expires_at: issued.expiresAt, reason_required: reasonRequired } };
          }
        }
      }
      // Nothing runs unless its record could be written first.
      if (audited) intent = await record({ outcome: "intent", summary: plan?.summary, reason: confirmation?.reason ?? given }, args);
      const result = await call.run(this.context(channel, args.org_id, confirmation));
      const shape = def.output.safeParse(result.structured);
      if (!shape.success) throw new Error(`${def.name} returned output that does not match its schema: ${shape.error.issues[0]?.path.join(".")}: ${shape.error.issues[0]?.message}`);
      const warnings: string[] = [];
      if (intent)
        await record({ outcome: result.outcome ?? "ok", intent: intent.seq, summary: result.auditSummary, reason: confirmation?.reason ?? given }, args).catch((err: unknown) => {
          // The action happened and its intent is on record; say that its outcome is not.
          warnings.push(`the outcome could not be written to the audit log (${toMegaraptorError(err).message}); intent entry #${intent!.seq} records the call`);
          log.error("could not audit an outcome", { tool: def.name, error: String(err) });
        });
      return { ok: true, result, warnings };
    } catch (err) {
      const e = toMegaraptorError(err);
      if (e.code === "INTERNAL") log.error("tool failed unexpectedly", { tool: def.name, error: String((err as Error)?.stack ?? err) });
      if (e.code === "MODE_FORBIDDEN" || e.code === "CONFIRMATION_REQUIRED") return refuse(e, plan ? { plan } : undefined, plan?.summary);
      if (audited && !(intent === undefined && (e.code === "AUDIT_UNAVAILABLE" || e.code === "AUDIT_TAMPERED")))
        await record({ outcome: "error", intent: intent?.seq, error: { code: e.code, message: e.message } }, args).catch((werr: unknown) => log.error("could not audit an error", { tool: def.name, error: String(werr) }));
      return { ok: false, error: e };
    }
  }

  private async unknownTool(name: string): Promise<MegaraptorError> {
    const { didYouMean } = await import("../tools/common.js");
    const near = didYouMean(name, this.tools.map((t) => t.name));
    return new MegaraptorError("NOT_FOUND", `no tool "${name}"`, { hint: near.length ? `Did you mean ${near.join(", ")}?` : "tools/list names every tool." });
  }
}
