/**
 * Turns one result batch of the Query RPC — `VQLResponse.Response`, a JSON array of row objects — into JSON Lines
 * without parsing the rows: the bytes of each top-level element are copied as they are, one line per element.
 *
 * Why not JSON.parse + JSON.stringify: on a million rows that pair was most of `megaraptor query --format jsonl`'s CPU
 * and its peak memory (a heap of row objects per batch), and it changes what Velociraptor wrote. Velociraptor encodes
 * a batch with json.MarshalWithOptions(rows, opts) (vql/json.go MarshalJson) and its own JSON Lines with the same call
 * per row (vql/json.go MarshalJsonl), so an element's bytes inside the array are exactly the line Velociraptor itself
 * would write for that row. Re-serialising in JavaScript would undo its encoder's forms: `\u003c` `\u003e` `\u0026`
 * (escapeHTML, on by default in Velocidex/json NewEncOpts), `\u2028` `\u2029`, `\u0008` `\u000c`, `\ufffd` for
 * invalid UTF-8 (Velocidex/json encode.go, encodeState.string), and it would round uint64 values above 2^53 (which
 * Velociraptor writes as plain JSON numbers) to the nearest double.
 *
 * The scanner works on the UTF-8 bytes: in valid UTF-8 no byte of a multi-byte character is below 0x80, so quotes,
 * backslashes and brackets are always single ASCII bytes. It checks the array's structure enough never to split
 * inside a string or a nested value and to refuse a truncated or malformed batch; it does not validate every token.
 * It rewrites the batch in place (each separating "," becomes "\n") instead of copying it: a fresh buffer per batch
 * cost more CPU in page faults than the scan itself.
 */
import { MalformedResponseError } from "./errors.js";

// Byte values as an enum of literals: V8 inlines these, while a module-level const is loaded from the module on every
// comparison, which doubled the cost of the per-byte loop below.
const enum Byte {
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  Newline = 0x0a,
  Return = 0x0d,
  OpenArray = 0x5b,
  CloseArray = 0x5d,
  OpenObject = 0x7b,
  CloseObject = 0x7d,
}

export interface JsonLinesBatch {
  /**
   * The rows as JSON Lines: each row's bytes as the server sent them, each followed by "\n". A view into the buffer
   * that was passed in, which the call has rewritten. Empty when rows is 0.
   */
  lines: Buffer;
  /** Rows in `lines`. */
  rows: number;
  /** Rows the batch held beyond `limit` (0 when there was no limit or it was not reached). */
  dropped: number;
}

const isSpace = (b: number | undefined) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;

function skipSpace(bytes: Uint8Array, i: number): number {
  while (i < bytes.length && isSpace(bytes[i])) i++;
  return i;
}

function isNull(bytes: Buffer, i: number): boolean {
  return bytes.length - i >= 4 && bytes.toString("latin1", i, i + 4) === "null" && skipSpace(bytes, i + 4) === bytes.length;
}

/**
 * Splits a JSON array of rows into JSON Lines, keeping at most `limit` rows, by rewriting `bytes` in place. `null`
 * (what Go's encoder writes for a nil slice) counts as an empty batch. Throws MalformedResponseError for anything
 * that is not one complete array; `bytes` is then left half rewritten and must be discarded.
 */
export function jsonArrayToLines(bytes: Buffer, limit = Infinity): JsonLinesBatch {
  const n = bytes.length;
  let j = skipSpace(bytes, 0);
  if (isNull(bytes, j)) return { lines: bytes.subarray(0, 0), rows: 0, dropped: 0 };
  if (bytes[j] !== Byte.OpenArray) throw new MalformedResponseError(`expected a JSON array, found ${describeByte(bytes, j)} at byte ${j}`);
  j = skipSpace(bytes, j + 1);
  if (bytes[j] === Byte.CloseArray) {
    if (skipSpace(bytes, j + 1) !== n) throw new MalformedResponseError(`unexpected bytes after the array at byte ${j + 1}`);
    return { lines: bytes.subarray(0, 0), rows: 0, dropped: 0 };
  }
  const from = j;
  let out = j; // where the next row's bytes go: equal to `start` for compact input, so nothing moves
  let start = j; // first byte of the current row
  let total = 0;
  const breaks = { multiline: false };
  const lineEnds: number[] = []; // one per row kept: its count is the rows kept
  for (;;) {
    const sep = rowSeparator(bytes, start, breaks);
    // Read before placeRow, which may write the row's "\n" over the separator.
    const last = bytes[sep] === Byte.CloseArray;
    if (!last && bytes[sep] !== Byte.Comma) throw new MalformedResponseError(`the array is closed by ${describeByte(bytes, sep)} at byte ${sep}`);
    const end = rowEnd(bytes, start, sep);
    total++;
    if (lineEnds.length < limit) lineEnds.push((out = placeRow(bytes, start, end, out)));
    if (last) {
      if (skipSpace(bytes, sep + 1) !== n) throw new MalformedResponseError(`unexpected bytes after the array at byte ${sep + 1}`);
      break;
    }
    start = skipSpace(bytes, sep + 1);
  }
  if (breaks.multiline) return reserialise(bytes, from, lineEnds, total);
  return { lines: bytes.subarray(from, out), rows: lineEnds.length, dropped: total - lineEnds.length };
}

/**
 * A row with a line break between its tokens (an indenting encoder; Velociraptor's compact one never does this) cannot
 * be one line as it is: such a batch is parsed and written compactly instead. `lineEnds` are the offsets just past
 * each placed row's "\n".
 */
function reserialise(bytes: Buffer, from: number, lineEnds: number[], total: number): JsonLinesBatch {
  let start = from;
  const lines = lineEnds.map((end) => {
    const line = JSON.stringify(JSON.parse(bytes.toString("utf8", start, end - 1)));
    start = end;
    return line + "\n";
  });
  return { lines: Buffer.from(lines.join(""), "utf8"), rows: lines.length, dropped: total - lines.length };
}

/**
 * Where the row of a batch that starts at `i` ends: the comma at the array's level after it, or the byte that closes
 * the array (or, in a malformed batch, a "}" at that level) — the one rule for where a row ends, which RowIndex
 * (row-index.ts) follows too. Sets `breaks.multiline` when a line break stands between tokens inside the row. Throws
 * for an unterminated string or an array that is not closed.
 *
 * One loop over every byte, strings included: rows are many short strings, and a native Buffer.indexOf per string
 * cost more than the bytes it skipped. A backslash always escapes the next byte, so skipping that byte is enough.
 * (No closures in here: a captured variable is read from a context object on every byte.)
 */
export function rowSeparator(bytes: Uint8Array, i: number, breaks: { multiline: boolean }): number {
  const n = bytes.length;
  let depth = 1;
  for (; i < n; i++) {
    const c = bytes[i];
    if (c === Byte.Quote) {
      const opened = i;
      for (i++; i < n; i++) {
        const d = bytes[i];
        if (d === Byte.Quote) break;
        if (d === Byte.Backslash) i++;
      }
      if (i >= n) throw new MalformedResponseError(`a string starting at byte ${opened} is not terminated`);
    } else if (c === Byte.OpenObject || c === Byte.OpenArray) depth++;
    else if (c === Byte.CloseObject || c === Byte.CloseArray) {
      if (--depth === 0) return i;
    } else if ((c === Byte.Newline || c === Byte.Return) && depth > 1) breaks.multiline = true;
    else if (c === Byte.Comma && depth === 1) return i;
  }
  throw new MalformedResponseError("the array is not closed (the batch is truncated)");
}

/** End of the row that starts at `start` and is followed by the separator at `sep` (whitespace before it trimmed). */
function rowEnd(bytes: Uint8Array, start: number, sep: number): number {
  let end = sep;
  while (end > start && isSpace(bytes[end - 1])) end--;
  if (end === start) throw new MalformedResponseError(`expected a row at byte ${start}`);
  return end;
}

/** Moves the row [start, end) to `out` (a no-op for compact input) and ends it with "\n"; returns the next `out`. */
function placeRow(bytes: Buffer, start: number, end: number, out: number): number {
  if (out !== start) bytes.copyWithin(out, start, end);
  const at = out + end - start;
  // For Velociraptor's compact encoding this is the separator itself: the "," (or "]") becomes the line's "\n".
  bytes[at] = Byte.Newline;
  return at + 1;
}

function describeByte(bytes: Uint8Array, i: number): string {
  return i >= bytes.length ? "the end" : JSON.stringify(String.fromCharCode(bytes[i]!));
}
