/** Analysis tools: a unified timeline, indicator extraction, and cross-endpoint correlation. */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { AllowListSchema, AllowMatcher, DEFAULT_ALLOW, loadAllowListFile, mergeAllowLists } from "../../dfir/analysis/iocs/allowlist.js";
import { IocAggregator } from "../../dfir/analysis/iocs/aggregate.js";
import { IOC_FORMATS, toCsv, toMisp, toStix } from "../../dfir/analysis/iocs/export.js";
import { IOC_TYPES, refang, type IocType } from "../../dfir/analysis/iocs/patterns.js";
import { correlateIndicators, PIVOTS, sharedValues } from "../../dfir/analysis/correlate.js";
import { buildTimeline, newStats, parseBound, type TimelineEvent, type TimelineStats } from "../../dfir/analysis/timeline/build.js";
import { formatTimeline, TIMELINE_FORMATS } from "../../dfir/analysis/timeline/format.js";
import { spillLines, spillText } from "../../dfir/results/evidence.js";
import { defineTool } from "./define.js";
import { CaseId, OrgId } from "./ids.js";
import { resolveScope, ScopeInput } from "./scope.js";
import { CoverageSchema, PageSchema, encodeCursor, shapeRows, startOffset, type Coverage } from "./shape.js";

const FileOutput = z.object({ path: z.string(), uri: z.string(), sha256: z.string(), bytes: z.number(), records: z.number() });

/**
 * Analyses only read Velociraptor (read tier, allowed in read-only mode), but those that can write an evidence file
 * do change the local machine, so their MCP hints do not claim read-only or idempotent.
 */

export const generateTimeline = defineTool({
  name: "generate_timeline",
  title: "Unified timeline across artifacts",
  description:
    "Merge a client's (or a hunt's) collected results — processes, network, MFT MACB times, event logs, prefetch/amcache, browser history, tasks, services, logons — into one time-ordered timeline. Each event has datetime, timestamp_desc, source artifact, the time field used, a message and the original row. Known artifacts use their documented time fields; others are detected (RFC 3339 / epoch). Filter by start/end and text; cap per source. format=rows pages events here; jsonl, csv and timesketch (Timesketch import JSONL) write an evidence file and return its path.",
  input: z.object({
    ...ScopeInput,
    start: z.string().optional().describe("only events at or after this time (RFC 3339 or epoch seconds)"),
    end: z.string().optional().describe("only events at or before this time"),
    text: z.string().max(500).optional().describe("only events whose message or row contains this text (case-insensitive)"),
    per_source_cap: z.number().int().min(1).max(10_000_000).default(100_000).describe("events per artifact source, at most"),
    time_fields: z.record(z.string(), z.array(z.string().min(1)).min(1)).optional().describe('override time columns per artifact, e.g. {"Custom.My.Artifact": ["When"]}'),
    format: z.enum(["rows", ...TIMELINE_FORMATS]).default("rows"),
    include_rows: z.boolean().default(false).describe("with format=rows, include each event's original row"),
    limit: z.number().int().min(1).max(1000).default(100),
    offset: z.number().int().min(0).optional(),
    cursor: z.string().optional(),
    case_id: CaseId.optional(),
    org_id: OrgId,
  }),
  output: z.object({
    events: z.array(z.record(z.string(), z.unknown())).optional(),
    page: PageSchema.optional(),
    coverage: CoverageSchema,
    file: FileOutput.optional(),
    sources: z.array(z.object({ artifact: z.string(), client_id: z.string().optional(), flow_id: z.string().optional(), hunt_id: z.string().optional() })),
    stats: z.object({ rows: z.number(), events: z.number(), untimed: z.number(), filtered: z.number(), capped: z.record(z.string(), z.number()), fields: z.record(z.string(), z.array(z.string())) }),
  }),
  preset: "evidence",
  // Writing an evidence file is recorded (path and SHA-256), like export_results.
  changes: (a) => a.format !== "rows",
  async handler(args, ctx) {
    const startUs = parseBound("start", args.start);
    const endUs = parseBound("end", args.end);
    if (startUs !== undefined && endUs !== undefined && startUs > endUs) throw new InputError("end", "is before start", "Swap start and end.");
    const sources = await resolveScope(ctx, args);
    const stats = newStats();
    const timeline = buildTimeline(sources, { startUs, endUs, text: args.text, perSourceCap: args.per_source_cap, timeFields: args.time_fields }, stats);
    const sourceList = sources.map((s) => ({ artifact: s.artifact, client_id: s.client_id, flow_id: s.flow_id, hunt_id: s.hunt_id }));
    if (args.format !== "rows") {
      const label = `timeline-${args.case_id ?? args.client_id ?? args.hunt_ids?.[0] ?? "scope"}`;
      const f = await spillLines(formatTimeline(timeline, args.format), label, args.format === "csv" ? "csv" : "jsonl");
      const records = args.format === "csv" ? (f.rows ?? 1) - 1 : (f.rows ?? 0);
      return {
        structured: {
          file: { path: f.path, uri: f.uri, sha256: f.sha256, bytes: f.bytes, records },
          coverage: timelineCoverage(stats, args, `${records} events from ${stats.rows} rows in ${sources.length} sources.`),
          sources: sourceList,
          stats,
        },
        text: `Timeline: ${records} events (${args.format}) from ${sources.length} sources → ${f.path}\nsha256 ${f.sha256}${stats.untimed ? `\n${stats.untimed} rows had no time and were skipped.` : ""}`,
        auditSummary: `${f.path} sha256=${f.sha256}`,
      };
    }
    const key = JSON.stringify(["timeline", args.client_id, args.flow_ids, args.hunt_ids, args.artifacts, args.max_flows, args.start, args.end, args.text, args.per_source_cap, args.time_fields]);
    const offset = startOffset(args, key);
    const events: Record<string, unknown>[] = [];
    let seen = 0;
    let more = false;
    for await (const e of timeline) {
      if (seen++ < offset) continue;
      if (events.length === args.limit) {
        more = true;
        break;
      }
      events.push(eventRow(e, args.include_rows));
    }
    await timeline.return(undefined);
    const shaped = shapeRows({ rows: events, offset, limit: args.limit, queryKey: key, total: more ? undefined : offset + events.length });
    const page = { ...shaped.page, has_more: more || shaped.page.has_more, next_cursor: more ? encodeCursor(key, offset + shaped.rows.length) : shaped.page.next_cursor };
    const coverage = more
      ? { status: "truncated" as const, note: `Page of ${shaped.rows.length} events; more follow (next_cursor), or write the whole timeline with format=jsonl/csv/timesketch.` }
      : shaped.coverage.status === "truncated"
        ? shaped.coverage
        : timelineCoverage(stats, args, `${offset + shaped.rows.length} events from ${stats.rows} rows in ${sources.length} sources.`);
    const lines = shaped.rows.map((r) => `${String(r.datetime)}  ${String(r.source).padEnd(28)} ${String(r.timestamp_desc).padEnd(24)} ${String(r.message)}`);
    return {
      structured: { events: shaped.rows, page, coverage, sources: sourceList, stats },
      text: [`Timeline (${sources.length} sources), events ${offset + 1}–${offset + shaped.rows.length}${more ? " (more: use next_cursor)" : ""}:`, ...lines].join("\n"),
    };
  },
});

/** What a complete timeline covers: cut by per_source_cap, filtered by window/text, or everything. */
function timelineCoverage(stats: TimelineStats, a: { start?: string; end?: string; text?: string }, summary: string): Coverage {
  const capped = Object.values(stats.capped).reduce((x, y) => x + y, 0);
  if (capped) return { status: "truncated", note: `${summary} ${capped} events over per_source_cap were left out; raise per_source_cap.` };
  return { status: a.start || a.end || a.text ? "filtered" : "exhaustive", note: summary };
}

function eventRow(e: TimelineEvent, includeRow: boolean): Record<string, unknown> {
  const { row, timestamp_us: _us, ...rest } = e;
  return includeRow ? { ...rest, row } : rest;
}

export const extractIocs = defineTool({
  name: "extract_iocs",
  title: "Extract indicators of compromise",
  description:
    "Extract and deduplicate indicators — IPv4/IPv6 (public flagged), domains (IANA TLDs), URLs, emails, MD5/SHA1/SHA256/SHA512, Windows and POSIX paths, registry keys, CVE ids, Bitcoin addresses — from a client's or hunt's results and/or pasted text. Defanged forms (hxxp, [.], (dot)) are refanged; near-misses (version numbers, file names, dotted code names) are rejected. Known-good values (private ranges, Microsoft/Velociraptor infrastructure, your allow-list) are counted as suppressed. Each indicator has count, first/last seen, clients and artifacts. format csv/stix/misp writes an evidence file.",
  input: z.object({
    ...ScopeInput,
    text: z.string().max(5_000_000).optional().describe("text to extract from (reports, emails, tickets); may be combined with a scope"),
    types: z.array(z.enum(IOC_TYPES)).optional().describe("only these indicator types"),
    allow: AllowListSchema.partial().optional().describe("extra known-good: {domains, cidrs, values, include_private}"),
    use_default_allowlist: z.boolean().default(true),
    format: z.enum(IOC_FORMATS).default("json"),
    limit: z.number().int().min(1).max(5000).default(200).describe("indicators in the answer (the file has all)"),
    case_id: CaseId.optional(),
    org_id: OrgId,
  }),
  output: z.object({
    indicators: z.array(z.object({ type: z.string(), value: z.string(), count: z.number(), first_seen: z.string().optional(), last_seen: z.string().optional(), clients: z.array(z.string()), artifacts: z.array(z.string()), public: z.boolean().optional() })),
    by_type: z.record(z.string(), z.number()),
    total: z.number(),
    suppressed: z.record(z.string(), z.number()),
    rows_scanned: z.number(),
    coverage: CoverageSchema,
    file: FileOutput.optional(),
  }),
  preset: "evidence",
  changes: (a) => a.format !== "json",
  async handler(args, ctx) {
    if (!args.text && !args.client_id && !args.hunt_ids?.length) throw new InputError("text", "give text, or a scope (client_id / flow_ids / hunt_ids)", "Paste the text to scan, or name the client or hunt whose results to scan.");
    const allow = mergeAllowLists(args.use_default_allowlist ? DEFAULT_ALLOW : undefined, loadAllowListFile(), args.allow);
    const agg = new IocAggregator(new AllowMatcher(allow), { types: args.types ? new Set<IocType>(args.types) : undefined });
    if (args.text) agg.addText(args.text, { artifact: "text" });
    if (args.client_id || args.hunt_ids?.length)
      for (const src of await resolveScope(ctx, args)) for await (const row of src.rows) agg.addRow(row, { client_id: src.client_id, artifact: src.artifact, flow_id: src.flow_id });
    const all = agg.results();
    const byType: Record<string, number> = {};
    for (const i of all) byType[i.type] = (byType[i.type] ?? 0) + 1;
    const suppressed = Object.fromEntries(agg.suppressed);
    let file;
    if (args.format !== "json") {
      const body = args.format === "csv" ? toCsv(all) : JSON.stringify(args.format === "stix" ? toStix(all, { caseId: args.case_id }) : toMisp(all, { caseId: args.case_id }), null, 2) + "\n";
      const f = await spillText(body, `iocs-${args.case_id ?? "extract"}-${args.format}`, args.format === "csv" ? "csv" : "json");
      file = { path: f.path, uri: f.uri, sha256: f.sha256, bytes: f.bytes, records: all.length };
    }
    const shown = all.slice(0, args.limit);
    const cut = shown.length < all.length || agg.overflow > 0;
    const coverage = cut
      ? { status: "truncated" as const, note: `${shown.length} of ${all.length} indicators shown${agg.overflow ? `; ${agg.overflow} more beyond the distinct-indicator cap` : ""}${file ? "; the file has them all" : "; use format=csv/stix/misp for all"}.` }
      : { status: "exhaustive" as const, note: `All ${all.length} distinct indicators from ${agg.rowsScanned} rows${args.text ? " and the text" : ""}.` };
    const text = [
      `${all.length} indicators (${Object.entries(byType).map(([t, n]) => `${t} ${n}`).join(", ") || "none"}); suppressed as known-good: ${Object.values(suppressed).reduce((a, b) => a + b, 0)}`,
      ...shown.slice(0, 50).map((i) => `${i.type.padEnd(12)} ${i.value}  ×${i.count}  ${i.clients.length} client(s)${i.public === false ? " [private]" : ""}`),
      ...(file ? [`Wrote ${args.format} to ${file.path}`] : []),
    ].join("\n");
    return { structured: { indicators: shown, by_type: byType, total: all.length, suppressed, rows_scanned: agg.rowsScanned, coverage, file }, text, auditSummary: file ? `${file.path} sha256=${file.sha256}` : undefined };
  },
});

export const correlate = defineTool({
  name: "correlate",
  title: "Correlate indicators across endpoints",
  description:
    "Cross-endpoint correlation over hunt/flow results. With indicators: which clients' results contain each one — a client × indicator matrix with counts, first-seen times and artifacts (pass extract_iocs values straight in; defanged values are refanged). With pivot: which clients share a value — process_hash (Hash.SHA256 of process listings and services, SHA1 of Amcache), parent_child (parent → child process names from Pslist/Pstree), remote_ip (netstat peers and logon sources), or any column — rarest first.",
  input: z.object({
    ...ScopeInput,
    indicators: z.array(z.union([z.string().min(1).max(2048), z.object({ value: z.string().min(1).max(2048) }).passthrough()])).max(1000).optional(),
    pivot: z.enum(PIVOTS).optional(),
    column: z.string().max(200).optional().describe("with pivot=column: the column (dotted for nested, e.g. Hash.SHA256)"),
    limit: z.number().int().min(1).max(1000).default(100),
    case_id: CaseId.optional(),
    org_id: OrgId,
  }),
  output: z.object({
    matrix: z
      .object({
        clients: z.array(z.string()),
        indicators: z.array(z.string()),
        cells: z.array(z.object({ client_id: z.string(), indicator: z.string(), count: z.number(), first_seen: z.string().optional(), artifacts: z.array(z.string()) })),
        by_indicator: z.array(z.object({ indicator: z.string(), clients: z.number() })),
      })
      .optional(),
    shared: z.array(z.object({ value: z.string(), clients: z.array(z.string()), client_count: z.number(), count: z.number() })).optional(),
    rows_scanned: z.number().optional(),
    coverage: CoverageSchema,
  }),
  preset: "read",
  async handler(args, ctx) {
    if (!args.indicators?.length && !args.pivot) throw new InputError("indicators", "give indicators to look for, or a pivot", "e.g. indicators=[\"185.220.101.4\"] or pivot=\"process_hash\".");
    if (args.pivot === "column" && !args.column) throw new InputError("column", "pivot=column needs the column name", "e.g. column=\"Exe\".");
    const sources = await resolveScope(ctx, args);
    if (args.indicators?.length) {
      const values = args.indicators.map((i) => refang(typeof i === "string" ? i : i.value));
      const m = await correlateIndicators(sources, values);
      const header = ["client".padEnd(20), ...m.indicators.map((_, i) => `#${i + 1}`)].join(" ");
      const grid = m.clients.map((c) => [c.padEnd(20), ...m.indicators.map((ind) => (m.cells.some((x) => x.client_id === c && x.indicator === ind) ? " X" : " .").padEnd(String(m.indicators.length).length + 1))].join(" "));
      const legend = m.indicators.map((ind, i) => `#${i + 1} ${ind} — ${m.by_indicator[i]!.clients} client(s)`);
      return {
        structured: { matrix: { clients: m.clients, indicators: m.indicators, cells: m.cells, by_indicator: m.by_indicator }, rows_scanned: m.rows_scanned, coverage: { status: "exhaustive" as const, note: `${m.rows_scanned} rows in ${sources.length} sources scanned.` } },
        text: [`${m.clients.length} client(s) contain at least one of ${m.indicators.length} indicator(s):`, header, ...grid, ...legend].join("\n"),
      };
    }
    const shared = await sharedValues(sources, args.pivot!, args.column);
    const shown = shared.slice(0, args.limit);
    return {
      structured: { shared: shown, coverage: shown.length < shared.length ? { status: "truncated" as const, note: `${shown.length} of ${shared.length} values (rarest first); raise limit.` } : { status: "exhaustive" as const, note: `${shared.length} distinct values.` } },
      text: [`${shared.length} distinct ${args.pivot} values, rarest first:`, ...shown.map((s) => `${String(s.client_count).padStart(4)} client(s)  ${s.value}`)].join("\n"),
    };
  },
});

export const analysisTools = [generateTimeline, extractIocs, correlate];
