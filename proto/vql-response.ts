/**
 * A hand-written decoder for the one message that carries rows, VQLResponse (field numbers from
 * proto/velociraptor.proto, upstream actions/proto/vql.proto). It exists for two reasons the loaded codec in wire.ts
 * cannot serve: `Response` comes out as a view of the message's bytes, not a JavaScript string, so JSON Lines output
 * copies the server's bytes without a UTF-8 decode and re-encode; and it skips protobufjs's generic decode + toObject
 * per message. test/proto/vql-response.test.ts checks it against the loaded codec field by field.
 */
import type { WireVQLRequest } from "./wire.js";

/** VQLResponse with `Response` as bytes. uint64 fields are decimal strings, as wire.ts's loader options give them. */
export interface WireVQLResponseBytes {
  /** UTF-8 JSON array of rows; a view into the received message (no copy). Empty for log messages. */
  Response: Buffer;
  Columns: string[];
  Query: WireVQLRequest | null;
  timestamp: string;
  query_id: string;
  part: string;
  total_rows: string;
  log: string;
  org_id: string;
}

const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Bytes = 2,
  Fixed32 = 5,
}

/** A cursor over one protobuf message. */
class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** An unsigned varint as a decimal string, exact beyond 2^53. */
  varint(): string {
    let lo = 0;
    let shift = 0;
    // Up to 7 bytes (49 bits) add exactly in a double; longer values (timestamps in µs need 51 bits) go through BigInt.
    for (; shift < 49; shift += 7) {
      const b = this.byte();
      lo += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return String(lo);
    }
    let big = BigInt(lo);
    for (; shift < 70; shift += 7) {
      const b = this.byte();
      big += BigInt(b & 0x7f) << BigInt(shift);
      if (b < 0x80) return (big & 0xffffffffffffffffn).toString();
    }
    throw new RangeError("VQLResponse: varint longer than 10 bytes");
  }

  /** A varint known to be small (tags and lengths). */
  uint32(): number {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    throw new RangeError("VQLResponse: length or tag varint too long");
  }

  bytes(): Buffer {
    const len = this.uint32();
    const from = this.pos;
    if (from + len > this.end) throw new RangeError("VQLResponse: a field runs past the end of the message");
    this.pos += len;
    return this.buf.subarray(from, from + len);
  }

  string(): string {
    return this.bytes().toString("utf8");
  }

  skip(wireType: number): void {
    if (wireType === WireType.Varint) this.uint32Skip();
    else if (wireType === WireType.Fixed64) this.advance(8);
    else if (wireType === WireType.Bytes) this.bytes();
    else if (wireType === WireType.Fixed32) this.advance(4);
    else throw new RangeError(`VQLResponse: unsupported wire type ${wireType}`);
  }

  private uint32Skip(): void {
    for (let i = 0; i < 10; i++) if (this.byte() < 0x80) return;
    throw new RangeError("VQLResponse: varint longer than 10 bytes");
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new RangeError("VQLResponse: a field runs past the end of the message");
    this.pos += n;
  }

  private byte(): number {
    if (this.pos >= this.end) throw new RangeError("VQLResponse: message ends inside a field");
    return this.buf[this.pos++]!;
  }
}

function decodeRequest(r: Reader): WireVQLRequest {
  const body = r.bytes();
  const q: WireVQLRequest = { VQL: "", Name: "" };
  const sub = new Reader(body);
  while (sub.pos < sub.end) {
    const tag = sub.uint32();
    const field = tag >>> 3;
    if (field === 1 && (tag & 7) === WireType.Bytes) q.VQL = sub.string();
    else if (field === 2 && (tag & 7) === WireType.Bytes) q.Name = sub.string();
    else sub.skip(tag & 7);
  }
  return q;
}

/** Decodes one VQLResponse. Unknown fields are skipped, as any protobuf reader does; a later field value wins. */
export function decodeVQLResponse(buf: Buffer): WireVQLResponseBytes {
  const m: WireVQLResponseBytes = { Response: EMPTY, Columns: [], Query: null, timestamp: "0", query_id: "0", part: "0", total_rows: "0", log: "", org_id: "" };
  const r = new Reader(buf);
  while (r.pos < r.end) {
    const tag = r.uint32();
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        if (wt === WireType.Bytes) m.Response = r.bytes();
        else r.skip(wt);
        break;
      case 2:
        if (wt === WireType.Bytes) m.Columns.push(r.string());
        else r.skip(wt);
        break;
      case 3:
        if (wt === WireType.Bytes) m.Query = decodeRequest(r);
        else r.skip(wt);
        break;
      case 4:
        if (wt === WireType.Varint) m.timestamp = r.varint();
        else r.skip(wt);
        break;
      case 5:
        if (wt === WireType.Varint) m.query_id = r.varint();
        else r.skip(wt);
        break;
      case 6:
        if (wt === WireType.Varint) m.part = r.varint();
        else r.skip(wt);
        break;
      case 7:
        if (wt === WireType.Varint) m.total_rows = r.varint();
        else r.skip(wt);
        break;
      case 9:
        if (wt === WireType.Bytes) m.log = r.string();
        else r.skip(wt);
        break;
      case 12:
        if (wt === WireType.Bytes) m.org_id = r.string();
        else r.skip(wt);
        break;
      default:
        r.skip(wt);
    }
  }
  return m;
}

const EMPTY = Buffer.alloc(0);
