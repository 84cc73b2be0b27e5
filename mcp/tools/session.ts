/**
 * The collection session a tool hands to the dfir/ services: the tool context's Velociraptor session and progress,
 * plus the MCP layer's artifact gate (allow-list and mode checks, mcp/safety) — the policy the services ask and never
 * decide themselves.
 */
import type { CollectionSession } from "../../dfir/collection/session.js";
import { ArtifactNotAllowedError, currentAllowList } from "../safety/allowlist.js";
import { enforceArtifacts } from "../safety/artifact-effects.js";
import type { ToolContext } from "./define.js";

export function collectionSession(ctx: ToolContext): CollectionSession {
  return {
    client: () => ctx.client(),
    orgId: ctx.orgId,
    signal: ctx.signal,
    progress: (progress, total, message) => ctx.progress(progress, total, message),
    gate: {
      checkName(name) {
        const allow = currentAllowList();
        if (allow && !allow.entries.has(name)) throw new ArtifactNotAllowedError(name, `is not in the artifact allow-list (${allow.path})`);
      },
      async enforce(artifacts, target) {
        await enforceArtifacts(ctx, artifacts, target);
      },
    },
  };
}
