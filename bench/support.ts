/**
 * What several benchmarks measure the same way: the load average they print beside their figures, the API test
 * server in a child process (so its CPU is never counted as the client's), a full GC before a memory baseline, and
 * peak heap and RSS sampled while a run streams.
 */
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { loadavg } from "node:os";
import type { Readable } from "node:stream";
import { setFlagsFromString } from "node:v8";
import { packageRoot } from "../core/paths.js";
import { runInNewContext } from "node:vm";

/** The 1, 5 and 15 minute load averages, for printing beside wall figures on a shared machine. */
export const load = (): string => loadavg().map((l) => l.toFixed(2)).join(" ");

/** The test server in its own process (the default fixture, or `fixture`), writing its api_client.yaml files to `dir`. */
export async function startTestServerProcess(dir: string, fixture?: string): Promise<ChildProcessByStdio<null, null, Readable>> {
  const args = ["--import", "tsx", "test-server/cli.ts", "--port", "0", "--out-dir", dir, ...(fixture ? ["--fixture", fixture] : [])];
  const child = spawn(process.execPath, args, { cwd: packageRoot(), stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("api_client.yaml (admin)")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`test server exited (${code}): ${err}`)));
  });
  return child;
}

/** A full GC, so a baseline is what stays, not garbage. Bench processes only: the flag is never set in the product. */
export function fullGc(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

/** Samples heap and RSS every 20 ms from now; `stop()` gives the peaks. */
export function peakSampler(): { stop(): { heap: number; rss: number } } {
  const m0 = process.memoryUsage();
  let heap = m0.heapUsed;
  let rss = m0.rss;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    rss = Math.max(rss, m.rss);
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return { heap, rss };
    },
  };
}
