/**
 * Result shaping for a model's context, in one place: pages (limit + offset or opaque cursor), column selection, a
 * byte cap that truncates with a notice (never silently), ISO renderings of µs timestamps, and a coverage label.
 */
import { numericSetting } from "../../core/settings.js";
import { createHmac, randomBytes } from "node:crypto";
import { z } from "zod";
import { MegaraptorError } from "../../core/errors.js";
import { hasPath, valueAt } from "../../dfir/results/paths.js";
import type { Row } from "../../velociraptor/client.js";
import { lineWriter, rememberLines } from "./page-text.js";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

export const PageInput = {
  limit: z.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT).describe("rows per page"),
  offset: z.number().int().min(0).optional().describe("rows to skip (prefer cursor)"),
  cursor: z.string().optional().describe("next_cursor of the previous page"),
  columns: z.array(z.string()).optional().describe("only these columns; nested paths like Authenticode.Trusted work"),
};

export const CoverageSchema = z.object({
  status: z.enum(["exhaustive", "filtered", "truncated", "provisional"]),
  note: z.string(),
});
export type Coverage = z.infer<typeof CoverageSchema>;

export const PageSchema = z.object({
  offset: z.number(),
  returned: z.number(),
  has_more: z.boolean(),
  next_cursor: z.string().optional(),
  total: z.number().optional(),
});

const isRow = (v: unknown): v is Row => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * One row in an output schema: a JSON object. Listed exactly as z.record(z.string(), z.unknown()) lists it (the
 * meta below; test/mcp/shape.test.ts compares the two), but checked as "an object, not an array" — the executor
 * checks every structured result against its tool's output schema, and a record re-parses every key and value of
 * every row into a copy it throws away (about as long as rendering the page, for 50 rows). A row's keys are strings
 * by construction: rows come from JSON.parse of the server's batches or are built by our own tools, and JSON has
 * no other kind of key.
 */
export const RowSchema = z.custom<Row>(isRow, { message: "expected a row (a JSON object)" }).meta({ type: "object", propertyNames: { type: "string" }, additionalProperties: {} });

export const RowsOutput = {
  rows: z.array(RowSchema),
  page: PageSchema,
  coverage: CoverageSchema,
};

export class InvalidCursorError extends MegaraptorError {
  constructor(reason: string) {
    super("INVALID_CURSOR", `cursor: ${reason}`, { hint: "Use next_cursor exactly as returned, with the same query arguments, or start again without a cursor." });
  }
}

// Cursors are signed so a model cannot forge offsets for another query; the key lives for the process.
const KEY = process.env.MEGARAPTOR_CURSOR_KEY ? Buffer.from(process.env.MEGARAPTOR_CURSOR_KEY) : randomBytes(32);

export function encodeCursor(queryKey: string, offset: number): string {
  const body = Buffer.from(JSON.stringify({ q: queryKey, o: offset })).toString("base64url");
  const mac = createHmac("sha256", KEY).update(body).digest("base64url").slice(0, 22);
  return `${body}.${mac}`;
}

export function decodeCursor(cursor: string, queryKey: string): number {
  const [body, mac] = cursor.split(".");
  if (!body || !mac) throw new InvalidCursorError("malformed");
  if (createHmac("sha256", KEY).update(body).digest("base64url").slice(0, 22) !== mac)
    throw new InvalidCursorError("not issued by this server (tampered, or from before a restart)");
  const parsed = JSON.parse(Buffer.from(body, "base64url").toString()) as { q: string; o: number };
  if (parsed.q !== queryKey) throw new InvalidCursorError("belongs to a different query (arguments changed)");
  return parsed.o;
}

/** The starting offset from `offset` or `cursor`. */
export function startOffset(args: { offset?: number; cursor?: string }, queryKey: string): number {
  if (args.cursor) return decodeCursor(args.cursor, queryKey);
  return args.offset ?? 0;
}

const TIME_FIELD = /(_time|_at|^timestamp|Time|_ts)$/;

/** Adds `<field>_iso` next to µs/s epoch numbers in time-named fields, keeping the raw value. */
export function withIsoTimes(row: Row): Row {
  let out: Row | undefined;
  for (const [k, v] of Object.entries(row)) {
    if (typeof v !== "number" || !TIME_FIELD.test(k) || v <= 0) continue;
    const ms = v > 1e14 ? v / 1000 : v > 1e11 ? v : v * 1000;
    if (ms < 9e11 || ms > 5e12) continue;
    out ??= { ...row };
    out[`${k}_iso`] = new Date(ms).toISOString();
  }
  return out ?? row;
}

/** Only the named columns; a column may be a nested path (Authenticode.Trusted), kept under that name. */
function pick(row: Row, columns?: string[]): Row {
  if (!columns?.length) return row;
  const out: Row = {};
  for (const c of columns) if (hasPath(row, c)) out[c] = valueAt(row, c);
  return out;
}

export interface ShapeInput {
  /** Rows fetched for this page; pass limit + 1 rows when possible so `has_more` is known. */
  rows: Row[];
  offset: number;
  limit: number;
  queryKey: string;
  columns?: string[];
  byteCap?: number;
  /** Whether a filter (search, state, WHERE) narrowed the set. */
  filtered?: string;
  /** The collection is still running: results may grow. */
  provisional?: string;
  /** The collection failed or was cancelled: these rows are all it collected, not all there is. */
  failed?: string;
  total?: number;
}

export interface Shaped {
  rows: Row[];
  page: z.infer<typeof PageSchema>;
  coverage: Coverage;
}

export function shapeRows(s: ShapeInput): Shaped {
  const cap = s.byteCap ?? numericSetting("MEGARAPTOR_MAX_RESULT_BYTES");
  let hasMore = s.rows.length > s.limit || (s.total !== undefined && s.offset + s.limit < s.total);
  const page = s.rows.slice(0, s.limit).map((r) => withIsoTimes(pick(r, s.columns)));
  // Byte cap: drop whole rows from the end and say so; the cursor resumes at the first dropped row. A row's size is
  // its length as a JSON object, measured on the compact line the page text shows it as (written here once, reused
  // by renderRowsText).
  const writer = page.length ? lineWriter(page[0]!) : undefined;
  const lines: string[] = [];
  let bytes = 2;
  let keep = 0;
  for (const r of page) {
    const l = writer!.write(r);
    const size = l.objectLength + 1;
    if (bytes + size > cap && keep > 0) break;
    bytes += size;
    keep++;
    lines.push(l.line);
  }
  const cutByBytes = keep < page.length;
  const rows = page.slice(0, keep);
  if (writer) rememberLines(rows, writer.columns, lines);
  if (cutByBytes) hasMore = true;
  const next = hasMore ? encodeCursor(s.queryKey, s.offset + rows.length) : undefined;
  let coverage: Coverage;
  if (s.provisional) coverage = { status: "provisional", note: s.provisional };
  else if (s.failed && !hasMore) coverage = { status: "truncated", note: s.failed };
  else if (hasMore)
    coverage = {
      status: "truncated",
      note: cutByBytes
        ? `Only ${rows.length} of ${page.length} rows fit the ${cap}-byte result cap; pass next_cursor (or fewer columns) for the rest.`
        : `More rows exist beyond this page${s.total !== undefined ? ` (${s.total} in total)` : ""}; pass next_cursor for the next page.`,
    };
  else if (s.filtered) coverage = { status: "filtered", note: `All rows matching ${s.filtered} are shown.` };
  else coverage = { status: "exhaustive", note: "All rows are shown." };
  return { rows, page: { offset: s.offset, returned: rows.length, has_more: hasMore, next_cursor: next, total: s.total }, coverage };
}
