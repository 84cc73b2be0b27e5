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
 * finaliser (FNV's low bits, which pick the slot, mix poorly on their own).
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

/** A slot: the key's hash, its id + 1 (0: empty), where its characters start in the pool, and how many. */
const SLOT = 4;

/**
 * Keys numbered 0, 1, 2… in the order added; open addressing with linear probing. A key's characters sit in one
 * pool and its slot says where: a hit costs the slot and the characters, not a string object (and its parent, for
 * a copied slice) reached through an array. With `fold`, two keys are one when their toLowerCase() are equal: an
 * ASCII span is hashed and compared with its ASCII letters folded, a span with any other character is lower-cased
 * first (toLowerCase is not ASCII folding: the Kelvin sign lower-cases to "k"), and such a key is stored lower-cased.
 */
export class SpanTable {
  private slots = new Int32Array(SLOT * 1024);
  private mask = 1023;
  private pool = new Uint16Array(16 * 1024);
  private used = 0;
  /** Where each id's characters start in the pool (and end: the next id's start). */
  private starts = new Int32Array(1024);
  private count = 0;

  constructor(readonly fold: boolean) {}

  get size(): number {
    return this.count;
  }

  /** The stored key of `id`: the value added, lower-cased if `fold` and it holds a character outside ASCII. */
  key(id: number): string {
    const from = this.starts[id]!;
    const to = id + 1 < this.count ? this.starts[id + 1]! : this.used;
    let out = "";
    // fromCharCode of a whole subarray at once: keys are short, and this runs once per reported value.
    for (let k = from; k < to; k += 4096) out += String.fromCharCode(...this.pool.subarray(k, Math.min(to, k + 4096)));
    return out;
  }

  /** The id of the key equal to text[start, end); -1 if absent. */
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

  /** Adds `value` (not in the table yet: find gave -1) and returns its id. Its characters are copied. */
  add(value: string): number {
    const key = this.fold && hasNonAscii(value) ? value.toLowerCase() : value;
    if (2 * (this.count + 1) > this.mask + 1) this.grow();
    if (this.used + key.length > this.pool.length) this.pool = grown(this.pool, this.used + key.length);
    if (this.count + 1 > this.starts.length) this.starts = grown(this.starts, this.count + 1);
    const id = this.count++;
    const at = this.used;
    for (let k = 0; k < key.length; k++) this.pool[at + k] = key.charCodeAt(k);
    this.used += key.length;
    this.starts[id] = at;
    this.place(spanHash(key, 0, key.length, this.fold), id + 1, at, key.length);
    return id;
  }

  private probe(text: string, start: number, end: number, hash: number): number {
    const slots = this.slots;
    const len = end - start;
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const s = SLOT * i;
      const id = slots[s + 1]!;
      if (id === EMPTY) return -1;
      if (slots[s] === hash && slots[s + 3] === len && this.equal(slots[s + 2]!, text, start, len)) return id - 1;
    }
  }

  private place(hash: number, slotValue: number, at: number, len: number): void {
    const slots = this.slots;
    let i = hash & this.mask;
    while (slots[SLOT * i + 1] !== EMPTY) i = (i + 1) & this.mask;
    const s = SLOT * i;
    slots[s] = hash;
    slots[s + 1] = slotValue;
    slots[s + 2] = at;
    slots[s + 3] = len;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Int32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    for (let s = 0; s < old.length; s += SLOT) if (old[s + 1] !== EMPTY) this.place(old[s]!, old[s + 1]!, old[s + 2]!, old[s + 3]!);
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

function grown<T extends Uint16Array | Int32Array>(a: T, need: number): T {
  let n = a.length * 2;
  while (n < need) n *= 2;
  const out = new (a.constructor as new (n: number) => T)(n);
  out.set(a);
  return out;
}

/** Whether `s` has a character outside ASCII. */
export function hasNonAscii(s: string): boolean {
  let any = 0;
  for (let k = 0; k < s.length; k++) any |= s.charCodeAt(k);
  return any >= 128;
}
