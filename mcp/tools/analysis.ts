/** Analysis tools: a unified timeline, indicator extraction, and cross-endpoint correlation. */
import { z } from "zod";
import { InputError } from "../../core/errors.js";
import { iocAllowMatcher, IocAllowInput } from "../../dfir/analysis/iocs/allowlist.js";
import { IocAggregator, SUPPRESSED_SAMPLE } from "../../dfir/analysis/iocs/aggregate.js";
import { IOC_FORMATS, toCsv, toMisp, toStix } from "../../dfir/analysis/iocs/export.js";
import { IOC_TYPES, refang, type IocType } from "../../dfir/analysis/iocs/patterns.js";
import { correlateIndicators, PIVOTS, sharedValues } from "../../dfir/analysis/correlate.js";
import { buildTimeline, newStats, parseBound, type TimelineEvent, type TimelineStats } from "../../dfir/analysis/timeline/build.js";
import { formatTimeline, TIMELINE_FORMATS } from "../../dfir/analysis/timeline/format.js";
import { fingerprint, timelineCache } from "../../dfir/analysis/timeline/cache.js";
import { timelineLines, type LineChunk } from "../../dfir/analysis/timeline/lines.js";
import { spillLines, spillText } from "../../dfir/results/evidence.js";
import { defineTool } from "./define.js";
import { CaseId, OrgId } from "./ids.js";
import { hostLabel, hostnameMap, resolveScope, type ResolvedScope } from "../../dfir/scope/resolve.js";
import { hasScope, ScopeInput } from "./scope.js";
import { CoverageSchema, PageSchema, RowSchema, encodeCursor, shapeRows, startOffset, type Coverage } from "./shape.js";

const FileOutput = z.object({ path: z.string(), uri: z.string(), sha256: z.string(), bytes: z.number(), records: z.number() });

/**
 * Analyses only read Velociraptor (read tier, allowed in read-only mode), but those that can write an evidence file
 * do change the local machine, so their MCP hints do not claim read-only or idempotent.
 */

/** What every scoped analysis reports about its scope: the hosts, how many flows, and the caveats (failed flows…). */
const ScopeOutput = z.object({
  clients: z.array(z.object({ client_id: z.string(), hostname: z.string().optional(), os: z.string().optional() })),
  flows: z.number(),
  duplicates: z.number().describe("flows reached more than once (directly and via a hunt) and read once"),
  caveats: z.array(z.string()).describe("failed, cancelled or still running flows (with their error): their partial results are included"),
});

function scopeSummary(s: ResolvedScope): z.infer<typeof ScopeOutput> {
  return { clients: s.clients, flows: s.flows.length, duplicates: s.duplicates, caveats: s.caveats };
}

const caveatLines = (s: ResolvedScope) => s.caveats.map((c) => `caveat: ${c}`);

const RUNNING_STATES = new Set(["RUNNING", "WAITING", "IN_PROGRESS", "UNRESPONSIVE"]);

/** A running flow means results may grow; a coverage label must not then claim the answer is complete. */
function withScope(c: Coverage, s: ResolvedScope): Coverage {
  const running = s.flows.filter((f) => RUNNING_STATES.has(f.state)).length;
  const failed = s.flows.filter((f) => f.state === "ERROR" || f.state === "UNKNOWN").length;
  const notes = [c.note, ...(failed ? [`${failed} flow(s) failed or were cancelled (see caveats): their partial results are included.`] : []), ...(running ? [`${running} flow(s) still running.`] : [])].join(" ");
  if (running && c.status === "exhaustive") return { status: "provisional", note: notes };
  return { status: c.status, note: notes };
}

export const generateTimeline = defineTool({
  name: "generate_timeline",
  title: "Unified timeline across artifacts",
  description:
    "One time-ordered timeline from the results of clients (client_id, client_ids, label) and/or hunts: processes, network, MFT MACB times, event logs, prefetch/amcache, browser history, tasks, services, logons. Each event: datetime, timestamp_desc, artifact, time field, host, message, original row; known artifacts use their documented time fields. Failed or cancelled flows are caveats. Filter by start/end/text. format=rows pages here (next_cursor); jsonl, csv and timesketch write an evidence file.",
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
    events: z.array(RowSchema).optional(),
    page: PageSchema.optional(),
    coverage: CoverageSchema,
    file: FileOutput.optional(),
    sources: z.array(z.object({ artifact: z.string(), client_id: z.string().optional(), flow_id: z.string().optional(), hunt_id: z.string().optional() })),
    scope: ScopeOutput,
    stats: z.object({ rows: z.number(), events: z.number(), untimed: z.number(), filtered: z.number(), capped: z.record(z.string(), z.number()), fields: z.record(z.string(), z.array(z.string())) }),
  }),
  preset: "evidence",
  // Writing an evidence file is recorded (path and SHA-256), like export_results.
  changes: (a) => a.format !== "rows",
  async handler(args, ctx) {
    const startUs = parseBound("start", args.start);
    const endUs = parseBound("end", args.end);
    if (startUs !== undefined && endUs !== undefined && startUs > endUs) throw new InputError("end", "is before start", "Swap start and end.");
    const scope = await resolveScope(ctx, args);
    const hosts = hostnameMap(scope);
    const sources = scope.sources;
    const stats = newStats();
    const opts = { startUs, endUs, text: args.text, perSourceCap: args.per_source_cap, timeFields: args.time_fields };
    const sourceList = sources.map((s) => ({ artifact: s.artifact, client_id: s.client_id, flow_id: s.flow_id, hunt_id: s.hunt_id }));
    if (args.format !== "rows") {
      const label = `timeline-${args.case_id ?? args.client_id ?? args.client_ids?.[0] ?? args.hunt_ids?.[0] ?? "scope"}`;
      // JSON Lines goes the string path (each event serialised once, never parsed again); CSV and Timesketch need
      // the event objects.
      const f =
        args.format === "jsonl"
          ? await spillLines(chunkBytes(timelineLines(sources, { ...opts, hostnames: hosts }, stats)), label, "jsonl")
          : await spillLines(formatTimeline(withHostnames(buildTimeline(sources, opts, stats), hosts), args.format), label, args.format === "csv" ? "csv" : "jsonl");
      const records = args.format === "csv" ? (f.rows ?? 1) - 1 : args.format === "jsonl" ? stats.events : (f.rows ?? 0);
      const coverage = withScope(timelineCoverage(stats, args, `${records} events from ${stats.rows} rows in ${sources.length} sources.`), scope);
      return {
        structured: { file: { path: f.path, uri: f.uri, sha256: f.sha256, bytes: f.bytes, records }, coverage, sources: sourceList, scope: scopeSummary(scope), stats },
        text: [`Timeline: ${records} events (${args.format}) from ${sources.length} sources on ${scope.clients.length} host(s) → ${f.path}`, `sha256 ${f.sha256}`, `coverage: ${coverage.status} — ${coverage.note}`, ...(stats.untimed ? [`${stats.untimed} rows had no time and were skipped.`] : []), ...caveatLines(scope)].join("\n"),
        auditSummary: `${f.path} sha256=${f.sha256}`,
      };
    }
    const key = JSON.stringify(["timeline", args.client_id, args.client_ids, args.label, args.flow_ids, args.hunt_ids, args.artifacts, args.max_flows, args.start, args.end, args.text, args.per_source_cap, args.time_fields]);
    const offset = startOffset(args, key);
    // Pages come from the timeline built once and kept (dfir/analysis/timeline/cache.ts), keyed by the query, the org
    // and every source's state; a flow still running gets a timeline built for this call only.
    const running = scope.flows.some((f) => RUNNING_STATES.has(f.state));
    const fp = fingerprint([key, args.org_id ?? "", scope.flows.map((f) => [f.client_id, f.flow_id, f.state, f.rows, f.active]), scope.hunts.map((h) => [h.hunt_id, h.state, h.flows])]);
    const entry = await timelineCache().get(fp, () => timelineLines(sources, { ...opts, hostnames: hosts }, stats), () => stats, { store: !running });
    let pageLines: string[];
    try {
      pageLines = await entry.page(offset, args.limit);
    } finally {
      await entry.dispose();
    }
    Object.assign(stats, entry.meta);
    const events = pageLines.map((l) => eventRow(JSON.parse(l) as TimelineEvent, args.include_rows, hosts));
    const more = offset + events.length < entry.total;
    const shaped = shapeRows({ rows: events, offset, limit: args.limit, queryKey: key, total: entry.total });
    const page = { ...shaped.page, has_more: more || shaped.page.has_more, next_cursor: more ? encodeCursor(key, offset + shaped.rows.length) : shaped.page.next_cursor };
    const coverage = withScope(
      page.has_more
        ? { status: "truncated" as const, note: more ? `Page of ${shaped.rows.length} events; more follow (next_cursor), or write the whole timeline with format=jsonl/csv/timesketch.` : shaped.coverage.note }
        : timelineCoverage(stats, args, `${offset + shaped.rows.length} events from ${stats.rows} rows in ${sources.length} sources.`),
      scope,
    );
    const lines = shaped.rows.map((r) => `${String(r.datetime)}  ${String(r.host ?? "-").padEnd(20)} ${String(r.source).padEnd(28)} ${String(r.timestamp_desc).padEnd(24)} ${String(r.message)}`);
    return {
      structured: { events: shaped.rows, page, coverage, sources: sourceList, scope: scopeSummary(scope), stats },
      text: [
        `Timeline (${sources.length} sources on ${scope.clients.length} host(s)), events ${offset + 1}–${offset + shaped.rows.length} [${coverage.status}] ${coverage.note}`,
        ...lines,
        ...(page.has_more && page.next_cursor ? [`next_cursor: ${page.next_cursor}`] : []),
        ...caveatLines(scope),
      ].join("\n"),
    };
  },
});

/** What a complete timeline covers: cut by per_source_cap, filtered by window/text, or everything. */
function timelineCoverage(stats: TimelineStats, a: { start?: string; end?: string; text?: string }, summary: string): Coverage {
  const capped = Object.values(stats.capped).reduce((x, y) => x + y, 0);
  if (capped) return { status: "truncated", note: `${summary} ${capped} events over per_source_cap were left out; raise per_source_cap.` };
  return { status: a.start || a.end || a.text ? "filtered" : "exhaustive", note: summary };
}

/** The merged chunks' bytes for the evidence writer (one write per chunk, not per event). */
async function* chunkBytes(chunks: AsyncIterable<LineChunk>): AsyncGenerator<Buffer> {
  for await (const c of chunks) yield c.bytes;
}

/** Events with their host names, for the files (each line of a cross-host timeline names its host). */
async function* withHostnames(events: AsyncIterable<TimelineEvent>, hosts: ReadonlyMap<string, string | undefined>): AsyncGenerator<TimelineEvent> {
  for await (const e of events) yield e.client_id && hosts.get(e.client_id) ? { ...e, hostname: hosts.get(e.client_id) } : e;
}

/** An event for the answer: the host name beside its client id (`host`), without the internal µs key. */
function eventRow(e: TimelineEvent, includeRow: boolean, hosts: ReadonlyMap<string, string | undefined>): Record<string, unknown> {
  const { row, timestamp_us: _us, ...rest } = e;
  const host = e.client_id ? (hosts.get(e.client_id) ?? e.client_id) : undefined;
  const out = { ...rest, ...(e.client_id ? { hostname: hosts.get(e.client_id), host } : {}) };
  return includeRow ? { ...out, row } : out;
}

const IndicatorOutput = z.object({
  type: z.string(),
  value: z.string(),
  count: z.number(),
  first_seen: z.string().optional(),
  last_seen: z.string().optional(),
  clients: z.array(z.string()),
  hosts: z.array(z.string()).describe("host names of `clients`, in the same order (the client id when unknown)"),
  artifacts: z.array(z.string()),
  public: z.boolean().optional(),
  range: z.string().optional().describe("for addresses that are not public: private, loopback, documentation…"),
});

export const extractIocs = defineTool({
  name: "extract_iocs",
  title: "Extract indicators of compromise",
  description:
    "Deduplicated indicators — IPs, domains, URLs, emails, MD5/SHA1/SHA256/SHA512, Windows/POSIX paths, registry keys, CVEs, Bitcoin — from the results of clients, a label or hunts, and/or pasted text. Defanged forms are refanged; near-misses (versions, Prefetch names) rejected; known-good values (private and documentation ranges, vendor infrastructure, your allow-list) suppressed and listed per rule. Each indicator: count, first/last seen, hosts, artifacts. Pages with cursor; csv/stix/misp write all to an evidence file.",
  input: z.object({
    ...ScopeInput,
    text: z.string().max(5_000_000).optional().describe("text to extract from (reports, emails, tickets); may be combined with a scope"),
    types: z.array(z.enum(IOC_TYPES)).optional().describe("only these indicator types"),
    ...IocAllowInput,
    format: z.enum(IOC_FORMATS).default("json"),
    limit: z.number().int().min(1).max(5000).default(200).describe("indicators in this answer (the file has all); page on with cursor"),
    offset: z.number().int().min(0).optional(),
    cursor: z.string().optional().describe("next_cursor from the previous page of the same call"),
    case_id: CaseId.optional(),
    org_id: OrgId,
  }),
  output: z.object({
    indicators: z.array(IndicatorOutput),
    by_type: z.record(z.string(), z.number()),
    total: z.number(),
    page: PageSchema,
    suppressed: z.record(z.string(), z.number()),
    suppressed_values: z.record(z.string(), z.array(z.string())).describe(`per rule, the distinct suppressed values (first ${SUPPRESSED_SAMPLE} of each)`),
    rows_scanned: z.number(),
    scope: ScopeOutput.optional(),
    coverage: CoverageSchema,
    file: FileOutput.optional(),
  }),
  preset: "evidence",
  changes: (a) => a.format !== "json",
  async handler(args, ctx) {
    if (!args.text && !hasScope(args)) throw new InputError("text", "give text, or a scope (client_id / client_ids / label / hunt_ids)", "Paste the text to scan, or name the clients, label or hunts whose results to scan.");
    const agg = new IocAggregator(iocAllowMatcher(args), { types: args.types ? new Set<IocType>(args.types) : undefined });
    if (args.text) agg.addText(args.text, { artifact: "text" });
    const scope = hasScope(args) ? await resolveScope(ctx, args) : undefined;
    if (scope) for (const src of scope.sources) for await (const row of src.rows) agg.addRow(row, { client_id: src.client_id, artifact: src.artifact, flow_id: src.flow_id });
    const hosts = scope ? hostnameMap(scope) : new Map<string, string | undefined>();
    const all = agg.results();
    const byType: Record<string, number> = {};
    for (const i of all) byType[i.type] = (byType[i.type] ?? 0) + 1;
    const suppressed = Object.fromEntries(agg.suppressed);
    const suppressedValues = Object.fromEntries([...agg.suppressedValues].map(([rule, values]) => [rule, [...values]]));
    let file;
    if (args.format !== "json") {
      const body = args.format === "csv" ? toCsv(all) : JSON.stringify(args.format === "stix" ? toStix(all, { caseId: args.case_id }) : toMisp(all, { caseId: args.case_id }), null, 2) + "\n";
      const f = await spillText(body, `iocs-${args.case_id ?? "extract"}-${args.format}`, args.format === "csv" ? "csv" : "json");
      file = { path: f.path, uri: f.uri, sha256: f.sha256, bytes: f.bytes, records: all.length };
    }
    const key = JSON.stringify(["iocs", args.client_id, args.client_ids, args.label, args.flow_ids, args.hunt_ids, args.artifacts, args.max_flows, args.text, args.types, args.allow, args.use_default_allowlist]);
    const offset = startOffset(args, key);
    const shown = all.slice(offset, offset + args.limit).map((i) => ({ ...i, hosts: i.clients.map((c) => hosts.get(c) ?? c) }));
    const after = Math.max(0, all.length - offset - shown.length);
    const next = after ? encodeCursor(key, offset + shown.length) : undefined;
    const page = { offset, returned: shown.length, has_more: after > 0, next_cursor: next, total: all.length };
    const left = offset + after;
    const cut = left > 0 || agg.overflow > 0;
    const baseCoverage: Coverage = cut
      ? {
          status: "truncated",
          note: `Indicators ${offset + 1}–${offset + shown.length} of ${all.length} shown; ${left} left out of this answer${after ? ` (${after} after this page: pass cursor=next_cursor)` : ""}${agg.overflow ? `; ${agg.overflow} more beyond the distinct-indicator cap were not counted` : ""}${file ? `; ${file.path} has all ${all.length}` : "; format=csv/stix/misp writes all of them"}.`,
        }
      : { status: "exhaustive", note: `All ${all.length} distinct indicators from ${agg.rowsScanned} rows${args.text ? " and the text" : ""}.` };
    const coverage = scope ? withScope(baseCoverage, scope) : baseCoverage;
    const TEXT_LINES = 100;
    const where = (i: (typeof shown)[number]) => (i.hosts.length ? ` on ${i.hosts.slice(0, 5).join(", ")}${i.hosts.length > 5 ? ` +${i.hosts.length - 5}` : ""}` : "");
    const text = [
      `${all.length} indicators (${Object.entries(byType).map(([t, n]) => `${t} ${n}`).join(", ") || "none"}); showing ${shown.length ? `${offset + 1}–${offset + shown.length}` : "none"} [${coverage.status}] ${coverage.note}`,
      ...shown.slice(0, TEXT_LINES).map((i) => `${i.type.padEnd(12)} ${i.value}  ×${i.count}${where(i)}${i.range ? ` [${i.range}]` : ""}`),
      ...(shown.length > TEXT_LINES ? [`… ${shown.length - TEXT_LINES} more indicators of this page are in structured content (indicators).`] : []),
      ...(next ? [`next_cursor: ${next}`] : []),
      ...suppressedLines(agg.suppressed, agg.suppressedValues),
      ...(file ? [`Wrote ${args.format} (${all.length} indicators) to ${file.path}`] : []),
      ...(scope ? caveatLines(scope) : []),
    ].join("\n");
    return {
      structured: { indicators: shown, by_type: byType, total: all.length, page, suppressed, suppressed_values: suppressedValues, rows_scanned: agg.rowsScanned, scope: scope ? scopeSummary(scope) : undefined, coverage, file },
      text,
      auditSummary: file ? `${file.path} sha256=${file.sha256}` : undefined,
    };
  },
});

/** One line per suppression rule: how many, and which values (the first few). */
export function suppressedLines(counts: ReadonlyMap<string, number>, values: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  if (!counts.size) return ["suppressed as known-good: none"];
  return [...counts].map(([rule, n]) => {
    const v = [...(values.get(rule) ?? [])];
    return `suppressed (${rule}): ${n} occurrence(s) of ${v.length}${v.length >= SUPPRESSED_SAMPLE ? "+" : ""} value(s): ${v.slice(0, 10).join(", ")}${v.length > 10 ? ", …" : ""}`;
  });
}

export const correlate = defineTool({
  name: "correlate",
  title: "Correlate indicators across endpoints",
  description:
    "Cross-host correlation over the results of clients (client_ids, a label) and/or hunts. indicators: which hosts' results contain each one (host × indicator matrix with counts, first seen, artifacts; extract_iocs values and defanged forms work). pivot: which hosts share a value — process_hash, parent_child, remote_ip or any column — rarest first. Failed or cancelled flows are caveats.",
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
        hosts: z.array(z.string()).describe("host names of `clients`, same order"),
        indicators: z.array(z.string()),
        cells: z.array(z.object({ client_id: z.string(), hostname: z.string().optional(), indicator: z.string(), count: z.number(), first_seen: z.string().optional(), artifacts: z.array(z.string()) })),
        by_indicator: z.array(z.object({ indicator: z.string(), clients: z.number() })),
      })
      .optional(),
    shared: z.array(z.object({ value: z.string(), clients: z.array(z.string()), hosts: z.array(z.string()), client_count: z.number(), count: z.number() })).optional(),
    rows_scanned: z.number().optional(),
    scope: ScopeOutput,
    coverage: CoverageSchema,
  }),
  preset: "read",
  async handler(args, ctx) {
    if (!args.indicators?.length && !args.pivot) throw new InputError("indicators", "give indicators to look for, or a pivot", "e.g. indicators=[\"185.220.101.4\"] or pivot=\"process_hash\".");
    if (args.pivot === "column" && !args.column) throw new InputError("column", "pivot=column needs the column name", "e.g. column=\"Exe\".");
    const scope = await resolveScope(ctx, args);
    const hosts = hostnameMap(scope);
    const name = (c: string) => hosts.get(c) ?? c;
    if (args.indicators?.length) {
      const values = args.indicators.map((i) => refang(typeof i === "string" ? i : i.value));
      const m = await correlateIndicators(scope.sources, values);
      const labels = m.clients.map((c) => hostLabel(c, hosts));
      const width = Math.max(20, ...labels.map((l) => l.length));
      const header = ["host".padEnd(width), ...m.indicators.map((_, i) => `#${i + 1}`)].join(" ");
      const grid = m.clients.map((c, r) => [labels[r]!.padEnd(width), ...m.indicators.map((ind) => (m.cells.some((x) => x.client_id === c && x.indicator === ind) ? " X" : " .").padEnd(String(m.indicators.length).length + 1))].join(" "));
      const legend = m.indicators.map((ind, i) => `#${i + 1} ${ind} — ${m.by_indicator[i]!.clients} host(s)`);
      const coverage = withScope({ status: "exhaustive", note: `${m.rows_scanned} rows in ${scope.sources.length} sources scanned.` }, scope);
      return {
        structured: {
          matrix: { clients: m.clients, hosts: m.clients.map(name), indicators: m.indicators, cells: m.cells.map((x) => ({ ...x, hostname: hosts.get(x.client_id) })), by_indicator: m.by_indicator },
          rows_scanned: m.rows_scanned,
          scope: scopeSummary(scope),
          coverage,
        },
        text: [`${m.clients.length} host(s) contain at least one of ${m.indicators.length} indicator(s) [${coverage.status}] ${coverage.note}`, header, ...grid, ...legend, ...caveatLines(scope)].join("\n"),
      };
    }
    const shared = await sharedValues(scope.sources, args.pivot!, args.column);
    const shown = shared.slice(0, args.limit).map((s) => ({ ...s, hosts: s.clients.map(name) }));
    const coverage = withScope(shown.length < shared.length ? { status: "truncated", note: `${shown.length} of ${shared.length} values (rarest first); ${shared.length - shown.length} left out: raise limit.` } : { status: "exhaustive", note: `${shared.length} distinct values.` }, scope);
    return {
      structured: { shared: shown, scope: scopeSummary(scope), coverage },
      text: [
        `${shared.length} distinct ${args.pivot} values, rarest first [${coverage.status}] ${coverage.note}`,
        ...shown.map((s) => `${String(s.client_count).padStart(4)} host(s)  ${s.value}  on ${s.hosts.slice(0, 5).join(", ")}${s.hosts.length > 5 ? ` +${s.hosts.length - 5}` : ""}`),
        ...caveatLines(scope),
      ].join("\n"),
    };
  },
});

export const analysisTools = [generateTimeline, extractIocs, correlate];
