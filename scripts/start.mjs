#!/usr/bin/env node
/**
 * `npm start`: runs the built CLI, building it first only when a source is newer than dist/. An MCP client spawns this
 * over stdio, so nothing but the server's JSON-RPC may reach stdout: the compiler's output goes to stderr (and
 * .npmrc silences npm's own banner).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const entry = join(root, "dist/cli/main.js");
const SOURCES = ["core", "proto", "velociraptor", "profiles", "components", "dfir", "deploy", "test-server", "mcp", "cli"];

function newestSource() {
  let newest = Math.max(statSync(join(root, "tsconfig.json")).mtimeMs, statSync(join(root, "tsconfig.build.json")).mtimeMs, statSync(join(root, "package.json")).mtimeMs);
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(p).mtimeMs);
    }
  };
  for (const d of SOURCES) if (existsSync(join(root, d))) walk(join(root, d));
  return newest;
}

if (!existsSync(entry) || statSync(entry).mtimeMs < newestSource()) {
  process.stderr.write("megaraptor: building dist/ (sources changed)…\n");
  const tsc = join(root, "node_modules/typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: ["ignore", 2, 2] });
  if (r.status !== 0) {
    process.stderr.write("megaraptor: the build failed (see above); fix it or run `npm run build` to see the errors.\n");
    process.exit(1);
  }
}
await import(pathToFileURL(entry).href);
