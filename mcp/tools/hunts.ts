/** Hunt tools: create (paused by default, with a scope preview), list, read results, and start/stop/archive/delete. */
import { numericSetting } from "../../core/settings.js";
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { allows, ModeForbiddenError } from "../safety/mode.js";
import { NotFoundError } from "../../velociraptor/errors.js";
import { enforceArtifacts, respondPlan } from "../safety/artifact-effects.js";
import { checkArtifacts, perArtifactParameters } from "./catalog.js";
import { listPage, rowsOf } from "./common.js";
import { defineTool, type Plan, type ToolContext } from "./define.js";
import { createHunt as createHuntService, huntScope, type CreatedHunt, type HuntRequest } from "../../dfir/collection/hunts.js";
import { collectionSession } from "./session.js";
import { ArtifactName, HuntId, OrgId } from "./ids.js";
import { renderRowsText } from "./page-text.js";
import { PageInput, RowsOutput, shapeRows, startOffset } from "./shape.js";

export { huntScope } from "../../dfir/collection/hunts.js";

/**
 * Whether creating this hunt needs the user's approval (MCP safety policy, shared by create_hunt and hunt_template):
 * respond-level artifacts, an unpaused hunt, or one reaching more than MEGARAPTOR_MAX_HUNT_CLIENTS clients.
 */
export async function planHunt(ctx: ToolContext, req: HuntRequest, via: string): Promise<Plan | undefined> {
  const parameters = perArtifactParameters(req.artifacts, req.parameters);
  await checkArtifacts(ctx, req.artifacts, parameters);
  const a = await enforceArtifacts(ctx, req.artifacts, { onServer: false, via });
  const scope = await huntScope(ctx, req);
  const summary = `Create ${req.paused ? "a paused" : "and START a"} hunt for ${req.artifacts.join(", ")} on ${scope.count} client(s)`;
  const respond = respondPlan(a, summary, { scope, parameters });
  if (respond) return respond;
  const maxClients = numericSetting("MEGARAPTOR_MAX_HUNT_CLIENTS");
  if (req.paused && scope.count <= maxClients) return undefined;
  return { summary, details: { artifacts: req.artifacts, parameters, scope, include_labels: req.includeLabels, exclude_labels: req.excludeLabels, os: req.os, max_hunt_clients: maxClients } };
}

/** The service request for create_hunt's arguments. */
function huntRequest(args: { artifacts: string[]; description: string; parameters?: Record<string, unknown>; include_labels?: string[]; exclude_labels?: string[]; os_filter?: "windows" | "linux" | "darwin"; timeout: number; expires_hours: number; paused: boolean }): HuntRequest {
  return { artifacts: args.artifacts, description: args.description, parameters: args.parameters, includeLabels: args.include_labels, excludeLabels: args.exclude_labels, os: args.os_filter, timeoutSeconds: args.timeout, expiresHours: args.expires_hours, paused: args.paused };
}

export const createHunt = defineTool({
  name: "create_hunt",
  title: "Create a hunt",
  description:
    "Create a hunt across many clients, PAUSED by default (start with modify_hunt action=start), with a scope preview (matching clients and a sample). An unpaused hunt, or one reaching more than MEGARAPTOR_MAX_HUNT_CLIENTS clients, returns a plan and confirm_token first.",
  input: z.object({
    artifacts: z.array(ArtifactName).min(1).max(50),
    description: z.string().min(1).max(1000),
    parameters: z.record(z.string(), z.unknown()).optional().describe("per artifact or shared, as in collect_artifact"),
    include_labels: z.array(z.string()).optional(),
    exclude_labels: z.array(z.string()).optional(),
    os_filter: z.enum(["windows", "linux", "darwin"]).optional().describe("only clients of this OS (takes precedence over include_labels)"),
    timeout: z.number().int().min(1).max(86_400).default(600),
    expires_hours: z.number().positive().max(24 * 365).default(24),
    paused: z.boolean().default(true),
    confirm_token: z.string().optional(),
    org_id: OrgId,
  }),
  output: z.object({ hunt_id: z.string(), state: z.string(), scope: z.object({ count: z.number(), sample: z.array(z.record(z.string(), z.unknown())) }) }),
  preset: "collect",
  plan: (args, ctx) => planHunt(ctx, huntRequest(args), "create_hunt"),
  async handler(args, ctx) {
    const h = await createHuntService(collectionSession(ctx), huntRequest(args));
    return {
      structured: { hunt_id: h.huntId, state: h.state, scope: h.scope },
      text: huntText(h, args.artifacts),
      auditSummary: `hunt ${h.huntId} ${h.state} scope=${h.scope.count}`,
    };
  },
});

/** One line about a created hunt (create_hunt, hunt_template). */
export function huntText(h: CreatedHunt, artifacts: string[]): string {
  return `Hunt ${h.huntId} created ${h.state} for ${artifacts.join(", ")}; about ${h.scope.count} client(s) match.${h.state === "PAUSED" ? " Start it with modify_hunt action=start." : ""}`;
}

export const listHunts = defineTool({
  name: "list_hunts",
  title: "List hunts",
  description: "Hunts, newest first: id, description, state (PAUSED, RUNNING, STOPPED, ARCHIVED), artifacts, client counts. Filter by state.",
  input: z.object({ state: z.enum(["PAUSED", "RUNNING", "STOPPED", "ARCHIVED"]).optional(), org_id: OrgId, ...PageInput }),
  output: z.object(RowsOutput),
  preset: "read",
  async handler(args, ctx) {
    return listPage(ctx, args, {
      key: ["list_hunts", args.state, args.org_id],
      vql: `SELECT hunt_id, hunt_description AS description, state, artifacts, create_time, expires, stats.total_clients_scheduled AS clients_scheduled, stats.total_clients_with_results AS clients_with_results FROM hunts()${args.state ? " WHERE state = State" : ""}`,
      params: args.state ? { State: args.state } : {},
      title: "Hunts",
      filtered: args.state ? `state ${args.state}` : undefined,
    });
  },
});

export const getHuntResults = defineTool({
  name: "get_hunt_results",
  title: "Read hunt results",
  description: "One page of a hunt's results across clients (each row has ClientId, FlowId, Fqdn). artifact selects the artifact (Artifact/Source for multi-source); default the hunt's first artifact.",
  input: z.object({ hunt_id: HuntId, artifact: ArtifactName.optional(), source: z.string().optional(), org_id: OrgId, ...PageInput }),
  output: z.object({ ...RowsOutput, hunt_state: z.string() }),
  preset: "read",
  async handler(args, ctx) {
    const hunts = await rowsOf(ctx, "SELECT state, artifacts FROM hunts(hunt_id=HuntId)", { HuntId: args.hunt_id });
    if (!hunts[0]) throw new NotFoundError(`Hunt ${args.hunt_id}`, "List hunts with list_hunts.");
    const artifact = args.artifact ?? (hunts[0].artifacts as string[])[0]!;
    const key = JSON.stringify(["hunt", args.hunt_id, artifact, args.source]);
    const offset = startOffset(args, key);
    const rows = await rowsOf(
      ctx,
      `SELECT * FROM source(hunt_id=HuntId, artifact=ArtifactName${args.source ? ", source=Source" : ""}, start_row=int(int=StartRow), count=int(int=PageSize))`,
      { HuntId: args.hunt_id, ArtifactName: artifact, ...(args.source ? { Source: args.source } : {}), StartRow: offset, PageSize: args.limit + 1 },
    );
    const state = String(hunts[0].state);
    const shaped = shapeRows({ rows, offset, limit: args.limit, queryKey: key, columns: args.columns, provisional: state === "RUNNING" ? "The hunt is RUNNING: more clients may still report." : undefined });
    return { structured: { ...shaped, hunt_state: state }, text: renderRowsText(`Hunt ${args.hunt_id} (hunt ${state}) ${artifact}`, shaped), textCarriesAll: true };
  },
});

const ACTIONS = ["start", "pause", "stop", "archive", "delete"] as const;

export const modifyHunt = defineTool({
  name: "modify_hunt",
  title: "Start, stop, archive or delete a hunt",
  description:
    "Change a hunt's state: start (hunt_update start=TRUE); pause or stop (stop=TRUE; a started hunt cannot be paused in Velociraptor); archive (hunt_delete archive=TRUE); delete (really_do_it=TRUE: removes its results; respond mode). start and delete return a plan and confirm_token first; a delete needs the user's reason.",
  input: z.object({ hunt_id: HuntId, action: z.enum(ACTIONS), confirm_token: z.string().optional(), reason: z.string().max(1000).optional(), org_id: OrgId }),
  output: z.object({ hunt_id: z.string(), action: z.string(), state: z.string() }),
  preset: "disruptive",
  async plan(args, ctx) {
    if (args.action === "delete" && !allows(ctx.mode, "respond")) throw new ModeForbiddenError("modify_hunt action=delete", "respond", ctx.mode);
    if (args.action !== "start" && args.action !== "delete") return undefined;
    const hunts = await rowsOf(ctx, "SELECT hunt_description, state, artifacts, stats FROM hunts(hunt_id=HuntId)", { HuntId: args.hunt_id });
    if (!hunts[0]) throw new NotFoundError(`Hunt ${args.hunt_id}`, "List hunts with list_hunts.");
    // Starting a hunt runs its artifacts on every matching client: the same checks as creating one.
    if (args.action === "start") await enforceArtifacts(ctx, ((hunts[0].artifacts as string[] | null) ?? []).map(String), { onServer: false, via: "modify_hunt start" });
    return {
      summary: args.action === "start" ? `Start hunt ${args.hunt_id}: it will run on every matching client` : `Delete hunt ${args.hunt_id} and all its results`,
      details: { hunt: hunts[0], vql: args.action === "start" ? "hunt_update(hunt_id=HuntId, start=TRUE)" : "hunt_delete(hunt_id=HuntId, really_do_it=TRUE)" },
      destructive: args.action === "delete",
    };
  },
  async handler(args, ctx) {
    if (args.action === "delete" && !allows(ctx.mode, "respond")) throw new ModeForbiddenError("modify_hunt action=delete", "respond", ctx.mode);
    const p = { HuntId: args.hunt_id };
    const exists = await rowsOf(ctx, "SELECT state FROM hunts(hunt_id=HuntId)", p);
    if (!exists[0]) throw new NotFoundError(`Hunt ${args.hunt_id}`, "List hunts with list_hunts.");
    switch (args.action) {
      case "start": {
        const arts = ((await rowsOf(ctx, "SELECT artifacts FROM hunts(hunt_id=HuntId)", p))[0]?.artifacts as string[] | null) ?? [];
        await enforceArtifacts(ctx, arts.map(String), { onServer: false, via: "modify_hunt start" });
        await rowsOf(ctx, "SELECT hunt_update(hunt_id=HuntId, start=TRUE) AS R FROM scope()", p);
        break;
      }
      case "pause":
      case "stop":
        await rowsOf(ctx, "SELECT hunt_update(hunt_id=HuntId, stop=TRUE) AS R FROM scope()", p);
        break;
      case "archive":
        await rowsOf(ctx, "SELECT * FROM hunt_delete(hunt_id=HuntId, archive=TRUE, really_do_it=TRUE)", p);
        break;
      case "delete":
        await rowsOf(ctx, "SELECT * FROM hunt_delete(hunt_id=HuntId, really_do_it=TRUE)", p);
        break;
      default:
        throw new InputError("action", "unknown action", `Use one of ${ACTIONS.join(", ")}.`);
    }
    const after = await rowsOf(ctx, "SELECT state FROM hunts(hunt_id=HuntId)", p);
    const state = after[0] ? String(after[0].state) : "DELETED";
    return { structured: { hunt_id: args.hunt_id, action: args.action, state }, text: `Hunt ${args.hunt_id}: ${args.action} → ${state}`, auditSummary: `${args.action} → ${state}` };
  },
});

export const huntTools = [createHunt, listHunts, getHuntResults, modifyHunt];
