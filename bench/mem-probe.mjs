/*
 * Preloaded (node --import) into the MCP server the timeline bench starts: the bench cannot read another process's
 * V8 heap, so this samples heapUsed and RSS every 20 ms (keeping the peaks) and, on SIGUSR2, writes the current and
 * peak figures to MEGARAPTOR_MEM_PROBE (written aside and renamed, so the bench never reads half a file). The timer
 * is unref'd: it never keeps the server alive.
 */
import { renameSync, writeFileSync } from "node:fs";

const out = process.env.MEGARAPTOR_MEM_PROBE;
if (out) {
  let peakHeap = 0;
  let peakRss = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakHeap = Math.max(peakHeap, m.heapUsed);
    peakRss = Math.max(peakRss, m.rss);
    return m;
  };
  setInterval(sample, 20).unref();
  process.on("SIGUSR2", () => {
    const m = sample();
    writeFileSync(`${out}.tmp`, JSON.stringify({ heap: m.heapUsed, rss: m.rss, peakHeap, peakRss }));
    renameSync(`${out}.tmp`, out);
  });
}
