/**
 * Safety modes. A tool declares the tier it needs; the server's mode decides which tiers are listed and callable.
 * read-only: nothing that changes state. investigate: collections, labels, hunts. respond: containment and removal.
 */
import { InputError, MegaraptorError } from "../../core/errors.js";

export const MODES = ["read-only", "investigate", "respond"] as const;
export type Mode = (typeof MODES)[number];
export type Tier = "read" | "investigate" | "respond";

const RANK: Record<Tier, number> = { read: 0, investigate: 1, respond: 2 };
const MODE_RANK: Record<Mode, number> = { "read-only": 0, investigate: 1, respond: 2 };

export function allows(mode: Mode, tier: Tier): boolean {
  return RANK[tier] <= MODE_RANK[mode];
}

export function resolveMode(opts: { mode?: string; readOnly?: boolean }, env: NodeJS.ProcessEnv = process.env): Mode {
  if (opts.readOnly || /^(1|true|yes)$/i.test(env.MEGARAPTOR_READ_ONLY ?? "")) return "read-only";
  const m = opts.mode ?? env.MEGARAPTOR_MODE ?? "investigate";
  if (!(MODES as readonly string[]).includes(m)) throw new InputError("mode", `unknown mode "${m}"`, `Use one of ${MODES.join(", ")}.`);
  return m as Mode;
}

export class ModeForbiddenError extends MegaraptorError {
  constructor(tool: string, tier: Tier, mode: Mode) {
    super("MODE_FORBIDDEN", `${tool} needs the ${tier === "read" ? "read-only" : tier} mode; this server runs in ${mode} mode.`, {
      hint: `Restart the MCP server with --mode ${tier === "read" ? "read-only" : tier} (or MEGARAPTOR_MODE=${tier}) if this action is intended, ideally with a Velociraptor API key of the matching role.`,
    });
  }
}
