import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root, found from this file whether it runs from sources (tsx, vitest) or from dist/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "proto", "velociraptor.proto"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the megaraptor package root (package.json beside proto/)");
    dir = parent;
  }
}

/** Megaraptor's own state folder: `MEGARAPTOR_HOME`, else `~/.megaraptor`. */
export function megaraptorHome(): string {
  return resolve(process.env.MEGARAPTOR_HOME ?? join(homedir(), ".megaraptor"));
}
