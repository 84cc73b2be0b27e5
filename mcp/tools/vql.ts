/** VQL tools: run arbitrary VQL (guarded), and help on plugins and functions. */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { classifyVql } from "../../velociraptor/vql/index.js";
import { judgeVql } from "../safety/vql-policy.js";
import { checkEnv } from "../../velociraptor/query.js";
import { spillRows } from "../../dfir/results/evidence.js";
import { rowsOf } from "./common.js";
import { defineTool } from "./define.js";
import { OrgId } from "./ids.js";
import { validateVql } from "./validate.js";
import { renderRowsText } from "./page-text.js";
import { PageInput, RowsOutput, shapeRows, startOffset } from "./shape.js";

export const runVql = defineTool({
  name: "run_vql",
  title: "Run VQL",
  description:
    "Run VQL on the Velociraptor server. Put user-supplied values in env (referenced by name), never in the query text. Each call in the query is classified by what it would do: read-only mode runs only known reads; investigate mode allows labels, collections and hunts after a plan and confirm_token; deletes, artifact_set, remediation or server artifacts and unknown calls need respond mode. Paged; max_rows caps the rows fetched.",
  input: z.object({
    query: z.string().min(1).max(100_000),
    env: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().describe("query parameters, read by name in the VQL"),
    max_rows: z.number().int().min(1).max(100_000).default(10_000),
    timeout: z.number().int().min(1).max(3600).default(120).describe("server-side timeout, seconds"),
    spill_to_file: z.boolean().default(false).describe("write all rows (up to max_rows) to a JSON Lines evidence file instead of returning them"),
    skip_validation: z.boolean().default(false).describe("skip the validate_vql pre-flight (syntax is still checked)"),
    confirm_token: z.string().optional(),
    org_id: OrgId,
    ...PageInput,
  }),
  output: z.object({
    ...RowsOutput,
    state_changing_calls: z.array(z.string()),
    file: z.object({ path: z.string(), uri: z.string(), rows: z.number(), bytes: z.number(), sha256: z.string() }).optional(),
  }),
  preset: "query",
  // Only queries that can change state are audited; a syntax error counts as "maybe", so it is audited too.
  changes: (args) => {
    const c = classifyVql(args.query, { env: args.env ?? {} });
    return !c.ok || c.effect !== "read" || c.artifacts.length > 0 || args.spill_to_file === true;
  },
  async plan(args, ctx) {
    const syntax = classifyVql(args.query);
    if (!syntax.ok) throw new InputError("query", `VQL syntax error: ${syntax.errors[0]!.message}`, "Fix the query; VQL statements are SELECT … FROM plugin(arg=value) [WHERE …] [LIMIT n] and LET name = ….");
    // Validation only reads (help(), the artifact catalog) and turns typos into "did you mean" before the mode check.
    if (!args.skip_validation) {
      const v = await validateVql(args.query, ctx);
      const errors = v.issues.filter((i) => i.severity === "error");
      if (errors.length)
        throw new InputError("query", `failed validation: ${errors.map((e) => `${e.line}:${e.column} ${e.message}${e.hint ? ` (${e.hint})` : ""}`).join("; ")}`, "Fix the query, or pass skip_validation=true if the server really has it.");
    }
    const j = await judgeVql(args.query, args.env ?? {}, ctx.mode, ctx);
    if (j.effect === "read") return undefined;
    return {
      summary: `Run VQL with ${j.effect}-level effects: ${j.changes.join(", ")}`,
      details: {
        query: args.query,
        env: args.env ?? {},
        org_id: args.org_id ?? null,
        effect: j.effect,
        calls: j.classification.calls.filter((x) => x.effect !== "read").map((x) => ({ call: x.name, effect: x.effect, why: x.reason, at: `${x.line}:${x.column}` })),
        artifacts: j.artifacts?.verdicts.map((v) => ({ artifact: v.name, via: v.via, effect: v.effect, why: v.reasons, required_permissions: v.required_permissions, implied_permissions: v.implied_permissions })) ?? [],
      },
      // Respond-level effects (deleting hunts or clients, remediation artifacts) are confirmed with a reason.
      destructive: j.effect === "respond",
    };
  },
  async handler(args, ctx) {
    const c = classifyVql(args.query, { env: args.env ?? {} });
    const changing = [...new Set(c.calls.filter((x) => x.effect !== "read").map((x) => x.name))];
    if (args.spill_to_file) {
      const stream = ctx.client().query({ vql: args.query, env: checkEnv(args.env ?? {}) }, { orgId: ctx.orgId, maxRows: args.max_rows, timeoutSeconds: args.timeout, signal: ctx.signal });
      const f = await spillRows(stream, "run_vql");
      const capped = stream.truncated;
      const shaped = shapeRows({ rows: [], offset: 0, limit: args.limit, queryKey: "spill" });
      shaped.coverage = capped
        ? { status: "truncated", note: `Stopped at max_rows=${args.max_rows}; ${f.rows} rows are in ${f.path}.` }
        : { status: "exhaustive", note: `All ${f.rows} rows are in ${f.path} (not inlined).` };
      return {
        structured: { ...shaped, state_changing_calls: changing, file: { path: f.path, uri: f.uri, rows: f.rows ?? 0, bytes: f.bytes, sha256: f.sha256 } },
        text: `Wrote ${f.rows} rows (${f.bytes} bytes) to ${f.path}\nsha256 ${f.sha256}`,
        auditSummary: `spilled ${f.rows} rows to ${f.path} sha256=${f.sha256}`,
      };
    }
    const key = JSON.stringify(["run_vql", args.query, args.env, args.org_id, args.max_rows]);
    const offset = startOffset(args, key);
    const want = Math.min(args.max_rows, offset + args.limit + 1);
    // Batches of want + 1 rows (up to the client's default of 1000): the first response then holds the page and the
    // row after it, and the stream stops there. Velociraptor batches a query's rows by max_row (api/query.go passes
    // it to vfilter.GetResponseChannel), so 1000-row batches would send and parse up to 20 times a 50-row page.
    const r = await ctx.client().queryAll({ vql: args.query, env: checkEnv(args.env ?? {}) }, { orgId: ctx.orgId, maxRows: want, batchRows: Math.min(want + 1, 1000), timeoutSeconds: args.timeout, signal: ctx.signal });
    const capped = r.truncated && want === args.max_rows;
    const shaped = shapeRows({ rows: r.rows.slice(offset), offset, limit: args.limit, queryKey: key, columns: args.columns });
    if (capped && !shaped.page.has_more) shaped.coverage = { status: "truncated", note: `Stopped at max_rows=${args.max_rows}; raise max_rows or narrow the query.` };
    return {
      structured: { ...shaped, state_changing_calls: changing },
      text: renderRowsText("VQL result", shaped, changing.length ? [`state-changing calls: ${changing.join(", ")}`] : []),
      textCarriesAll: true,
      auditSummary: changing.length ? `state-changing: ${changing.join(", ")}` : `${shaped.rows.length} rows`,
    };
  },
});

/** Used when the live server cannot be asked (not configured, or help() unavailable). */
const BUILTIN_HELP: { name: string; type: string; args: string }[] = [
  { name: "clients", type: "plugin", args: "search, client_id" },
  { name: "client_info", type: "function", args: "client_id" },
  { name: "label", type: "function", args: "client_id, labels, op (set|remove|check — required)" },
  { name: "collect_client", type: "function", args: "client_id, artifacts, env, spec, timeout, urgent, max_rows, max_bytes" },
  { name: "flows", type: "plugin", args: "client_id, flow_id" },
  { name: "source", type: "plugin", args: "client_id, flow_id, hunt_id, artifact, source, start_row, count" },
  { name: "flow_logs", type: "plugin", args: "client_id, flow_id" },
  { name: "uploads", type: "plugin", args: "client_id, flow_id" },
  { name: "cancel_flow", type: "function", args: "client_id, flow_id" },
  { name: "hunt", type: "function", args: "artifacts, description, spec, include_labels, exclude_labels, os, timeout, expires, pause" },
  { name: "hunts", type: "plugin", args: "hunt_id" },
  { name: "hunt_results", type: "plugin", args: "hunt_id, artifact, source" },
  { name: "hunt_update", type: "function", args: "hunt_id, start, stop, description, expires, add_labels, del_labels (no state=)" },
  { name: "hunt_delete", type: "plugin", args: "hunt_id, really_do_it, archive" },
  { name: "artifact_definitions", type: "plugin", args: "names, deps, sanitize" },
  { name: "info", type: "plugin", args: "" },
  { name: "parse_json", type: "function", args: "data (a JSON object)" },
  { name: "whoami", type: "function", args: "" },
];

export const vqlHelp = defineTool({
  name: "vql_help",
  title: "VQL plugins and functions",
  description: "Plugins and functions with their arguments, from the live server's help() when reachable, else a built-in list of the common ones. topic filters by name substring.",
  input: z.object({ topic: z.string().max(100).optional(), org_id: OrgId }),
  output: z.object({ source: z.enum(["server", "builtin"]), entries: z.array(z.object({ name: z.string(), type: z.string(), args: z.string() })) }),
  preset: "read",
  async handler(args, ctx) {
    const t = (args.topic ?? "").toLowerCase();
    let entries = BUILTIN_HELP;
    let source: "server" | "builtin" = "builtin";
    try {
      const rows = await rowsOf(ctx, "SELECT name, type, args FROM help()", {}, 5000);
      if (rows.length) {
        entries = rows.map((r) => ({ name: String(r.name), type: String(r.type).toLowerCase(), args: Array.isArray(r.args) ? r.args.map((a) => (typeof a === "string" ? a : String((a as { name?: string }).name ?? ""))).join(", ") : String(r.args ?? "") }));
        source = "server";
      }
    } catch {
      // Not configured or unreachable: the built-in list still helps write a query.
    }
    const filtered = entries.filter((e) => !t || e.name.toLowerCase().includes(t));
    return { structured: { source, entries: filtered }, text: filtered.map((e) => `${e.name} (${e.type}): ${e.args}`).join("\n") || "No match." };
  },
});

export const vqlTools = [runVql, vqlHelp];
