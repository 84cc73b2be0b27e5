/**
 * A bounded least-recently-used memo for the pure VQL functions (parseVql, classifyVql). One run_vql call asks the
 * same question four or five times (is it audited, its plan, the validation, the mode check, the handler's list of
 * state-changing calls) and a model repeats a query to page through it; without a memo each time re-tokenizes,
 * re-parses and re-classifies the text.
 *
 * Safety rests on two things, both checked by test/velociraptor/vql/memo.test.ts: the key is everything the memoized
 * function reads (callers build it), and a cached value is deep-frozen, so no caller can change a verdict another
 * call will be handed.
 */

/** Evicts the least recently used entries past `maxEntries`, or past `maxKeyChars` characters of keys in total. */
export class Lru<V> {
  private readonly map = new Map<string, V>();
  private chars = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxKeyChars: number,
  ) {}

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      // Re-inserting moves the key to the end: Map iterates in insertion order, so the first key is the oldest use.
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }

  set(key: string, value: V): void {
    if (key.length > this.maxKeyChars) return; // would evict everything else and still not fit
    if (this.map.delete(key)) this.chars -= key.length;
    this.map.set(key, value);
    this.chars += key.length;
    for (const oldest of this.map.keys()) {
      if (this.map.size <= this.maxEntries && this.chars <= this.maxKeyChars) break;
      this.map.delete(oldest);
      this.chars -= oldest.length;
    }
  }

  clear(): void {
    this.map.clear();
    this.chars = 0;
  }
}

/** Freezes a plain tree of objects and arrays, so a value shared through a memo cannot be changed by one caller. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
