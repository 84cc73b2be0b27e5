/**
 * A memory diagnostic for benchmarks (bench/flow-page-memory.bench.ts). With MEGARAPTOR_DEBUG_MEMORY=1, SIGUSR2 makes
 * the process write one line to stderr — `megaraptor-memory {"heapUsed":…,"rss":…,"gc":true}` — after a full garbage
 * collection when node runs with --expose-gc, so heapUsed is what the process retains rather than garbage not yet
 * collected, and a bench can measure growth over a warmed baseline. Off by default: SIGUSR2 keeps its usual meaning,
 * and nothing is written to stderr (stdout is the MCP channel either way).
 */
export const MEMORY_LINE = "megaraptor-memory ";

export interface MemoryReport {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rss: number;
  /** A full collection ran first (node --expose-gc). */
  gc: boolean;
}

export function memoryReport(): MemoryReport {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, rss: m.rss, gc: gc !== undefined };
}

/** Installs the SIGUSR2 report when MEGARAPTOR_DEBUG_MEMORY is set; returns whether it did. */
export function installMemoryReport(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!/^(1|true|yes)$/i.test(env.MEGARAPTOR_DEBUG_MEMORY ?? "")) return false;
  process.on("SIGUSR2", () => void process.stderr.write(`${MEMORY_LINE}${JSON.stringify(memoryReport())}\n`));
  return true;
}
