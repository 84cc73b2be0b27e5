/**
 * The test server's VQLResponse encoder, written by hand for the one message a result stream repeats a thousand times
 * per million rows. The loaded codec (proto/wire.ts) needs `Response` as a JavaScript string: a stored batch would be
 * decoded from UTF-8 into a string and protobufjs would encode it back (a byte-length pass and a UTF-8 write), about
 * half the server's CPU per row. Here `Response` may be the batch's bytes, copied once into the message.
 *
 * The bytes are exactly what the loaded codec writes for the same object (test/test-server/vql-response-encode.test.ts
 * compares them, and decodes both): proto-loader serialises with protobufjs `fromObject` + `encode`, which writes
 * every field the object holds (not null/undefined) — even a zero or an empty string — in field-number order, and
 * skips the others. Field numbers are proto/velociraptor.proto's (upstream actions/proto/vql.proto).
 */
import type { WireVQLRequest } from "../proto/wire.js";

/** A uint64 as the server holds it: µs timestamps (51 bits) fit a double exactly; larger values come as string or bigint. */
export type Uint64 = number | string | bigint;

/** The VQLResponse fields the test server sends. Absent (undefined or null) fields are not written. */
export interface VQLResponseOut {
  /** The batch's JSON array: UTF-8 bytes (a stored batch) or text. */
  Response?: Buffer | string;
  Columns?: readonly string[];
  Query?: Partial<WireVQLRequest> | null;
  timestamp?: Uint64;
  query_id?: Uint64;
  part?: Uint64;
  total_rows?: Uint64;
  log?: string;
  org_id?: string;
}

// Tags: field number << 3 | wire type (0 varint, 2 length-delimited).
const TAG_RESPONSE = (1 << 3) | 2;
const TAG_COLUMNS = (2 << 3) | 2;
const TAG_QUERY = (3 << 3) | 2;
const TAG_TIMESTAMP = 4 << 3;
const TAG_QUERY_ID = 5 << 3;
const TAG_PART = 6 << 3;
const TAG_TOTAL_ROWS = 7 << 3;
const TAG_LOG = (9 << 3) | 2;
const TAG_ORG_ID = (12 << 3) | 2;
const TAG_VQL = (1 << 3) | 2;
const TAG_NAME = (2 << 3) | 2;

const MAX_UINT64 = (1n << 64n) - 1n;

/** A uint64 field's value as a non-negative number (exact) or bigint (above 2^53), as protobufjs's Long would hold it. */
function uint64(value: Uint64, field: string): number | bigint {
  if (typeof value === "number") {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`VQLResponse.${field}: ${value} is not a uint64; give a non-negative integer`);
    if (value <= Number.MAX_SAFE_INTEGER) return value;
    return BigInt(value);
  }
  const big = BigInt(value);
  if (big < 0n || big > MAX_UINT64) throw new RangeError(`VQLResponse.${field}: ${String(value)} is not a uint64; give 0 … 2^64-1`);
  return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

function varintSize(v: number | bigint): number {
  if (typeof v === "bigint") {
    let n = 1;
    while (v >= 0x80n) {
      v >>= 7n;
      n++;
    }
    return n;
  }
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 0x80);
    n++;
  }
  return n;
}

/** Writes into a buffer sized in advance by the same field walk. */
class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  varint(v: number | bigint): void {
    const b = this.buf;
    if (typeof v === "bigint") {
      while (v >= 0x80n) {
        b[this.pos++] = Number(v & 0x7fn) | 0x80;
        v >>= 7n;
      }
      b[this.pos++] = Number(v);
      return;
    }
    while (v >= 0x80) {
      b[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[this.pos++] = v;
  }

  bytes(tag: number, value: Buffer): void {
    this.buf[this.pos++] = tag;
    this.varint(value.length);
    value.copy(this.buf, this.pos);
    this.pos += value.length;
  }

  string(tag: number, value: string, byteLength: number): void {
    this.buf[this.pos++] = tag;
    this.varint(byteLength);
    this.pos += this.buf.write(value, this.pos, byteLength, "utf8");
  }
}

/** One length-delimited field's size: tag (one byte for fields 1–15), length varint, body. */
const delimited = (len: number) => 1 + varintSize(len) + len;

/** Encodes one VQLResponse into a single Buffer (what grpc-js frames and sends). */
export function encodeVQLResponse(m: VQLResponseOut): Buffer {
  // Sizes first, so the message is one allocation and `Response` is copied once.
  const response = m.Response ?? undefined;
  const responseLen = response === undefined ? 0 : typeof response === "string" ? Buffer.byteLength(response) : response.length;
  const columns = m.Columns ?? [];
  const columnLens = columns.map((c) => Buffer.byteLength(c));
  const query = m.Query ?? undefined;
  const vql = query?.VQL ?? undefined;
  const name = query?.Name ?? undefined;
  const vqlLen = vql === undefined ? 0 : Buffer.byteLength(vql);
  const nameLen = name === undefined ? 0 : Buffer.byteLength(name);
  const queryLen = (vql === undefined ? 0 : delimited(vqlLen)) + (name === undefined ? 0 : delimited(nameLen));
  const timestamp = m.timestamp == null ? undefined : uint64(m.timestamp, "timestamp");
  const queryId = m.query_id == null ? undefined : uint64(m.query_id, "query_id");
  const part = m.part == null ? undefined : uint64(m.part, "part");
  const totalRows = m.total_rows == null ? undefined : uint64(m.total_rows, "total_rows");
  const log = m.log ?? undefined;
  const logLen = log === undefined ? 0 : Buffer.byteLength(log);
  const orgId = m.org_id ?? undefined;
  const orgLen = orgId === undefined ? 0 : Buffer.byteLength(orgId);

  let size = 0;
  if (response !== undefined) size += delimited(responseLen);
  for (const l of columnLens) size += delimited(l);
  if (query !== undefined) size += delimited(queryLen);
  if (timestamp !== undefined) size += 1 + varintSize(timestamp);
  if (queryId !== undefined) size += 1 + varintSize(queryId);
  if (part !== undefined) size += 1 + varintSize(part);
  if (totalRows !== undefined) size += 1 + varintSize(totalRows);
  if (log !== undefined) size += delimited(logLen);
  if (orgId !== undefined) size += delimited(orgLen);

  const w = new Writer(Buffer.allocUnsafe(size));
  if (response !== undefined) {
    if (typeof response === "string") w.string(TAG_RESPONSE, response, responseLen);
    else w.bytes(TAG_RESPONSE, response);
  }
  columns.forEach((c, i) => w.string(TAG_COLUMNS, c, columnLens[i]!));
  if (query !== undefined) {
    w.buf[w.pos++] = TAG_QUERY;
    w.varint(queryLen);
    if (vql !== undefined) w.string(TAG_VQL, vql, vqlLen);
    if (name !== undefined) w.string(TAG_NAME, name, nameLen);
  }
  for (const [tag, v] of [
    [TAG_TIMESTAMP, timestamp],
    [TAG_QUERY_ID, queryId],
    [TAG_PART, part],
    [TAG_TOTAL_ROWS, totalRows],
  ] as const) {
    if (v === undefined) continue;
    w.buf[w.pos++] = tag;
    w.varint(v);
  }
  if (log !== undefined) w.string(TAG_LOG, log, logLen);
  if (orgId !== undefined) w.string(TAG_ORG_ID, orgId, orgLen);
  if (w.pos !== size) throw new Error(`VQLResponse encoder: wrote ${w.pos} of ${size} bytes`);
  return w.buf;
}
