/**
 * One pass over a result batch of the Query RPC (`VQLResponse.Response`, a JSON array of row objects) that finds each
 * row's bytes AND where each top-level key and value of the row lies, without decoding anything. A reader of a few
 * columns per row (the timeline: its time and message columns) then decodes only those, and copies the row's bytes
 * as the server wrote them. Splitting the batch into JSON Lines (json-lines.ts) and then scanning each line again for
 * its columns read every byte twice; this reads it once.
 *
 * The rows and their split are exactly jsonArrayToLines': a row is the bytes from its first token to the comma at the
 * array's level (or the closing bracket) after it, whitespace around it dropped; a batch that is not one complete
 * array is refused with the same MalformedResponseError; `null` is an empty batch; at most `limit` rows are kept and
 * the rest counted. A row is taken apart only when it is an object whose keys are plain ASCII and whose tokens are
 * simple (no brackets or quotes inside a number or literal): anything else is marked for a full JSON.parse by its
 * reader, with its span found by jsonArrayToLines' own rule. A batch with a line break between the tokens of a row
 * (an indenting encoder; Velociraptor's compact one never writes one) is handed over as jsonArrayToLines' lines
 * instead, which re-serialises such a batch.
 *
 * Like json-lines.ts it works on UTF-8 bytes, where quotes, backslashes, braces and brackets are single ASCII bytes
 * and a backslash always escapes the next byte. The buffer is not modified.
 */
import { MalformedResponseError } from "./errors.js";
import { jsonArrayToLines, rowSeparator } from "./json-lines.js";

// Byte values as an enum of literals: V8 inlines them (see json-lines.ts).
const enum Byte {
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  Colon = 0x3a,
  Newline = 0x0a,
  Return = 0x0d,
  OpenArray = 0x5b,
  CloseArray = 0x5d,
  OpenObject = 0x7b,
  CloseObject = 0x7d,
}

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

/**
 * An indexed batch. Reused by the next indexRows call given the same object: read it before asking for the next batch.
 */
export class RowIndex {
  /** The batch the offsets point into. */
  bytes: Buffer = Buffer.alloc(0);
  /** Rows kept (at most `limit`). */
  rows = 0;
  /** Rows the batch held beyond `limit`. */
  dropped = 0;
  /**
   * Per kept row, four numbers: start, end (exclusive), its first member's number and its member count — -1 when the
   * row is not taken apart (parse it in full).
   */
  row: Int32Array = new Int32Array(4 * 1024);
  /** Per member, four numbers: key start, key end (without the quotes), value start, value end (exclusive). */
  members: Int32Array = new Int32Array(4 * 16 * 1024);
  /** Set, instead of the index, for a batch with line breaks inside its rows: the rows as JSON Lines (jsonArrayToLines). */
  lines: Buffer | undefined;
  /** Members recorded so far (during indexing). */
  private m = 0;
  /** A line break between a row's tokens was seen (during indexing). */
  private multiline = false;

  /** Indexes `bytes`, keeping at most `limit` rows; throws MalformedResponseError for anything but one complete array. */
  index(bytes: Buffer, limit = Infinity): this {
    this.bytes = bytes;
    this.rows = 0;
    this.dropped = 0;
    this.lines = undefined;
    this.m = 0;
    this.multiline = false;
    const n = bytes.length;
    let j = skipSpace(bytes, 0);
    if (n - j >= 4 && bytes.toString("latin1", j, j + 4) === "null" && skipSpace(bytes, j + 4) === n) return this;
    if (bytes[j] !== Byte.OpenArray) throw new MalformedResponseError(`expected a JSON array, found ${describeByte(bytes, j)} at byte ${j}`);
    j = skipSpace(bytes, j + 1);
    if (bytes[j] === Byte.CloseArray) {
      if (skipSpace(bytes, j + 1) !== n) throw new MalformedResponseError(`unexpected bytes after the array at byte ${j + 1}`);
      return this;
    }
    let total = 0;
    for (;;) {
      // j: the first byte of a row.
      const c = bytes[j];
      if (c === Byte.Comma || c === Byte.CloseArray || c === Byte.CloseObject) throw new MalformedResponseError(`expected a row at byte ${j}`);
      const keep = this.rows < limit;
      const first = this.m;
      let end = keep && c === Byte.OpenObject ? this.object(bytes, j, first) : -1;
      let sep = end;
      if (end >= 0) {
        while (sep < n && isSpace(bytes[sep])) sep++;
        if (bytes[sep] !== Byte.Comma && bytes[sep] !== Byte.CloseArray) end = -1;
      }
      let count = end >= 0 ? this.m - first : -1;
      if (end < 0) {
        // Not taken apart: the row's span by jsonArrayToLines' rule, its members dropped.
        this.m = first;
        count = -1;
        const breaks = { multiline: false };
        sep = rowSeparator(bytes, j, breaks);
        if (breaks.multiline) this.multiline = true;
        end = sep;
        while (end > j && isSpace(bytes[end - 1])) end--;
      }
      total++;
      if (keep) this.push(j, end, first, count);
      if (bytes[sep] === Byte.Comma) {
        j = skipSpace(bytes, sep + 1);
        continue;
      }
      if (bytes[sep] !== Byte.CloseArray) throw new MalformedResponseError(`the array is closed by ${describeByte(bytes, sep)} at byte ${sep}`);
      if (skipSpace(bytes, sep + 1) !== n) throw new MalformedResponseError(`unexpected bytes after the array at byte ${sep + 1}`);
      break;
    }
    this.dropped = total - this.rows;
    if (this.multiline) {
      const batch = jsonArrayToLines(bytes, limit);
      this.lines = batch.lines;
      this.rows = batch.rows;
      this.dropped = batch.dropped;
    }
    return this;
  }

  /**
   * Records the members of the object at `i`; returns the index just past its closing brace, or -1 when the row is
   * not one to take apart this way (its members are then dropped by the caller). Never throws.
   */
  private object(b: Buffer, i: number, first: number): number {
    const n = b.length;
    i++;
    for (;;) {
      while (i < n && isSpace(b[i])) this.space(b[i++]!);
      // "}" here closes an empty object; after a comma it is a trailing comma, which JSON.parse refuses.
      if (b[i] === Byte.CloseObject) return this.m === first ? i + 1 : -1;
      if (b[i] !== Byte.Quote) return -1;
      const ks = ++i;
      for (; i < n; i++) {
        const c = b[i]!;
        if (c === Byte.Quote) break;
        if (c === Byte.Backslash || c >= 0x80) return -1;
      }
      if (i >= n) return -1;
      const ke = i++;
      while (i < n && isSpace(b[i])) this.space(b[i++]!);
      if (b[i] !== Byte.Colon) return -1;
      i++;
      while (i < n && isSpace(b[i])) this.space(b[i++]!);
      const vs = i;
      const c0 = b[i];
      if (c0 === Byte.Quote) {
        for (i++; i < n; i++) {
          const c = b[i];
          if (c === Byte.Quote) break;
          if (c === Byte.Backslash) i++;
        }
        if (i >= n) return -1;
        i++;
      } else if (c0 === Byte.OpenObject || c0 === Byte.OpenArray) {
        let depth = 0;
        for (; i < n; i++) {
          const c = b[i];
          if (c === Byte.Quote) {
            for (i++; i < n; i++) {
              const d = b[i];
              if (d === Byte.Quote) break;
              if (d === Byte.Backslash) i++;
            }
          } else if (c === Byte.OpenObject || c === Byte.OpenArray) depth++;
          else if (c === Byte.CloseObject || c === Byte.CloseArray) {
            if (--depth === 0) break;
          } else if (c === Byte.Newline || c === Byte.Return) this.multiline = true;
        }
        if (i >= n) return -1;
        i++;
      } else {
        // A number or literal: it ends at a comma, a brace or white space; a quote or bracket inside it would make
        // jsonArrayToLines' split differ from this one, so such a row is not taken apart.
        for (; i < n; i++) {
          const c = b[i]!;
          if (c === Byte.Comma || c === Byte.CloseObject || isSpace(c)) break;
          if (c === Byte.Quote || c === Byte.OpenArray || c === Byte.CloseArray || c === Byte.OpenObject) return -1;
        }
        if (i === vs) return -1;
      }
      this.member(ks, ke, vs, i);
      while (i < n && isSpace(b[i])) this.space(b[i++]!);
      if (b[i] === Byte.Comma) {
        i++;
        continue;
      }
      if (b[i] === Byte.CloseObject) return i + 1;
      return -1;
    }
  }

  private space(c: number): void {
    if (c === Byte.Newline || c === Byte.Return) this.multiline = true;
  }

  private member(ks: number, ke: number, vs: number, ve: number): void {
    if (4 * (this.m + 1) > this.members.length) this.members = grow(this.members);
    const o = 4 * this.m++;
    const a = this.members;
    a[o] = ks;
    a[o + 1] = ke;
    a[o + 2] = vs;
    a[o + 3] = ve;
  }

  private push(start: number, end: number, first: number, count: number): void {
    if (4 * (this.rows + 1) > this.row.length) this.row = grow(this.row);
    const o = 4 * this.rows++;
    const a = this.row;
    a[o] = start;
    a[o + 1] = end;
    a[o + 2] = first;
    a[o + 3] = count;
  }
}

function grow(a: Int32Array): Int32Array<ArrayBuffer> {
  const next = new Int32Array(a.length * 2);
  next.set(a);
  return next;
}

function skipSpace(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && isSpace(bytes[i])) i++;
  return i;
}

function describeByte(bytes: Uint8Array, i: number): string {
  return i >= bytes.length ? "the end" : JSON.stringify(String.fromCharCode(bytes[i]!));
}
