/**
 * Writing files so that a failure is an answer, not a crash or a hang: every error becomes a WriteError naming the
 * folder, the cause and what to do; a file is either complete (written under a temporary name, synced, then renamed)
 * or absent — never half-written under its final name.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { MegaraptorError } from "./errors.js";

/** What failed, in words a user can act on, by errno code. */
const CAUSES: Record<string, { cause: string; fix: string }> = {
  ENOSPC: { cause: "the disk is full", fix: "Free space on that disk or point {redirect} at a folder with room, then run the call again." },
  EDQUOT: { cause: "the disk quota is exhausted", fix: "Free space within the quota or point {redirect} at another folder, then run the call again." },
  EFBIG: { cause: "the file is larger than this file system allows", fix: "Point {redirect} at a file system without that limit." },
  EROFS: { cause: "the file system is read-only", fix: "Point {redirect} at a writable folder (or remount the disk read-write), then run the call again." },
  EACCES: { cause: "permission denied", fix: "Give the user running Megaraptor write access to the folder or point {redirect} at one it owns." },
  EPERM: { cause: "the operation is not permitted", fix: "Give the user running Megaraptor write access to the folder or point {redirect} at one it owns." },
  ENOENT: { cause: "the folder does not exist", fix: "Create the folder or point {redirect} at an existing one." },
  ENOTDIR: { cause: "a component of the path is not a folder", fix: "Point {redirect} at a folder." },
  EISDIR: { cause: "a folder is in the way of the file", fix: "Remove the folder or choose another name." },
  EEXIST: { cause: "a file of that name already exists", fix: "Run the call again: names are unique per call." },
  EMFILE: { cause: "too many files are open in this process", fix: "Run the call again when fewer calls run at once." },
  ENFILE: { cause: "too many files are open on this system", fix: "Run the call again when the system is less busy." },
  EIO: { cause: "the disk reported an I/O error", fix: "Check the disk (dmesg) and point {redirect} at a healthy one." },
};

export class WriteError extends MegaraptorError {
  readonly folder: string;
  readonly errno?: string;
  constructor(o: { what: string; folder: string; err: unknown; redirect: string; leftover?: string }) {
    const errno = (o.err as NodeJS.ErrnoException | undefined)?.code;
    const known = errno ? CAUSES[errno] : undefined;
    const cause = known?.cause ?? (o.err instanceof Error ? o.err.message : String(o.err));
    const fix = (known?.fix ?? "Check the folder and point {redirect} elsewhere if it cannot be fixed.").replace("{redirect}", o.redirect);
    const leftover = o.leftover ? ` An incomplete file could not be removed and is marked as partial: ${o.leftover}.` : "";
    super("WRITE_FAILED", `Cannot write the ${o.what} in ${o.folder}: ${cause}${errno ? ` (${errno})` : ""}.${leftover}`, {
      hint: fix,
      cause: o.err,
      details: { folder: o.folder, errno, ...(o.leftover ? { partial_file: o.leftover } : {}) },
    });
    this.folder = o.folder;
    this.errno = errno;
  }
}

/** The suffix of a file being written (or left behind by an interrupted write). */
export const PARTIAL_SUFFIX = ".partial";

/** Creates a folder (and its parents), turning a failure into a WriteError. */
export function ensureFolder(folder: string, o: { what: string; redirect: string; mode?: number }): string {
  try {
    mkdirSync(folder, { recursive: true, mode: o.mode ?? 0o700 });
  } catch (err) {
    throw new WriteError({ what: o.what, folder, err, redirect: o.redirect });
  }
  return folder;
}

/**
 * Writes `data` to `path` all or nothing: a temporary file beside it, synced, then renamed over it. On any failure the
 * temporary file is removed and a WriteError says what happened; the previous content of `path` is untouched.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, o: { what: string; redirect: string; mode?: number; exclusive?: boolean }): void {
  const folder = dirname(path);
  const tmp = join(folder, `.${basename(path)}.${randomBytes(4).toString("hex")}${PARTIAL_SUFFIX}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", o.mode ?? 0o600);
    const buf = typeof data === "string" ? Buffer.from(data) : data;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (o.exclusive) {
      // Never replace an existing file (a key another process created first): link() fails with EEXIST, atomically.
      linkSync(tmp, path);
      removeQuietly(tmp);
    } else renameSync(tmp, path);
  } catch (err) {
    if (fd !== undefined) closeQuietly(fd);
    const leftover = removeQuietly(tmp) ? undefined : tmp;
    throw new WriteError({ what: o.what, folder, err, redirect: o.redirect, leftover });
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Already failing; the write error is what the user needs.
  }
}

/** Removes a file; false when it could not be removed (it then stays, marked by its .partial name). */
export function removeQuietly(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}
