/**
 * Turns ReportData into a Markdown or a standalone HTML report. Every string in a report may quote endpoint data
 * (file names, command lines, log messages) that an attacker controls, so both renderers escape all of it: Markdown
 * viewers pass raw HTML through, and the HTML report must be safe to open from a case folder.
 */
import type { Finding, ReportData } from "./model.js";

export const REPORT_FORMATS = ["markdown", "html"] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export function renderReport(r: ReportData, format: ReportFormat): string {
  return format === "html" ? renderHtml(r) : renderMarkdown(r);
}

const NONE = "None recorded.";

// Typed as a Record so a new severity in FindingSchema fails to compile until it is ranked here.
const SEVERITY_RANK: Record<Finding["severity"], number> = { critical: 0, high: 1, medium: 2, low: 3, info: 4 };

export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}

/** JSON for the appendix; flow parameters are `unknown` and may hold values JSON cannot carry. */
function toJson(value: unknown): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) ?? "null";
  } catch (e) {
    return JSON.stringify({ unserialisable: e instanceof Error ? e.message : String(e) });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Markdown

/**
 * Escapes text so it stays literal inside a table cell or a heading. A backslash is doubled only before punctuation,
 * the one place CommonMark reads it as an escape, so Windows paths stay readable in the raw file.
 */
function mdEscape(s: string, newline: string): string {
  return s
    .replace(/\\(?=[!-/:-@[-`{-~])/g, "\\\\")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/\|/g, "\\|")
    .replace(/`/g, "\\`")
    .replace(/\r?\n|\r/g, newline);
}

const mdInline = (s: string) => mdEscape(s, " ");
const mdCell = (value: string | number | undefined) => mdEscape(String(value ?? ""), "<br>");

/** Prose (summary, details, caveats) keeps the author's Markdown but loses raw HTML. */
function mdProse(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
}

function mdTable(headers: string[], rows: (string | number | undefined)[][]): string {
  if (rows.length === 0) return NONE;
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map((r) => line(r.map(mdCell)))].join("\n");
}

/** A code fence longer than any backtick run in the body, so VQL or JSON containing ``` cannot close it early. */
function mdFence(lang: string, body: string): string {
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${lang}\n${body}\n${fence}`;
}

function mdList(items: string[]): string {
  return items.length === 0 ? NONE : items.map((i) => `- ${mdProse(i).replace(/\r?\n/g, "\n  ")}`).join("\n");
}

const joinOr = (xs: string[], empty = "—") => (xs.length ? xs.join(", ") : empty);

// Rows shared by both renderers: a host name always stands beside its client id.
const hostCell = (clientId: string | undefined, hostname: string | undefined) => (clientId && hostname ? `${hostname} (${clientId})` : (clientId ?? ""));
const FLOW_COLUMNS = ["Client", "Flow", "Artifacts", "Created", "State"];
const flowRows = (r: ReportData) => r.scope.flows.map((f) => [hostCell(f.client_id, f.hostname), f.hunt_id ? `${f.flow_id} (hunt ${f.hunt_id})` : f.flow_id, f.artifacts.join(", "), f.created, f.status && f.state !== "FINISHED" ? `${f.state ?? ""}: ${f.status}` : f.state]);
const INDICATOR_COLUMNS = ["Type", "Value", "Count", "Hosts", "First seen", "Last seen"];
const indicatorRows = (r: ReportData) => r.indicators.map((i) => [i.type, i.range ? `${i.value} [${i.range}]` : i.value, i.count, i.clients.map((c, k) => hostCell(c, i.hosts?.[k] !== c ? i.hosts?.[k] : undefined)).join(", "), i.first_seen, i.last_seen]);
const SUPPRESSED_COLUMNS = ["Rule", "Occurrences", "Values"];
const suppressedRows = (r: ReportData) => (r.suppressed ?? []).map((s) => [s.rule, s.count, s.values.join(", ")]);
const CHANGE_COLUMNS = ["Seq", "Time", "Action", "Client", "Target", "Result", "Rollback", "Reason"];
const changeRows = (r: ReportData) => r.changes.map((c) => [c.seq, c.time, c.action, hostCell(c.client_id, c.hostname), c.target, c.result, c.rollback, c.reason]);
const TIMELINE_COLUMNS = ["Datetime", "Host", "Source", "What", "Message"];
const timelineRows = (r: ReportData) => r.timeline.map((e) => [e.datetime, hostCell(e.client_id, e.hostname), e.source, e.timestamp_desc, e.message]);

function mdScope(r: ReportData): string {
  const { clients, hunts } = r.scope;
  return [
    "### Clients",
    mdTable(["Client", "Hostname", "OS"], clients.map((c) => [c.client_id, c.hostname, c.os])),
    "### Hunts",
    mdTable(["Hunt", "Description", "Artifacts"], hunts.map((h) => [h.hunt_id, h.description, h.artifacts.join(", ")])),
    "### Flows",
    mdTable(FLOW_COLUMNS, flowRows(r)),
  ].join("\n\n");
}

function mdFinding(f: Finding, i: number): string {
  const parts = [
    `### ${i + 1}. ${mdInline(f.title)}`,
    [`- **Severity:** ${f.severity.toUpperCase()}`, `- **Clients:** ${mdInline(joinOr(f.clients))}`, `- **Evidence:** ${mdInline(joinOr(f.evidence))}`].join("\n"),
  ];
  if (f.detail.trim()) parts.push(mdProse(f.detail));
  return parts.join("\n\n");
}

function mdFindings(findings: Finding[]): string {
  return findings.length === 0 ? NONE : sortFindings(findings).map(mdFinding).join("\n\n");
}

function mdAppendix(r: ReportData): string {
  const flows = r.appendix.flows.map((f) =>
    [`#### Flow ${mdInline(f.flow_id)} on ${mdInline(f.client_id)}`, mdFence("json", toJson({ artifacts: f.artifacts, parameters: f.parameters ?? null }))].join("\n\n"),
  );
  const queries = r.appendix.queries.map((q) =>
    [`#### ${mdInline(q.description || "Query")}`, mdFence("sql", q.vql), "Environment:", mdFence("json", toJson(q.env ?? {}))].join("\n\n"),
  );
  return ["### Flows", flows.length ? flows.join("\n\n") : NONE, "### Queries", queries.length ? queries.join("\n\n") : NONE].join("\n\n");
}

const DEPLOYMENT_COLUMNS = ["Deployment", "Target", "Profile", "Status", "Updated", "Server URL"];
const deploymentRows = (r: ReportData) => (r.deployments ?? []).map((d) => [d.id, d.target, d.profile, d.status, d.updated, d.server_url]);

export function renderMarkdown(r: ReportData): string {
  const header = [`# ${mdInline(r.title)}`, `**Case:** ${mdInline(r.case_id)}  \n**Generated:** ${mdInline(r.generated_at)} by ${mdInline(r.author)}`];
  const sections: [string, string][] = [
    ["Summary", r.summary?.trim() ? mdProse(r.summary) : NONE],
    ["Scope", mdScope(r)],
    ["Key findings", mdFindings(r.findings)],
    ["Indicators", [mdTable(INDICATOR_COLUMNS, indicatorRows(r)), "### Suppressed as known-good", mdTable(SUPPRESSED_COLUMNS, suppressedRows(r))].join("\n\n")],
    ["Timeline excerpt", [mdChartNote(r.timeline), mdTable(TIMELINE_COLUMNS, timelineRows(r))].filter(Boolean).join("\n\n")],
    ["Actions taken", mdTable(["Time", "Tool", "Principal", "Outcome", "Summary"], r.actions.map((a) => [a.time, a.tool, a.principal, a.outcome, a.summary]))],
    ["Remediation ledger changes", mdTable(CHANGE_COLUMNS, changeRows(r))],
    ["Deployments", mdTable(DEPLOYMENT_COLUMNS, deploymentRows(r))],
    ["Caveats", mdList(r.caveats)],
    ["Appendix: reproducibility", mdAppendix(r)],
  ];
  return [...header, ...sections.map(([title, body]) => `## ${title}\n\n${body}`)].join("\n\n") + "\n";
}

// ---------------------------------------------------------------------------------------------------------------
// HTML

export function escapeHtml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Markup already escaped; only the `html` tag below (and the constant stylesheet) create one. */
class SafeHtml {
  constructor(readonly value: string) {}
}

type HtmlValue = SafeHtml | string | number | null | undefined | readonly HtmlValue[];

function interpolate(v: HtmlValue): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(interpolate).join("");
  if (v === null || v === undefined) return "";
  return escapeHtml(String(v));
}

/**
 * Template tag that sends every interpolated value through escapeHtml unless it is itself the output of this tag,
 * so escaping cannot be forgotten at any single call site.
 */
function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, s, i) => out + interpolate(values[i - 1]) + s));
}

function htmlTable(headers: string[], rows: HtmlValue[][]): SafeHtml {
  if (rows.length === 0) return html`<p class="none">${NONE}</p>`;
  return html`<table><thead><tr>${headers.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map(
    (r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`,
  )}</tbody></table>`;
}

const badge = (s: Finding["severity"]) => html`<span class="badge sev-${s}">${s}</span>`;
const prose = (s: string | undefined) => (s?.trim() ? html`<p class="prose">${s}</p>` : html`<p class="none">${NONE}</p>`);
const section = (id: string, title: string, body: HtmlValue) => html`<section id="${id}"><h2>${title}</h2>${body}</section>`;

function htmlScope(r: ReportData): SafeHtml {
  const { clients, hunts } = r.scope;
  return html`<h3>Clients</h3>${htmlTable(["Client", "Hostname", "OS"], clients.map((c) => [c.client_id, c.hostname, c.os]))}
<h3>Hunts</h3>${htmlTable(["Hunt", "Description", "Artifacts"], hunts.map((h) => [h.hunt_id, h.description, h.artifacts.join(", ")]))}
<h3>Flows</h3>${htmlTable(FLOW_COLUMNS, flowRows(r))}`;
}

function htmlFindings(findings: Finding[]): SafeHtml {
  if (findings.length === 0) return html`<p class="none">${NONE}</p>`;
  return html`${sortFindings(findings).map(
    (f) => html`<article class="finding sev-border-${f.severity}"><h3>${badge(f.severity)} ${f.title}</h3>
<dl><dt>Clients</dt><dd>${joinOr(f.clients)}</dd><dt>Evidence</dt><dd>${joinOr(f.evidence)}</dd></dl>
${f.detail.trim() ? html`<p class="prose">${f.detail}</p>` : ""}</article>`,
  )}`;
}

function htmlAppendix(r: ReportData): SafeHtml {
  const flows = r.appendix.flows.map(
    (f) => html`<h4>Flow ${f.flow_id} on ${f.client_id}</h4><pre><code>${toJson({ artifacts: f.artifacts, parameters: f.parameters ?? null })}</code></pre>`,
  );
  const queries = r.appendix.queries.map(
    (q) => html`<h4>${q.description || "Query"}</h4><pre class="vql"><code>${q.vql}</code></pre><p>Environment:</p><pre><code>${toJson(q.env ?? {})}</code></pre>`,
  );
  const none = html`<p class="none">${NONE}</p>`;
  return html`<h3>Flows</h3>${flows.length ? flows : none}<h3>Queries</h3>${queries.length ? queries : none}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Timeline chart

export interface TimelineBins {
  start: number;
  end: number;
  binCount: number;
  /** Sorted by name so the legend and colours are stable between renders. */
  sources: string[];
  /** counts[sourceIndex][binIndex] */
  counts: number[][];
  /** Events whose datetime did not parse; they are listed in the table but cannot be placed on the axis. */
  unplaced: number;
  /** Events outside the charted window (the chart focuses on where events are dense), before and after it. */
  before: number;
  after: number;
}

/** Share of the events the focused window must hold. */
const DENSE_SHARE = 0.9;
/** Focus only when the dense window is this much narrower than the whole span (otherwise chart everything). */
const FOCUS_RATIO = 4;

/**
 * The window the chart shows: the whole span, unless a window holding DENSE_SHARE of the events (the narrowest such
 * window of sorted times, i.e. between two order statistics, grown over its close neighbours) is FOCUS_RATIO times
 * narrower — then that window, so a few stray events months away do not squeeze the activity into one or two bins.
 * What falls outside is counted and said.
 */
export function denseWindow(sortedTimes: readonly number[]): { start: number; end: number } {
  const n = sortedTimes.length;
  const whole = { start: sortedTimes[0] ?? 0, end: sortedTimes[n - 1] ?? 0 };
  const k = Math.ceil(n * DENSE_SHARE);
  if (n < 10 || k >= n) return whole;
  let best = { start: whole.start, end: whole.end };
  for (let i = 0; i + k - 1 < n; i++) {
    const w = sortedTimes[i + k - 1]! - sortedTimes[i]!;
    if (w < best.end - best.start) best = { start: sortedTimes[i]!, end: sortedTimes[i + k - 1]! };
  }
  // Grow the window over neighbours close to it (within a quarter of its width), so the tail of the same burst
  // stays on the chart and only genuinely distant events fall outside.
  const reach = Math.max(1, (best.end - best.start) / 4);
  let lo = sortedTimes.indexOf(best.start);
  let hi = sortedTimes.lastIndexOf(best.end);
  while (lo > 0 && sortedTimes[lo]! - sortedTimes[lo - 1]! <= reach) lo--;
  while (hi < n - 1 && sortedTimes[hi + 1]! - sortedTimes[hi]! <= reach) hi++;
  const dense = { start: sortedTimes[lo]!, end: sortedTimes[hi]! };
  const span = whole.end - whole.start;
  return span > 0 && (dense.end - dense.start) * FOCUS_RATIO <= span ? dense : whole;
}

export function binTimeline(events: ReportData["timeline"], maxBins = 48): TimelineBins {
  const all = events.map((e) => ({ source: e.source, t: Date.parse(e.datetime) })).filter((e) => Number.isFinite(e.t));
  const { start, end } = denseWindow(all.map((e) => e.t).sort((a, b) => a - b));
  const placed = all.filter((e) => e.t >= start && e.t <= end);
  const binCount = end > start ? maxBins : 1;
  const sources = [...new Set(placed.map((e) => e.source))].sort();
  const counts = sources.map(() => new Array<number>(binCount).fill(0));
  for (const e of placed) {
    // The last event sits exactly on `end`; clamp it into the final bin rather than a bin of its own.
    const bin = end > start ? Math.min(binCount - 1, Math.floor(((e.t - start) / (end - start)) * binCount)) : 0;
    counts[sources.indexOf(e.source)][bin] += 1;
  }
  return { start, end, binCount, sources, counts, unplaced: events.length - all.length, before: all.filter((e) => e.t < start).length, after: all.filter((e) => e.t > end).length };
}

/** What the chart leaves out, in words (empty when it shows every event). */
export function outsideNote(b: TimelineBins, lead = "The chart shows"): string {
  if (!b.before && !b.after) return "";
  return `${lead} ${isoTime(b.start)} to ${isoTime(b.end)}, where ${Math.round(DENSE_SHARE * 100)}% or more of the events are; ${b.before} event(s) before and ${b.after} after it are in the table but not charted.`;
}

/** The Markdown report has no chart; it still says where the events are dense. */
function mdChartNote(timeline: ReportData["timeline"]): string {
  return mdProse(outsideNote(binTimeline(timeline), "The HTML report's chart shows"));
}

// Okabe–Ito: distinguishable with the common colour-vision deficiencies and in greyscale print.
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
const CHART = { width: 960, left: 48, right: 16, top: 16, plotHeight: 200, axis: 36, legendRow: 22, legendCols: 3 };

const isoTime = (t: number) => new Date(t).toISOString().replace("T", " ").replace(/\.\d{3}Z$/, "Z");
const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** The tallest stacked bar, which sets the y scale. */
const peak = (b: TimelineBins) => Math.max(1, ...Array.from({ length: b.binCount }, (_, i) => b.counts.reduce((sum, c) => sum + c[i], 0)));

function chartBars(b: TimelineBins, plotWidth: number): SafeHtml[] {
  const yMax = peak(b);
  const binWidth = plotWidth / b.binCount;
  const stacked = new Array<number>(b.binCount).fill(0);
  const binTime = (i: number) => b.start + ((b.end - b.start) * i) / b.binCount;
  return b.sources.map((source, s) => {
    const rects = b.counts[s].flatMap((n, i) => {
      if (n === 0) return [];
      const h = (n / yMax) * CHART.plotHeight;
      stacked[i] += h;
      const y = CHART.top + CHART.plotHeight - stacked[i];
      const x = CHART.left + i * binWidth + Math.min(1, binWidth / 4);
      const w = Math.max(1, binWidth - 2 * Math.min(1, binWidth / 4));
      const tip = `${source}: ${n} event${n === 1 ? "" : "s"} from ${isoTime(binTime(i))}`;
      return [html`<rect class="bar" x="${x.toFixed(2)}" y="${y.toFixed(2)}" width="${w.toFixed(2)}" height="${h.toFixed(2)}"><title>${tip}</title></rect>`];
    });
    return html`<g class="series" data-source="${source}" fill="${PALETTE[s % PALETTE.length]}">${rects}</g>`;
  });
}

function chartLegend(b: TimelineBins, y0: number): SafeHtml[] {
  const colWidth = (CHART.width - CHART.left - CHART.right) / CHART.legendCols;
  return b.sources.map((source, s) => {
    const x = CHART.left + (s % CHART.legendCols) * colWidth;
    const y = y0 + Math.floor(s / CHART.legendCols) * CHART.legendRow;
    const total = b.counts[s].reduce((a, n) => a + n, 0);
    return html`<g class="legend-entry" data-source="${source}" transform="translate(${x.toFixed(2)},${y})"><title>${source}</title><rect width="12" height="12" fill="${PALETTE[s % PALETTE.length]}"></rect><text x="18" y="11">${truncate(source, 40)} (${total})</text></g>`;
  });
}

function timelineChart(timeline: ReportData["timeline"]): SafeHtml {
  const b = binTimeline(timeline);
  if (b.sources.length === 0) return html``;
  const plotWidth = CHART.width - CHART.left - CHART.right;
  const axisY = CHART.top + CHART.plotHeight;
  const legendY = axisY + CHART.axis;
  const height = legendY + Math.ceil(b.sources.length / CHART.legendCols) * CHART.legendRow;
  const yMax = peak(b);
  const outside = outsideNote(b);
  const note = [b.unplaced ? html`<p class="note">${b.unplaced} event(s) with an unparseable datetime are not charted.</p>` : "", outside ? html`<p class="note chart-window">${outside}</p>` : ""];
  return html`<figure><svg id="timeline-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${CHART.width} ${height}" role="img" aria-labelledby="timeline-chart-title">
<title id="timeline-chart-title">Timeline events per ${b.binCount === 1 ? "instant" : "time bin"}, stacked by source</title>
<line class="axis" x1="${CHART.left}" y1="${axisY}" x2="${CHART.left + plotWidth}" y2="${axisY}"></line>
<line class="axis" x1="${CHART.left}" y1="${CHART.top}" x2="${CHART.left}" y2="${axisY}"></line>
<text class="tick" x="${CHART.left - 6}" y="${CHART.top + 4}" text-anchor="end">${yMax}</text>
<text class="tick" x="${CHART.left - 6}" y="${axisY}" text-anchor="end">0</text>
<text class="tick" x="${CHART.left}" y="${axisY + 16}" text-anchor="start">${isoTime(b.start)}</text>
<text class="tick" x="${CHART.left + plotWidth}" y="${axisY + 16}" text-anchor="end">${isoTime(b.end)}</text>
${chartBars(b, plotWidth)}
${chartLegend(b, legendY)}
</svg><figcaption>Events per bin (${b.binCount} bin${b.binCount === 1 ? "" : "s"}), stacked by source artifact.</figcaption></figure>${note}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Document

const STYLE = new SafeHtml(`
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg-alt:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { border-bottom: 2px solid var(--line); padding-bottom: 4px; margin-top: 32px; }
header .meta { color: var(--muted); margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
/* Hashes and command lines have no break points; without this one long value pushes the table off the page. */
td { overflow-wrap: anywhere; }
th { background: var(--bg-alt); white-space: nowrap; }
tbody tr:nth-child(even) { background: var(--bg-alt); }
pre { background: var(--bg-alt); border: 1px solid var(--line); padding: 8px; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
.prose { white-space: pre-wrap; }
.none, .note, figcaption { color: var(--muted); font-style: italic; }
.finding { border-left: 4px solid var(--line); padding: 4px 12px; margin: 12px 0; }
.finding dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0; }
.finding dt { font-weight: 600; }
.finding dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 700; text-transform: uppercase; color: #fff; vertical-align: middle; }
.sev-critical { background: #8b0000; } .sev-high { background: #d73a49; } .sev-medium { background: #b26a00; }
.sev-low { background: #0969da; } .sev-info { background: #6e7781; }
.sev-border-critical { border-left-color: #8b0000; } .sev-border-high { border-left-color: #d73a49; }
.sev-border-medium { border-left-color: #b26a00; } .sev-border-low { border-left-color: #0969da; } .sev-border-info { border-left-color: #6e7781; }
figure { margin: 8px 0 16px; }
#timeline-chart { width: 100%; height: auto; }
#timeline-chart .axis { stroke: var(--muted); stroke-width: 1; }
#timeline-chart text { font-size: 12px; fill: var(--fg); }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  h2 { break-after: avoid; }
  tr, .finding, figure, pre { break-inside: avoid; }
  thead { display: table-header-group; }
  .badge, .finding, th, tbody tr, #timeline-chart { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
`);

// The CSP makes the "no scripts, no network" promise enforced by the browser, not just by how this file is written.
const CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

export function renderHtml(r: ReportData): string {
  const body = [
    section("summary", "Summary", prose(r.summary)),
    section("scope", "Scope", htmlScope(r)),
    section("findings", "Key findings", htmlFindings(r.findings)),
    section("indicators", "Indicators", [htmlTable(INDICATOR_COLUMNS, indicatorRows(r)), html`<h3>Suppressed as known-good</h3>`, htmlTable(SUPPRESSED_COLUMNS, suppressedRows(r))]),
    section("timeline", "Timeline excerpt", [timelineChart(r.timeline), htmlTable(TIMELINE_COLUMNS, timelineRows(r))]),
    section("actions", "Actions taken", htmlTable(["Time", "Tool", "Principal", "Outcome", "Summary"], r.actions.map((a) => [a.time, a.tool, a.principal, a.outcome, a.summary]))),
    section("changes", "Remediation ledger changes", htmlTable(CHANGE_COLUMNS, changeRows(r))),
    section("deployments", "Deployments", htmlTable(DEPLOYMENT_COLUMNS, deploymentRows(r))),
    section("caveats", "Caveats", r.caveats.length ? html`<ul>${r.caveats.map((c) => html`<li class="prose">${c}</li>`)}</ul>` : html`<p class="none">${NONE}</p>`),
    section("appendix", "Appendix: reproducibility", htmlAppendix(r)),
  ];
  const doc = html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${r.title} — ${r.case_id}</title>
<style>${STYLE}</style>
</head>
<body>
<header><h1>${r.title}</h1><p class="meta">Case ${r.case_id} · generated ${r.generated_at} by ${r.author}</p></header>
<main>
${body.map((s) => html`${s}\n`)}</main>
</body>
</html>
`;
  return doc.value;
}
