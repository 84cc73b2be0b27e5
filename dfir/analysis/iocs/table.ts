/**
 * A table of strings looked up by a span of a text, text[start, end), without cutting the span out: the aggregator
 * meets each indicator occurrence as a span of the scanned text, and a fresh slice per occurrence (hashed by V8 anew,
 * then garbage) was most of its cost. Keys are owned strings; a lookup hashes the span and confirms every hash hit
 * by comparing the characters exactly, so two values whose hashes collide stay two keys (a crafted collision cannot
 * hide an indicator behind an allow-listed one). With `fold`, ASCII letters compare case-insensitively.
 */

// A per-process seed: colliding values cannot be prepared in advance to lengthen probe chains.
const SEED = (Math.random() * 0x100000000) | 0;

/**
 * The hash of text[start, end), ASCII letters folded to lower case with `fold`: FNV-1a from a random seed, then a
 * finaliser (FNV's low bits, which pick the slot, mix poorly on their own). Only letters are folded: setting bit 5
 * of every character would hash "[" and "{", "@" and "`" alike, and a path holding k of them would give 2^k values
 * one hash — one probe chain that every lookup walks.
 */
export function spanHash(text: string, start: number, end: number, fold: boolean): number {
  let h = SEED ^ (end - start);
  if (fold)
    for (let k = start; k < end; k++) {
      const c = text.charCodeAt(k);
      h = Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
    }
  else for (let k = start; k < end; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
  return finish(h);
}

function finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/**
 * A record: 8 int32 fields (32 bytes, two to a cache line). The table uses fields 0-3 (the key's hash, its id + 1
 * (0: an empty slot), where its characters start in the pool, how many); the owner's data sits in fields 4-7
 * (OWNER_FIELDS), so a hit costs this record and the key's characters, not a slot, then an entry object, then a key
 * string (and its parent, for a copied slice).
 */
export const RECORD_INTS = 8;
/** The first of the four int fields free for the owner. */
export const OWNER_FIELDS = 4;

/**
 * Keys in open addressing with linear probing, numbered 0, 1, 2… in the order added. A key's characters sit in one
 * pool (a byte each while all are Latin-1). With `fold`, two keys are one when their toLowerCase() are equal: an
 * ASCII span is hashed and compared with its ASCII letters folded, a span with any other character is lower-cased
 * first (toLowerCase is not ASCII folding: the Kelvin sign lower-cases to "k"), and such a key is stored lower-cased.
 * Records move when the table grows: a slot is valid until the next add.
 */
export class SpanTable {
  ints = new Int32Array(RECORD_INTS * 1024);
  private mask = 1023;
  private pool: Uint8Array | Uint16Array = new Uint8Array(32 * 1024);
  private used = 0;
  private count = 0;

  constructor(readonly fold: boolean) {}

  get size(): number {
    return this.count;
  }

  /** Slots in use, in no particular order. */
  *slots(): Generator<number> {
    for (let slot = 0; slot <= this.mask; slot++) if (this.ints[slot * RECORD_INTS + 1] !== EMPTY) yield slot;
  }

  /** The id of the key in `slot`. */
  id(slot: number): number {
    return this.ints[slot * RECORD_INTS + 1]! - 1;
  }

  /** The stored key in `slot`: the value added, lower-cased if `fold` and it holds a character outside ASCII. */
  key(slot: number): string {
    const from = this.ints[slot * RECORD_INTS + 2]!;
    const to = from + this.ints[slot * RECORD_INTS + 3]!;
    let out = "";
    for (let k = from; k < to; k += 4096) out += String.fromCharCode(...this.pool.subarray(k, Math.min(to, k + 4096)));
    return out;
  }

  /** The slot of the key equal to text[start, end); -1 if absent. */
  find(text: string, start: number, end: number): number {
    let h = SEED ^ (end - start);
    if (this.fold) {
      let any = 0;
      for (let k = start; k < end; k++) {
        const c = text.charCodeAt(k);
        any |= c;
        h = Math.imul(h ^ (c >= 65 && c <= 90 ? c + 32 : c), 0x01000193);
      }
      if (any >= 128) {
        const lower = text.slice(start, end).toLowerCase();
        return this.probe(lower, 0, lower.length, spanHash(lower, 0, lower.length, true));
      }
    } else for (let k = start; k < end; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
    return this.probe(text, start, end, finish(h));
  }

  /** Adds `value` (not in the table yet: find gave -1); returns its slot, its owner fields zero. */
  add(value: string): number {
    const key = this.fold && hasNonAscii(value) ? value.toLowerCase() : value;
    if (2 * (this.count + 1) > this.mask + 1) this.grow();
    let wide = 0;
    for (let k = 0; k < key.length; k++) wide |= key.charCodeAt(k);
    if (wide > 255 && this.pool instanceof Uint8Array) this.pool = Uint16Array.from(this.pool);
    if (this.used + key.length > this.pool.length) {
      let n = this.pool.length * 2;
      while (n < this.used + key.length) n *= 2;
      const pool = this.pool instanceof Uint8Array ? new Uint8Array(n) : new Uint16Array(n);
      pool.set(this.pool);
      this.pool = pool;
    }
    const at = this.used;
    for (let k = 0; k < key.length; k++) this.pool[at + k] = key.charCodeAt(k);
    this.used += key.length;
    const hash = spanHash(key, 0, key.length, this.fold);
    const slot = this.freeSlot(this.ints, hash);
    const r = slot * RECORD_INTS;
    this.ints[r] = hash;
    this.ints[r + 1] = ++this.count;
    this.ints[r + 2] = at;
    this.ints[r + 3] = key.length;
    return slot;
  }

  private probe(text: string, start: number, end: number, hash: number): number {
    const ints = this.ints;
    const len = end - start;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const r = slot * RECORD_INTS;
      if (ints[r + 1] === EMPTY) return -1;
      if (ints[r] === hash && ints[r + 3] === len && this.equal(ints[r + 2]!, text, start, len)) return slot;
    }
  }

  private freeSlot(ints: Int32Array, hash: number): number {
    let slot = hash & this.mask;
    while (ints[slot * RECORD_INTS + 1] !== EMPTY) slot = (slot + 1) & this.mask;
    return slot;
  }

  private grow(): void {
    const old = this.ints;
    this.ints = new Int32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    for (let r = 0; r < old.length; r += RECORD_INTS)
      if (old[r + 1] !== EMPTY) this.ints.set(old.subarray(r, r + RECORD_INTS), this.freeSlot(this.ints, old[r]!) * RECORD_INTS);
  }

  /** Whether the pool's `len` characters from `at` equal text[start, start + len) (ASCII letters folded with `fold`). */
  private equal(at: number, text: string, start: number, len: number): boolean {
    const pool = this.pool;
    if (this.fold) {
      for (let k = 0; k < len; k++) {
        let a = pool[at + k]!;
        let b = text.charCodeAt(start + k);
        if (a === b) continue;
        if (a >= 65 && a <= 90) a += 32;
        if (b >= 65 && b <= 90) b += 32;
        if (a !== b) return false;
      }
      return true;
    }
    for (let k = 0; k < len; k++) if (pool[at + k] !== text.charCodeAt(start + k)) return false;
    return true;
  }
}

const EMPTY = 0;

/** Whether `s` has a character outside ASCII. */
export function hasNonAscii(s: string): boolean {
  let any = 0;
  for (let k = 0; k < s.length; k++) any |= s.charCodeAt(k);
  return any >= 128;
}
