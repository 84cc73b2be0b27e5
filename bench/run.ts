/**
 * `npm run bench [-- name-filter]`: runs every bench/*.bench.ts (default export: async () => void), each in its own
 * process so one benchmark's heap does not inflate the next one's memory figures. Benchmarks print their own
 * figures and targets; they never fail the test suite.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const [first, second] = process.argv.slice(2);

if (first === "--child" && second) {
  const mod = (await import(pathToFileURL(join(here, second)).href)) as { default: () => Promise<void> };
  await mod.default();
} else {
  const files = readdirSync(here)
    .filter((f) => f.endsWith(".bench.ts") && (!first || f.includes(first)))
    .sort();
  if (!files.length) {
    console.error(`no benchmark matches "${first ?? ""}"; available: ${readdirSync(here).filter((f) => f.endsWith(".bench.ts")).join(", ")}`);
    process.exit(2);
  }
  // Load average beside every benchmark: on a shared 2-core machine wall figures mean little without it.
  const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
  const summary: string[] = [];
  let failed = 0;
  for (const f of files) {
    console.log(`\n=== ${f} === (${new Date().toISOString()}, load average ${load()})`);
    const t = performance.now();
    const r = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", f], { stdio: "inherit" });
    const line = `${f.padEnd(28)} ${r.status === 0 ? "ok    " : `FAILED (exit ${r.status ?? r.signal})`} ${((performance.now() - t) / 1000).toFixed(0).padStart(5)} s  load after ${load()}`;
    summary.push(line);
    if (r.status !== 0) failed++;
  }
  console.log(`\n=== summary (${new Date().toISOString()}) ===\n${summary.join("\n")}`);
  if (failed) process.exit(1);
}
