/**
 * Streaming k-way merge: k time-ordered streams in, one time-ordered stream out, holding one pending item per stream
 * in a binary heap — memory depends on k, never on the number of events. Streams that arrive out of order are
 * first put in order by an external sort (sorted runs spilled to temporary JSON Lines files, then merged), so memory
 * stays bounded by the run size whatever the result size.
 */
import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export type Source<T> = AsyncIterable<T> | Iterable<T>;

/** A min-heap of stream heads keyed by `key`; ties broken by stream index so the merge is stable. */
class Heap<T> {
  private readonly items: { key: number; idx: number; value: T }[] = [];
  get size(): number {
    return this.items.length;
  }
  private less(a: number, b: number): boolean {
    const x = this.items[a]!;
    const y = this.items[b]!;
    return x.key < y.key || (x.key === y.key && x.idx < y.idx);
  }
  push(item: { key: number; idx: number; value: T }): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): { key: number; idx: number; value: T } | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length && last) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(l, m)) m = l;
        if (r < a.length && this.less(r, m)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function iteratorOf<T>(s: Source<T>): AsyncIterator<T> | Iterator<T> {
  return Symbol.asyncIterator in s ? (s as AsyncIterable<T>)[Symbol.asyncIterator]() : (s as Iterable<T>)[Symbol.iterator]();
}

/** Merges streams that are each ordered by `key` into one ordered stream. */
export async function* mergeSorted<T>(sources: Source<T>[], key: (t: T) => number): AsyncGenerator<T> {
  const its = sources.map(iteratorOf);
  const heap = new Heap<T>();
  try {
    for (let i = 0; i < its.length; i++) {
      const r = await its[i]!.next();
      if (!r.done) heap.push({ key: key(r.value), idx: i, value: r.value });
    }
    while (heap.size) {
      const top = heap.pop()!;
      yield top.value;
      const it = its[top.idx]!;
      // Synchronous sources (the common case once data is in memory or parsed) skip the await per item.
      const r = (it.next as () => IteratorResult<T> | Promise<IteratorResult<T>>)();
      const next = r instanceof Promise ? await r : r;
      if (!next.done) heap.push({ key: key(next.value), idx: top.idx, value: next.value });
    }
  } finally {
    await Promise.all(its.map((it) => it.return?.()));
  }
}

/** Items all sorted streams may keep in memory together (streams beyond it go to disk even when short). */
export interface MemoryBudget {
  limit: number;
  held: number;
}

/**
 * Orders one stream by `key` in bounded memory: a stream that fits in one run is sorted in memory; longer ones are
 * cut into runs of `runSize` items, each sorted and spilled to disk, then merged back. Nothing can be emitted before
 * the stream ends (a later item may be the earliest), and temporary files are removed when iteration ends.
 */
export async function* externalSort<T>(source: Source<T>, key: (t: T) => number, runSize = 50_000, budget?: MemoryBudget): AsyncGenerator<T> {
  let buffer: T[] = [];
  let dir: string | undefined;
  const runs: string[] = [];
  const spill = async () => {
    buffer.sort((a, b) => key(a) - key(b));
    dir ??= mkdtempSync(join(tmpdir(), "megaraptor-sort-"));
    const path = join(dir, `run-${runs.length}.jsonl`);
    const fh = await open(path, "w", 0o600);
    try {
      const CHUNK = 2000;
      for (let i = 0; i < buffer.length; i += CHUNK) await fh.write(buffer.slice(i, i + CHUNK).map((x) => JSON.stringify(x)).join("\n") + "\n");
    } finally {
      await fh.close();
    }
    runs.push(path);
    buffer = [];
  };
  try {
    for await (const item of source as AsyncIterable<T>) {
      buffer.push(item);
      if (buffer.length >= runSize) await spill();
    }
    // A short stream stays in memory — unless the streams already held would exceed the shared budget.
    if (!runs.length && (!budget || budget.held + buffer.length <= budget.limit)) {
      if (budget) budget.held += buffer.length;
      buffer.sort((a, b) => key(a) - key(b));
      yield* buffer;
      return;
    }
    if (buffer.length) await spill();
    yield* mergeSorted(runs.map(readRun<T>), key);
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

async function* readRun<T>(path: string): AsyncGenerator<T> {
  const rl = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of rl) if (line) yield JSON.parse(line) as T;
}
