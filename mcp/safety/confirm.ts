/**
 * Plan → confirm. A destructive or fleet-wide call first returns a plan and a token bound to a fingerprint of its
 * exact arguments; only the same call with that token, within the TTL and once, executes. The executor
 * (mcp/server/executor.ts) issues and consumes tokens; the same plans are approved by elicitation or the CLI's --yes.
 */
import { createHash, randomBytes } from "node:crypto";
import { MegaraptorError } from "../../core/errors.js";
import { numericSetting } from "../../core/settings.js";

export class ConfirmationRequiredError extends MegaraptorError {
  constructor(message: string, hint: string, details?: Record<string, unknown>) {
    super("CONFIRMATION_REQUIRED", message, { hint, details });
  }
}

/** Canonical JSON: sorted keys, so the same arguments always give the same fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object")
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "null";
}

/**
 * What a token approves: the tool and its arguments, without the confirmation itself (the token, and the reason —
 * which is why the human approved, given on the confirming call, not part of what runs).
 */
export function fingerprint(tool: string, args: Record<string, unknown>): string {
  const { confirm_token: _t, reason: _r, ...rest } = args;
  return createHash("sha256").update(`${tool}\n${canonicalJson(rest)}`).digest("hex");
}

interface Pending {
  tool: string;
  fingerprint: string;
  expiresAt: number;
}

export class ConfirmationService {
  private readonly pending = new Map<string, Pending>();
  constructor(
    private readonly ttlMs = numericSetting("MEGARAPTOR_CONFIRM_TTL_SECONDS") * 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Issues a single-use token for exactly these arguments. */
  issue(tool: string, args: Record<string, unknown>): { token: string; expiresAt: string } {
    for (const [t, p] of this.pending) if (p.expiresAt < this.now()) this.pending.delete(t);
    const token = `ct_${randomBytes(18).toString("base64url")}`;
    const expiresAt = this.now() + this.ttlMs;
    this.pending.set(token, { tool, fingerprint: fingerprint(tool, args), expiresAt });
    return { token, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Consumes a token; throws when it is unknown, used, expired, for another tool or for other arguments. */
  consume(tool: string, args: Record<string, unknown>, token: string): void {
    const p = this.pending.get(token);
    const again = "Call the tool again without confirm_token to get a fresh plan and token.";
    if (!p) throw new ConfirmationRequiredError("confirm_token is unknown or was already used.", again);
    this.pending.delete(token);
    if (p.expiresAt < this.now()) throw new ConfirmationRequiredError("confirm_token has expired.", again);
    if (p.tool !== tool) throw new ConfirmationRequiredError(`confirm_token was issued for ${p.tool}, not ${tool}.`, again);
    if (p.fingerprint !== fingerprint(tool, args))
      throw new ConfirmationRequiredError("The arguments differ from the plan this confirm_token approved.", again);
  }
}
