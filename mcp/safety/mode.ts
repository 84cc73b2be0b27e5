/**
 * Safety modes. A tool's preset gives it a tier; the server's mode decides which tiers are listed and callable.
 * read-only: nothing that changes Velociraptor, endpoints or infrastructure (tiers read, evidence — new files in the
 * evidence folder, audited — and query — run_vql, whose every call is classified by what it would do).
 * investigate: + collections, labels, hunts, local files, deployments. respond: + containment, removal, destruction.
 */
import { InputError, MegaraptorError } from "../../core/errors.js";

export const MODES = ["read-only", "investigate", "respond"] as const;
export type Mode = (typeof MODES)[number];
export const TIERS = ["read", "evidence", "query", "investigate", "respond"] as const;
export type Tier = (typeof TIERS)[number];

/** The lowest mode that lists and runs each tier. */
export const TIER_MODE: Record<Tier, Mode> = { read: "read-only", evidence: "read-only", query: "read-only", investigate: "investigate", respond: "respond" };
const MODE_RANK: Record<Mode, number> = { "read-only": 0, investigate: 1, respond: 2 };

export function allows(mode: Mode, tier: Tier): boolean {
  return MODE_RANK[TIER_MODE[tier]] <= MODE_RANK[mode];
}

export function resolveMode(opts: { mode?: string; readOnly?: boolean }, env: NodeJS.ProcessEnv = process.env): Mode {
  if (opts.readOnly || /^(1|true|yes)$/i.test(env.MEGARAPTOR_READ_ONLY ?? "")) return "read-only";
  const m = opts.mode ?? env.MEGARAPTOR_MODE ?? "investigate";
  if (!(MODES as readonly string[]).includes(m)) throw new InputError("mode", `unknown mode "${m}"`, `Use one of ${MODES.join(", ")}.`);
  return m as Mode;
}

export class ModeForbiddenError extends MegaraptorError {
  constructor(tool: string, tier: Tier, mode: Mode) {
    const needed = TIER_MODE[tier];
    super("MODE_FORBIDDEN", `${tool} needs the ${needed} mode; this server runs in ${mode} mode.`, {
      hint: `Restart the MCP server with --mode ${needed} (or MEGARAPTOR_MODE=${needed}) if this action is intended, ideally with a Velociraptor API key of the matching role.`,
    });
  }
}
