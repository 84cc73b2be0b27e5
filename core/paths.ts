import { existsSync, lstatSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "./errors.js";

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

/**
 * A name that becomes one path component (a deployment id, a template name, an alias): checked against `pattern`,
 * and never '/', '\\', NUL, "." or "..". Refused with a typed error naming the field, before anything touches the
 * file system — so a model-supplied `../../x` can never climb out of the folder the name is joined to.
 */
export function safeName(field: string, value: string, pattern: RegExp, expected: string): string {
  if (!pattern.test(value) || value === "." || value === ".." || /[/\\\0]/.test(value)) {
    throw new InputError(field, `${JSON.stringify(value.slice(0, 80))} is not a valid name: expected ${expected}`, "Names are single path components: no '/', '\\' or '..'.");
  }
  return value;
}

/** The real path of `p`, or of its nearest existing ancestor with the rest appended (a file about to be created). */
function realpathOfExisting(p: string): string {
  const rest: string[] = [];
  let cur = p;
  for (;;) {
    try {
      return join(realpathSync(cur), ...rest.reverse());
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      const parent = dirname(cur);
      if (parent === cur) return join(cur, ...rest.reverse());
      rest.push(basename(cur));
      cur = parent;
    }
  }
}

function inside(base: string, p: string): boolean {
  const r = relative(base, p);
  return r === "" ? false : !r.startsWith("..") && !isAbsolute(r);
}

/**
 * Confines an output file chosen by a caller to `base`: a relative `candidate` is taken from `base`; the result —
 * after resolving every symlink of the part that exists — must lie inside the real `base`, and the file itself must
 * not be a symlink (writing through one would land wherever it points). Refused with a typed error naming `field`.
 */
export function confinedPath(base: string, candidate: string, field: string): string {
  if (candidate.includes("\0")) throw new InputError(field, "contains a NUL byte", "Give a file name inside the output folder.");
  const realBase = realpathOfExisting(resolve(base));
  const wanted = resolve(base, candidate);
  const hint = `Give a file name (or a path) inside ${realBase}.`;
  if (!inside(resolve(base), wanted)) throw new InputError(field, `${JSON.stringify(candidate.slice(0, 200))} is outside the output folder ${realBase}`, hint);
  let link = false;
  try {
    link = lstatSync(wanted).isSymbolicLink();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  if (link) throw new InputError(field, `${JSON.stringify(candidate.slice(0, 200))} is a symbolic link; output files are never written through links`, hint);
  const real = realpathOfExisting(wanted);
  if (!inside(realBase, real)) throw new InputError(field, `${JSON.stringify(candidate.slice(0, 200))} resolves (through a symbolic link) to ${real}, outside the output folder ${realBase}`, hint);
  return real;
}
