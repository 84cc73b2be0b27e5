/** Artifact tools: browse the catalog, read a definition, and collect artifacts from a client. */
import { z } from "zod";
import { NotFoundError } from "../../velociraptor/errors.js";
import { checkArtifacts, perArtifactParameters } from "./catalog.js";
import { didYouMean, escapeRegex, listPage, listParam, rowsOf } from "./common.js";
import { defineTool } from "./define.js";
import { collectArtifacts } from "../../dfir/collection/collect.js";
import { collectionSession } from "./session.js";
import { enforceArtifacts, respondPlan } from "../safety/artifact-effects.js";
import { firstPagesText, FirstPageOutput, shapeFirstPages } from "./flows.js";
import { ArtifactName, ClientOrServerId, OrgId } from "./ids.js";
import { PageInput, PageSchema, CoverageSchema, RowSchema, RowsOutput } from "./shape.js";

const TYPE_FILTER: Record<string, string[]> = { client: ["client"], server: ["server"], event: ["client_event", "server_event"] };

export const listArtifacts = defineTool({
  name: "list_artifacts",
  title: "Browse artifacts",
  description: "Artifacts the server knows (name, type, one-line description). Filter by a name/description substring and by type (client, server, event). Use get_artifact for parameters.",
  input: z.object({
    search: z.string().max(200).optional().describe("substring of the name or description, e.g. Pslist or prefetch"),
    artifact_type: z.enum(["client", "server", "event"]).optional(),
    org_id: OrgId,
    ...PageInput,
  }),
  output: z.object(RowsOutput),
  preset: "read",
  async handler(args, ctx) {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    // The search is matched literally: it is regex-escaped here and passed as data.
    if (args.search) {
      where.push("(name =~ Pattern OR description =~ Pattern)");
      params.Pattern = escapeRegex(args.search);
    }
    if (args.artifact_type) {
      where.push("type IN parse_json(data=Types).items");
      params.Types = listParam(TYPE_FILTER[args.artifact_type]!);
    }
    return listPage(ctx, args, {
      key: ["list_artifacts", args.search, args.artifact_type, args.org_id],
      vql: `SELECT name, type, description FROM artifact_definitions()${where.length ? ` WHERE ${where.join(" AND ")}` : ""} ORDER BY name`,
      params,
      title: "Artifacts",
      filtered: where.length ? "the search/type filter" : undefined,
      // Descriptions can run to pages; the first line is what a model needs to choose.
      map: (rows) => rows.map((r) => ({ ...r, description: String(r.description ?? "").split("\n")[0]!.slice(0, 200) })),
    });
  },
});

export const getArtifact = defineTool({
  name: "get_artifact",
  title: "Artifact definition",
  description: "The definition of one artifact: description, type, parameters (name, default, type), sources, required permissions, precondition. Read it before collect_artifact to set parameters right.",
  input: z.object({ artifact_name: ArtifactName, org_id: OrgId }),
  output: z.object({ artifact: z.record(z.string(), z.unknown()) }),
  preset: "read",
  async handler(args, ctx) {
    const rows = await rowsOf(ctx, "SELECT name, type, description, author, precondition, required_permissions, parameters, sources FROM artifact_definitions(names=Name)", { Name: args.artifact_name });
    if (!rows[0]) {
      const names = (await rowsOf(ctx, "SELECT name FROM artifact_definitions()", {}, 100_000)).map((r) => String(r.name));
      const near = didYouMean(args.artifact_name, names);
      throw new NotFoundError(`Artifact ${args.artifact_name}`, near.length ? `Did you mean ${near.join(", ")}?` : "Search with list_artifacts.");
    }
    return { structured: { artifact: rows[0] }, text: JSON.stringify(rows[0], null, 2) };
  },
});

export const collectArtifact = defineTool({
  name: "collect_artifact",
  title: "Collect artifacts from an endpoint",
  description:
    "Collect one or more artifacts on one client (or 'server'). parameters: per artifact {\"Windows.System.Pslist\": {\"ProcessRegex\": \"x\"}} or shared {\"ProcessRegex\": \"x\"}; names are checked against the live catalog. wait=true waits (progress) and returns a first page per result set (each source) and the flow's errors. Returns the flow id for get_flow_status / get_flow_results.",
  input: z.object({
    client_id: ClientOrServerId,
    artifacts: z.array(ArtifactName).min(1).max(50),
    parameters: z.record(z.string(), z.unknown()).optional(),
    timeout: z.number().int().min(1).max(86_400).default(600).describe("seconds the client may spend"),
    urgent: z.boolean().default(false),
    wait: z.boolean().default(false).describe("wait for completion and return the first page of each result set"),
    wait_timeout: z.number().int().min(1).max(3600).default(300).describe("seconds to wait when wait=true"),
    limit: PageInput.limit,
    org_id: OrgId,
  }),
  output: z.object({
    flow_id: z.string(),
    client_id: z.string(),
    artifacts: z.array(z.string()),
    state: z.string(),
    errors: z.array(z.string()),
    results: z.object({ rows: z.array(RowSchema), page: PageSchema, coverage: CoverageSchema, artifact: z.string().nullable(), available_sources: z.array(z.string()) }).optional().describe("the first result set's first page (all of them are in pages)"),
    pages: z.array(FirstPageOutput).optional().describe("with wait=true: the first page of each result set with rows"),
  }),
  preset: "collect",
  // What the artifacts do decides: respond-level ones (remediation, server artifacts, EXECVE…) are refused below
  // respond mode and need plan → confirm in it.
  async plan(args, ctx) {
    const spec = perArtifactParameters(args.artifacts, args.parameters);
    await checkArtifacts(ctx, args.artifacts, spec);
    const a = await enforceArtifacts(ctx, args.artifacts, { onServer: args.client_id === "server", via: "collect_artifact" });
    return respondPlan(a, `Collect ${args.artifacts.join(", ")} on ${args.client_id}`, { client_id: args.client_id, parameters: spec });
  },
  async handler(args, ctx) {
    const r = await collectArtifacts(collectionSession(ctx), {
      clientId: args.client_id,
      artifacts: args.artifacts,
      parameters: args.parameters,
      timeoutSeconds: args.timeout,
      urgent: args.urgent,
      wait: args.wait ? { timeoutSeconds: args.wait_timeout, pageRows: args.limit } : undefined,
    });
    const base = { flow_id: r.flowId, client_id: r.clientId, artifacts: r.artifacts, state: r.state, errors: r.errors };
    if (!r.waited) return { structured: base, text: `Scheduled ${r.flowId} on ${args.client_id}. Poll get_flow_status, then get_flow_results.`, auditSummary: `flow ${r.flowId}` };
    const pages = shapeFirstPages(args.client_id, r.flowId, r.waited, args.limit);
    const first = pages[0];
    return {
      structured: { ...base, results: first && { rows: first.rows, page: first.page, coverage: first.coverage, artifact: first.artifact, available_sources: r.waited.sources }, pages },
      text: firstPagesText(r.flowId, r.state, r.errors, pages),
      auditSummary: `flow ${r.flowId} ${r.state}`,
    };
  },
});

export const artifactTools = [listArtifacts, getArtifact, collectArtifact];
