/** Timeline output formats: CSV, JSON Lines, and Timesketch's import format (message, datetime, timestamp_desc + extras). */
import type { TimelineEvent } from "./build.js";

export const TIMELINE_FORMATS = ["jsonl", "csv", "timesketch"] as const;
export type TimelineFormat = (typeof TIMELINE_FORMATS)[number];

const CSV_COLUMNS = ["datetime", "timestamp_desc", "source", "field", "client_id", "hostname", "flow_id", "message", "row"] as const;

export function csvCell(v: unknown): string {
  const s = v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  // Quote when needed; a leading = + - @ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Flattens a row's top-level fields into Timesketch extra attributes (prefixed to avoid the reserved names). */
export function timesketchRecord(e: TimelineEvent): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.row)) {
    const name = `vr_${k.replace(/[^A-Za-z0-9_]/g, "_")}`;
    extra[name] = v !== null && typeof v === "object" ? JSON.stringify(v) : v;
  }
  return {
    message: e.message || `${e.source} ${e.field}`,
    datetime: e.datetime,
    timestamp: e.timestamp_us,
    timestamp_desc: e.timestamp_desc,
    data_type: `velociraptor:${e.source.toLowerCase()}`,
    artifact: e.source,
    time_field: e.field,
    client_id: e.client_id ?? "",
    hostname: e.hostname ?? "",
    flow_id: e.flow_id ?? "",
    ...extra,
  };
}

export async function* formatTimeline(events: AsyncIterable<TimelineEvent>, format: TimelineFormat): AsyncGenerator<string> {
  if (format === "csv") yield CSV_COLUMNS.join(",") + "\n";
  for await (const e of events) {
    if (format === "csv") yield CSV_COLUMNS.map((c) => csvCell(e[c])).join(",") + "\n";
    else if (format === "timesketch") yield JSON.stringify(timesketchRecord(e)) + "\n";
    else yield JSON.stringify(e) + "\n";
  }
}
