/**
 * The BUILT `megaraptor` CLI (dist/cli/main.js), as users run it: a spawn costs a node start, not a TypeScript
 * compile per call. Tests that need it skip, with this reason in their title, when dist/ is not built.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../core/paths.js";

export const CLI_MAIN = join(packageRoot(), "dist", "cli", "main.js");

/** Why CLI tests cannot run here, or "" when they can. */
export const CLI_NOT_BUILT = existsSync(CLI_MAIN) ? "" : "dist/ is not built: run `npm run build` (npm test does)";

/** A describe title that carries the skip reason when there is one. */
export function cliTitle(title: string): string {
  return CLI_NOT_BUILT ? `${title} [SKIPPED: ${CLI_NOT_BUILT}]` : title;
}
