/**
 * A result row read from the bytes the server sent, without parsing all of it: one pass over the row's top level
 * records where each key and value lie, and a value is decoded (JSON.parse of its slice, or the UTF-8 of a string
 * with no escapes) only when something asks for it. The timeline needs a few columns of each row (its time, the
 * columns of its message, ClientId/FlowId of hunt rows) and then copies the row's bytes into the event line as they
 * are, so a full JSON.parse per row and a JSON.stringify per event were most of a build's CPU.
 *
 * `RawRow#view` is a Proxy that reads like the parsed row for the code that takes rows (rowTimes, rowMessage,
 * clientOf/flowOf): `row.Name`, `"Name" in row`; anything that enumerates the row (Object.entries, JSON.stringify —
 * unknown artifacts' column detection, the text filter) gets the row parsed in full, so the answer is always the
 * parsed row's. A row the scanner does not take apart as simply as that (a key with an escape or a non-ASCII byte,
 * not an object) is parsed in full at once. One RawRow is reused for every row of a source: the view is valid until
 * the next `reset` or `take` (`take`: the members were already found by the batch's one pass, velociraptor/row-index.ts).
 *
 * The scan is on UTF-8 bytes: quotes, backslashes, braces and brackets are single ASCII bytes in valid UTF-8, and a
 * backslash always escapes the next byte (velociraptor/json-lines.ts relies on the same facts).
 */

const enum Byte {
  Quote = 0x22,
  Backslash = 0x5c,
  Comma = 0x2c,
  Colon = 0x3a,
  OpenArray = 0x5b,
  CloseArray = 0x5d,
  OpenObject = 0x7b,
  CloseObject = 0x7d,
}

/** Node's Buffer decoders behind Buffer#toString (present on every Buffer; not in @types/node). */
interface Slices {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

// Buffer#toString where a Node version lacks them.
const direct = typeof (Buffer.prototype as unknown as Partial<Slices>).utf8Slice === "function" && typeof (Buffer.prototype as unknown as Partial<Slices>).latin1Slice === "function";
const utf8 = direct ? (b: Buffer, s: number, e: number) => (b as unknown as Slices).utf8Slice(s, e) : (b: Buffer, s: number, e: number) => b.toString("utf8", s, e);
const latin1 = direct ? (b: Buffer, s: number, e: number) => (b as unknown as Slices).latin1Slice(s, e) : (b: Buffer, s: number, e: number) => b.toString("latin1", s, e);

const isSpace = (b: number) => b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
const UNSET = Symbol("unset");

export class RawRow {
  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private end = 0;
  /** Per top-level member: key start, key end (exclusive, without quotes), value start, value end — from `base`. */
  private at: Int32Array;
  private base = 0;
  /** The members this row's own scan records (`at` is a batch's index instead after `take`). */
  private own = new Int32Array(4 * 32);
  private count = 0;
  private cache: unknown[] = [];
  private parsed: Record<string, unknown> | undefined;
  /** The row as an object: reads decode lazily; valid until the next reset. */
  readonly view: Record<string, unknown>;

  constructor() {
    this.at = this.own;
    // The target is an empty extensible object, so reporting the row's keys from ownKeys/getOwnPropertyDescriptor
    // keeps the Proxy invariants.
    this.view = new Proxy({} as Record<string, unknown>, {
      get: (_t, k) => (typeof k === "string" ? this.get(k) : undefined),
      has: (_t, k) => typeof k === "string" && this.has(k),
      ownKeys: () => Reflect.ownKeys(this.full()),
      getOwnPropertyDescriptor: (_t, k) => {
        const o = this.full();
        return Object.prototype.hasOwnProperty.call(o, k) ? { value: o[k as string], writable: true, enumerable: true, configurable: true } : undefined;
      },
    });
  }

  /** Takes the row buf[start, end) (one JSON value, no newline). */
  reset(buf: Buffer, start: number, end: number): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.parsed = undefined;
    this.count = 0;
    this.at = this.own;
    this.base = 0;
    if (!this.scan()) this.parsed = JSON.parse(buf.toString("utf8", start, end)) as Record<string, unknown>;
    else this.clearCache();
  }

  /**
   * Takes the row buf[start, end) whose members a batch's index already found (velociraptor/row-index.ts): `count`
   * members from member `first` of `members`, or count -1 for a row to parse in full. No scan of its own.
   */
  take(buf: Buffer, start: number, end: number, members: Int32Array, first: number, count: number): void {
    this.buf = buf;
    this.start = start;
    this.end = end;
    this.parsed = undefined;
    this.at = members;
    this.base = 4 * first;
    if (count < 0) {
      this.count = 0;
      this.parsed = JSON.parse(buf.toString("utf8", start, end)) as Record<string, unknown>;
    } else {
      this.count = count;
      this.clearCache();
    }
  }

  private clearCache(): void {
    if (this.cache.length < this.count) this.cache = new Array<unknown>(this.count);
    for (let i = 0; i < this.count; i++) this.cache[i] = UNSET;
  }

  /** The whole row parsed, as the object path has it. */
  full(): Record<string, unknown> {
    return (this.parsed ??= JSON.parse(this.buf.toString("utf8", this.start, this.end)) as Record<string, unknown>);
  }

  /** Index of the member named `k` (the last one, as JSON.parse keeps the last of duplicate keys), or -1. */
  private find(k: string): number {
    const b = this.buf;
    const at = this.at;
    for (let m = this.count - 1; m >= 0; m--) {
      const o = this.base + 4 * m;
      const ks = at[o]!;
      if (at[o + 1]! - ks !== k.length) continue;
      let i = 0;
      while (i < k.length && b[ks + i] === k.charCodeAt(i)) i++;
      if (i === k.length) return m;
    }
    return -1;
  }

  private has(k: string): boolean {
    if (this.parsed) return Object.prototype.hasOwnProperty.call(this.parsed, k) || k in this.parsed;
    return this.find(k) >= 0 || k in Object.prototype;
  }

  private get(k: string): unknown {
    if (this.parsed) return this.parsed[k];
    const m = this.find(k);
    if (m < 0) return (Object.prototype as Record<string, unknown>)[k];
    const c = this.cache[m];
    if (c !== UNSET) return c;
    const vs = this.at[this.base + 4 * m + 2]!;
    const ve = this.at[this.base + 4 * m + 3]!;
    const b = this.buf;
    let v: unknown;
    if (b[vs] === Byte.Quote) {
      // No escape and no control character: the string is its bytes. ASCII ones are read as latin1 (the same
      // characters, a cheaper decoder); the slice methods are called directly, as Buffer#toString's checks were a
      // visible share of the build.
      let plain = true;
      let ascii = true;
      for (let i = vs + 1; i < ve - 1; i++) {
        const c = b[i]!;
        if (c === Byte.Backslash || c < 0x20) plain = false;
        else if (c >= 0x80) ascii = false;
      }
      v = !plain ? JSON.parse(utf8(b, vs, ve)) : ascii ? latin1(b, vs + 1, ve - 1) : utf8(b, vs + 1, ve - 1);
    } else v = JSON.parse(utf8(b, vs, ve));
    this.cache[m] = v;
    return v;
  }

  /**
   * Records the top-level members; false when the row must be parsed in full instead (not an object, a key that is
   * not plain ASCII). Malformed JSON also returns false: JSON.parse then throws with its own message.
   */
  private scan(): boolean {
    const b = this.buf;
    const end = this.end;
    let i = this.start;
    while (i < end && isSpace(b[i]!)) i++;
    if (b[i] !== Byte.OpenObject) return false;
    i++;
    for (;;) {
      while (i < end && isSpace(b[i]!)) i++;
      if (b[i] === Byte.CloseObject) return this.count === 0 && this.tail(i + 1);
      if (b[i] !== Byte.Quote) return false;
      const ks = ++i;
      for (; i < end; i++) {
        const c = b[i]!;
        if (c === Byte.Quote) break;
        if (c === Byte.Backslash || c >= 0x80) return false;
      }
      if (i >= end) return false;
      const ke = i++;
      while (i < end && isSpace(b[i]!)) i++;
      if (b[i] !== Byte.Colon) return false;
      i++;
      while (i < end && isSpace(b[i]!)) i++;
      const vs = i;
      const c0 = b[i];
      if (c0 === Byte.Quote) {
        for (i++; i < end; i++) {
          const c = b[i];
          if (c === Byte.Quote) break;
          if (c === Byte.Backslash) i++;
        }
        if (i >= end) return false;
        i++;
      } else if (c0 === Byte.OpenObject || c0 === Byte.OpenArray) {
        let depth = 0;
        for (; i < end; i++) {
          const c = b[i];
          if (c === Byte.Quote) {
            for (i++; i < end; i++) {
              const d = b[i];
              if (d === Byte.Quote) break;
              if (d === Byte.Backslash) i++;
            }
          } else if (c === Byte.OpenObject || c === Byte.OpenArray) depth++;
          else if ((c === Byte.CloseObject || c === Byte.CloseArray) && --depth === 0) break;
        }
        if (i >= end) return false;
        i++;
      } else {
        while (i < end) {
          const c = b[i]!;
          if (c === Byte.Comma || c === Byte.CloseObject || isSpace(c)) break;
          i++;
        }
        if (i === vs) return false;
      }
      const ve = i;
      this.push(ks, ke, vs, ve);
      while (i < end && isSpace(b[i]!)) i++;
      if (b[i] === Byte.Comma) {
        i++;
        continue;
      }
      if (b[i] === Byte.CloseObject) return this.tail(i + 1);
      return false;
    }
  }

  /** Nothing but white space after the closing brace. */
  private tail(i: number): boolean {
    while (i < this.end && isSpace(this.buf[i]!)) i++;
    return i === this.end;
  }

  private push(ks: number, ke: number, vs: number, ve: number): void {
    if (4 * (this.count + 1) > this.own.length) {
      const next = new Int32Array(this.own.length * 2);
      next.set(this.own);
      this.at = this.own = next;
    }
    const o = 4 * this.count++;
    this.own[o] = ks;
    this.own[o + 1] = ke;
    this.own[o + 2] = vs;
    this.own[o + 3] = ve;
  }
}
