/** Hunt tools: create (paused by default, with a scope preview), list, read results, and start/stop/archive/delete. */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { allows, ModeForbiddenError } from "../safety/mode.js";
import { NotFoundError } from "../../velociraptor/errors.js";
import { enforceArtifacts, respondPlan } from "../safety/artifact-effects.js";
import { checkArtifacts, perArtifactParameters } from "./catalog.js";
import { listPage, listParam, rowsOf } from "./common.js";
import { defineTool, type ToolContext } from "./define.js";
import { ArtifactName, HuntId, OrgId } from "./ids.js";
import { PageInput, renderRowsText, RowsOutput, shapeRows, startOffset } from "./shape.js";

const MAX_HUNT_CLIENTS = Number(process.env.MEGARAPTOR_MAX_HUNT_CLIENTS ?? 500);

interface ScopeArgs {
  include_labels?: string[];
  exclude_labels?: string[];
  os_filter?: "windows" | "linux" | "darwin";
}

/** Estimates which clients a hunt would reach (Velociraptor: OS wins over include_labels; exclusions apply last). */
export async function huntScope(ctx: ToolContext, a: ScopeArgs) {
  const rows = await rowsOf(ctx, "SELECT client_id, os_info.hostname AS hostname, os_info.system AS os, labels FROM clients()", {}, 1_000_000);
  const matches = rows.filter((r) => {
    const labels = (r.labels as string[]) ?? [];
    if (a.os_filter) {
      if (r.os !== a.os_filter) return false;
    } else if (a.include_labels?.length && !a.include_labels.some((l) => labels.includes(l))) return false;
    return !a.exclude_labels?.some((l) => labels.includes(l));
  });
  return { count: matches.length, sample: matches.slice(0, 10).map((r) => ({ client_id: r.client_id, hostname: r.hostname, os: r.os })) };
}

export const createHunt = defineTool({
  name: "create_hunt",
  title: "Create a hunt",
  description:
    "Create a hunt collecting artifacts across many clients. Created PAUSED by default (start it with modify_hunt action=start). The answer includes a scope preview (how many clients match and a sample). Creating an unpaused hunt, or one reaching more than MEGARAPTOR_MAX_HUNT_CLIENTS clients, returns a plan and confirm_token first.",
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
  async plan(args, ctx) {
    await checkArtifacts(ctx, args.artifacts, perArtifactParameters(args.artifacts, args.parameters));
    const a = await enforceArtifacts(ctx, args.artifacts, { onServer: false, via: "create_hunt" });
    const scope = await huntScope(ctx, args);
    const respond = respondPlan(a, `Create ${args.paused ? "a paused" : "and START a"} hunt for ${args.artifacts.join(", ")} on ${scope.count} client(s)`, { scope, parameters: perArtifactParameters(args.artifacts, args.parameters) });
    if (respond) return respond;
    if (args.paused && scope.count <= MAX_HUNT_CLIENTS) return undefined;
    return {
      summary: `Create ${args.paused ? "a paused" : "and START a"} hunt for ${args.artifacts.join(", ")} on ${scope.count} client(s)`,
      details: { artifacts: args.artifacts, parameters: perArtifactParameters(args.artifacts, args.parameters), scope, include_labels: args.include_labels, exclude_labels: args.exclude_labels, os: args.os_filter, max_hunt_clients: MAX_HUNT_CLIENTS },
    };
  },
  async handler(args, ctx) {
    const spec = perArtifactParameters(args.artifacts, args.parameters);
    await checkArtifacts(ctx, args.artifacts, spec);
    await enforceArtifacts(ctx, args.artifacts, { onServer: false, via: "create_hunt" });
    const scope = await huntScope(ctx, args);
    const rows = await rowsOf(
      ctx,
      "SELECT hunt(artifacts=parse_json(data=Artifacts).items, description=Description, spec=parse_json(data=Spec), include_labels=parse_json(data=Include).items, exclude_labels=parse_json(data=Exclude).items, os=Os, timeout=int(int=Timeout), expires=now() + int(int=ExpiresSeconds), pause=Pause) AS Hunt FROM scope()",
      {
        Artifacts: listParam(args.artifacts),
        Description: args.description,
        Spec: spec,
        Include: listParam(args.include_labels ?? []),
        Exclude: listParam(args.exclude_labels ?? []),
        Os: args.os_filter ?? "",
        Timeout: args.timeout,
        ExpiresSeconds: Math.round(args.expires_hours * 3600),
        Pause: args.paused,
      },
    );
    const hunt = rows[0]?.Hunt as { HuntId?: string } | null;
    if (!hunt?.HuntId) throw new NotFoundError("The new hunt", "The server did not create it; the API user needs START_HUNT.");
    const state = args.paused ? "PAUSED" : "RUNNING";
    return {
      structured: { hunt_id: hunt.HuntId, state, scope },
      text: `Hunt ${hunt.HuntId} created ${state} for ${args.artifacts.join(", ")}; about ${scope.count} client(s) match.${args.paused ? " Start it with modify_hunt action=start." : ""}`,
      auditSummary: `hunt ${hunt.HuntId} ${state} scope=${scope.count}`,
    };
  },
});

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
    return { structured: { ...shaped, hunt_state: state }, text: renderRowsText(`Hunt ${args.hunt_id} (hunt ${state}) ${artifact}`, shaped) };
  },
});

const ACTIONS = ["start", "pause", "stop", "archive", "delete"] as const;

export const modifyHunt = defineTool({
  name: "modify_hunt",
  title: "Start, stop, archive or delete a hunt",
  description:
    "Change a hunt's state with the functions Velociraptor really has: start → hunt_update(start=TRUE); pause and stop → hunt_update(stop=TRUE) (Velociraptor has no separate pause once started); archive → hunt_delete(archive=TRUE); delete → hunt_delete(really_do_it=TRUE), which removes its results (needs respond mode). start and delete return a plan and confirm_token first; confirming a delete needs the user's reason.",
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
