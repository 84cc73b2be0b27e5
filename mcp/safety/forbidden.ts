/**
 * MODE_FORBIDDEN for a call whose effect — not its tool — is above the mode: names each refused call or artifact
 * with why, so the user sees exactly what would have run.
 */
import { MegaraptorError } from "../../core/errors.js";
import type { Effect } from "../../velociraptor/vql/index.js";
import type { Mode } from "./mode.js";

export interface Refusal {
  what: string;
  effect: Effect;
  reason: string;
  line?: number;
  column?: number;
}

export class EffectForbiddenError extends MegaraptorError {
  constructor(subject: string, needs: Effect, mode: Mode, refused: Refusal[]) {
    const needed = needs === "read" ? "read-only" : needs;
    super("MODE_FORBIDDEN", `${subject} needs the ${needed} mode; this server runs in ${mode} mode. ${refused.map((r) => `${r.what}${r.line ? ` (${r.line}:${r.column})` : ""}: ${r.reason}`).join("; ")}`, {
      hint:
        mode === "read-only"
          ? "read-only mode runs only what is known to read (see the README's safety section); restart with --mode investigate if a change is intended."
          : `Restart the MCP server with --mode ${needed} (ideally with an API key of the matching role) if this is intended; no confirm token can unlock it in ${mode} mode.`,
      details: { refused },
    });
  }
}
