/**
 * Which columns does a piece of code read from a row? Wraps a row in a recording proxy: every property access,
 * nested ones included, is logged as a dotted path ("Authenticode.Trusted", or the flat "Laddr.IP"). Used to check
 * rules, timeline messages and correlation keys against the column catalogue without trusting their own word.
 */

/** A row where every column is present (nested proxies), every column absent, or the given row, recording reads. */
export function recordingRow(mode: "present" | "absent" | Record<string, unknown>, reads: Set<string>): Record<string, unknown> {
  const wrap = (target: unknown, prefix: string): unknown => {
    // Lists are values, not rows: reading their elements is not reading columns.
    if (mode !== "present" && (target === null || typeof target !== "object" || Array.isArray(target))) return target;
    const base = (target && typeof target === "object" ? target : {}) as Record<string | symbol, unknown>;
    return new Proxy(base, {
      get(t, key) {
        if (typeof key === "symbol" || key === "toJSON" || key === "then") return t[key];
        const path = prefix ? `${prefix}.${key}` : key;
        reads.add(path);
        if (mode === "absent") return undefined;
        if (mode === "present") return wrap(undefined, path);
        return wrap(t[key], path);
      },
      has(t, key) {
        if (typeof key === "string") reads.add(prefix ? `${prefix}.${key}` : key);
        return mode === "present" || key in t;
      },
    });
  };
  return wrap(mode === "present" || mode === "absent" ? {} : mode, "") as Record<string, unknown>;
}

/** Runs `fn` over a present-everything row, an absent-everything row and each sample row, collecting reads. */
export function readsOf(fn: (row: Record<string, unknown>) => unknown, samples: Record<string, unknown>[] = []): Set<string> {
  const reads = new Set<string>();
  for (const mode of ["present", "absent", ...samples] as const) {
    try {
      fn(recordingRow(mode, reads));
    } catch {
      // A reader may choke on a proxy standing in for a string; the reads up to that point still count.
    }
  }
  return reads;
}
