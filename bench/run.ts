/**
 * `npm run bench [-- name-filter]`: runs every bench/*.bench.ts (default export: async () => void), each in its own
 * process so one benchmark's heap does not inflate the next one's memory figures. Benchmarks print their own
 * figures and targets; they never fail the test suite.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
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
  let failed = 0;
  for (const f of files) {
    console.log(`\n=== ${f} ===`);
    const r = spawnSync(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--child", f], { stdio: "inherit" });
    if (r.status !== 0) failed++;
  }
  if (failed) process.exit(1);
}
