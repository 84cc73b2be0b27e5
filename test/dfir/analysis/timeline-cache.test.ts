/**
 * The timeline page cache: built once and paged by offset (first, middle, last equal a fresh build's lines), hit and
 * miss by fingerprint, expiry, byte-cap eviction, one build for concurrent callers, no entry after a failed build,
 * temporary entries for changing sources, and a private folder.
 */
import { mkdtempSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { newStats, type TimelineSource } from "../../../dfir/analysis/timeline/build.js";
import { fingerprint, INDEX_EVERY, TimelineCache } from "../../../dfir/analysis/timeline/cache.js";
import { timelineLines } from "../../../dfir/analysis/timeline/lines.js";

const N = 1000;
const sources = (seed = 0): TimelineSource[] =>
  [0, 1].map((s) => ({
    artifact: "Linux.Sys.Pslist",
    client_id: `C.${s}`,
    flow_id: `F.${s}`,
    rows: Array.from({ length: N / 2 }, (_, i) => ({ Pid: String(i), Name: `p${(i + seed) % 5}`, CreateTime: new Date(1_763_900_000_000 + ((i * 7919 + s) % 500) * 1000).toISOString() })),
  }));

async function fresh(seed = 0): Promise<string[]> {
  const out: string[] = [];
  for await (const c of timelineLines(sources(seed))) out.push(...c.bytes.toString().split("\n").slice(0, -1));
  return out;
}

function cache(over: Partial<{ maxBytes: number; ttlMs: number }> = {}, clock = { t: 1_000_000 }) {
  const dir = join(mkdtempSync(join(tmpdir(), "mr-tlcache-")), "timelines");
  return { c: new TimelineCache({ dir, maxBytes: 1e9, ttlMs: 60_000, ...over }, () => clock.t), dir, clock };
}

const counted = (seed = 0) => {
  const calls = { n: 0 };
  return { calls, build: () => (calls.n++, timelineLines(sources(seed), {}, newStats(), 4096)) };
};

describe("timeline cache", () => {
  it("pages first, middle and last (across index blocks) equal the fresh build's lines, and a second call hits", async () => {
    const { c, dir } = cache();
    const want = await fresh();
    const { calls, build } = counted();
    const key = fingerprint(["q", 1]);
    const e = await c.get(key, build, () => ({ rows: N }));
    expect(e.total).toBe(N);
    for (const [offset, limit] of [
      [0, 100],
      [INDEX_EVERY - 1, 3],
      [450, 100],
      [N - 100, 100],
      [N - 7, 100],
      [N, 10],
    ] as const)
      expect(await e.page(offset, limit)).toEqual(want.slice(offset, offset + limit));
    const again = await c.get(key, build, () => ({ rows: -1 }));
    expect(calls.n).toBe(1);
    expect(again.meta).toEqual({ rows: N });
    expect(await again.page(500, 10)).toEqual(want.slice(500, 510));
    // Private: the folder 0700, the files 0600.
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it("misses when a source's state is part of the key and changed; expires after the TTL", async () => {
    const { c, clock } = cache();
    const { calls, build } = counted();
    const k1 = fingerprint(["q", [["C.0", "F.0", "FINISHED", 500]]]);
    await c.get(k1, build, () => 0);
    await c.get(fingerprint(["q", [["C.0", "F.0", "FINISHED", 501]]]), build, () => 0);
    expect(calls.n).toBe(2);
    await c.get(k1, build, () => 0);
    expect(calls.n).toBe(2);
    clock.t += 61_000;
    await c.get(k1, build, () => 0);
    expect(calls.n).toBe(3);
  });

  it("evicts the least recently used entries over the byte cap, never the one just built", async () => {
    const { c, dir, clock } = cache({ maxBytes: 700_000 }); // room for two entries of this size (about 290 KB each)
    const [k1, k2, k3] = [1, 2, 3].map((i) => fingerprint(["q", i]));
    const use = async (k: string) => {
      clock.t += 1000;
      const { calls, build } = counted();
      await c.get(k!, build, () => 0);
      return calls.n;
    };
    expect(await use(k1!)).toBe(1);
    expect(await use(k2!)).toBe(1);
    expect(await use(k1!)).toBe(0); // a hit makes k1 the most recently used
    expect(await use(k3!)).toBe(1); // over the cap: k2, the least recently used, goes
    const left = new Set(readdirSync(dir).map((f) => f.slice(0, 64)));
    expect([k1, k2, k3].map((k) => left.has(k!))).toEqual([true, false, true]);
    expect(readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0)).toBeLessThanOrEqual(700_000);
    expect(await use(k2!)).toBe(1);
  });

  it("shares one build between concurrent callers of the same key", async () => {
    const { c } = cache();
    const { calls, build } = counted();
    const key = fingerprint(["q", "concurrent"]);
    const all = await Promise.all([1, 2, 3, 4].map(() => c.get(key, build, () => 0)));
    expect(calls.n).toBe(1);
    expect(all.map((e) => e.total)).toEqual([N, N, N, N]);
  });

  it("leaves no entry (and no partial file) after a build that fails half-way; the next call builds", async () => {
    const { c, dir } = cache();
    const key = fingerprint(["q", "fails"]);
    async function* broken() {
      yield* timelineLines(sources(), {}, newStats(), 4096);
      throw new Error("stream broke");
    }
    let yielded = 0;
    async function* halfway() {
      for await (const chunk of broken()) {
        yielded++;
        yield chunk;
      }
    }
    await expect(c.get(key, halfway, () => 0)).rejects.toThrow("stream broke");
    expect(yielded).toBeGreaterThan(1);
    expect(readdirSync(dir)).toEqual([]);
    const { calls, build } = counted();
    expect((await c.get(key, build, () => 0)).total).toBe(N);
    expect(calls.n).toBe(1);
  });

  it("builds a timeline of a changing source for one call only (store: false), and removes it once read", async () => {
    const { c, dir } = cache();
    const e = await c.get(fingerprint(["q", "running"]), counted().build, () => 0, { store: false });
    expect(await e.page(0, 2)).toEqual((await fresh()).slice(0, 2));
    await e.dispose();
    expect(readdirSync(dir)).toEqual([]);
  });
});
