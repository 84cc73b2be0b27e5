/**
 * Evidence files: full results spilled to JSON Lines and files downloaded from the Velociraptor filestore, written
 * under the evidence folder with their SHA-256, never inlined into a model's context.
 *
 * A file is written as `<name>.partial` and renamed to `<name>` only once every byte is on disk (synced) and hashed.
 * Any failure — disk full, read-only folder, the source failing, the caller cancelling — closes the descriptor,
 * removes the partial file (or, when even that fails, leaves it under its .partial name, which the listing marks) and
 * throws: a WriteError naming the folder and the fix for a write failure, the source's own error otherwise.
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync } from "node:fs";
import { open, rename, type FileHandle } from "node:fs/promises";
import { basename, join, resolve, sep } from "node:path";
import { InputError } from "../../core/errors.js";
import { megaraptorHome } from "../../core/paths.js";
import { ensureFolder, PARTIAL_SUFFIX, removeQuietly, WriteError } from "../../core/write.js";
import type { Row } from "../../velociraptor/client.js";

const REDIRECT = "MEGARAPTOR_EVIDENCE_DIR";
const WHAT = "evidence file";

export function evidenceDir(env: NodeJS.ProcessEnv = process.env): string {
  return ensureFolder(resolve(env.MEGARAPTOR_EVIDENCE_DIR ?? join(megaraptorHome(), "evidence")), { what: "evidence folder", redirect: REDIRECT });
}

export interface EvidenceFile {
  path: string;
  name: string;
  uri: string;
  bytes: number;
  sha256: string;
  rows?: number;
  truncated?: boolean;
}

function safeName(label: string, ext: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  return `${stamp}-${label.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 80)}-${randomBytes(3).toString("hex")}.${ext}`;
}

/** Writes coalesce into blocks of this size: one write() per block, not per row. */
const BLOCK = 1024 * 1024;
/** A chunk of at least this size, with nothing pending, is its own write() (a copy would cost more than the call). */
const DIRECT = 64 * 1024;

/** One evidence file being written: buffered, hashed, synced and renamed into place by commit(). */
class EvidenceWriter {
  readonly hash = createHash("sha256");
  bytes = 0;
  /**
   * Bytes not yet written. Small chunks are copied in and large ones written as they are, so a caller may reuse its
   * buffer as soon as write() resolves (the timeline's merge does).
   */
  private block: Buffer | undefined;
  private pendingBytes = 0;

  private constructor(
    private fh: FileHandle | undefined,
    readonly dir: string,
    readonly name: string,
  ) {}

  get partialPath(): string {
    return join(this.dir, this.name + PARTIAL_SUFFIX);
  }

  static async create(dir: string, name: string): Promise<EvidenceWriter> {
    try {
      // "wx": never follow or replace something already there (a planted symlink, another call's file).
      const fh = await open(join(dir, name + PARTIAL_SUFFIX), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      return new EvidenceWriter(fh, dir, name);
    } catch (err) {
      throw new WriteError({ what: WHAT, folder: dir, err, redirect: REDIRECT });
    }
  }

  async write(chunk: string | Buffer): Promise<void> {
    const buf = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    this.hash.update(buf);
    this.bytes += buf.length;
    // A large chunk with nothing pending is written as it is (no copy); it is written before write() resolves.
    if (!this.pendingBytes && buf.length >= DIRECT) return this.writeOut(buf, buf.length);
    const block = (this.block ??= Buffer.allocUnsafe(BLOCK));
    for (let off = 0; off < buf.length; ) {
      const n = buf.copy(block, this.pendingBytes, off);
      off += n;
      this.pendingBytes += n;
      if (this.pendingBytes === BLOCK) await this.flush();
    }
  }

  private async flush(): Promise<void> {
    if (!this.pendingBytes) return;
    const n = this.pendingBytes;
    this.pendingBytes = 0;
    await this.writeOut(this.block!, n);
  }

  private async writeOut(buf: Buffer, length: number): Promise<void> {
    try {
      // write() may write less than asked (a disk filling up does that before it fails): loop until all is written.
      for (let off = 0; off < length; ) off += (await this.fh!.write(buf, off, length - off)).bytesWritten;
    } catch (err) {
      throw new WriteError({ what: WHAT, folder: this.dir, err, redirect: REDIRECT });
    }
  }

  /** Flushes, syncs (a full disk may only show here), closes and renames the file to its final name. */
  async commit(): Promise<string> {
    await this.flush();
    try {
      await this.fh!.sync();
      const fh = this.fh!;
      this.fh = undefined;
      await fh.close();
      const path = join(this.dir, this.name);
      await rename(this.partialPath, path);
      return path;
    } catch (err) {
      throw new WriteError({ what: WHAT, folder: this.dir, err, redirect: REDIRECT });
    }
  }

  /** Closes the descriptor and removes the partial file; returns its path when it could not be removed. */
  async discard(): Promise<string | undefined> {
    this.pendingBytes = 0;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
    return removeQuietly(this.partialPath) ? undefined : this.partialPath;
  }
}

/**
 * Runs `produce` with a writer for a new evidence file; commits it when `produce` resolves, discards it when
 * anything throws. A write error that left a file behind says so (details.partial_file).
 */
async function writeEvidence<T>(label: string, ext: string, dir: string, produce: (write: (chunk: string | Buffer) => Promise<void>) => Promise<T>): Promise<{ file: EvidenceFile; result: T }> {
  const w = await EvidenceWriter.create(dir, safeName(label, ext));
  try {
    const result = await produce((chunk) => w.write(chunk));
    const path = await w.commit();
    return { file: { path, name: w.name, uri: `megaraptor://evidence/${w.name}`, bytes: w.bytes, sha256: w.hash.digest("hex") }, result };
  } catch (err) {
    const leftover = await w.discard();
    if (err instanceof WriteError && leftover) throw new WriteError({ what: WHAT, folder: dir, err: err.cause, redirect: REDIRECT, leftover });
    throw err;
  }
}

/** Streams rows to a .jsonl file, hashing as it writes; memory does not grow with the row count. */
export async function spillRows(rows: AsyncIterable<Row>, label: string, dir?: string): Promise<EvidenceFile> {
  return spillLines(jsonLines(rows), label, "jsonl", dir);
}

async function* jsonLines(rows: AsyncIterable<Row>): AsyncGenerator<string> {
  for await (const row of rows) yield JSON.stringify(row) + "\n";
}

/**
 * Streams text records (each ending in its own newline) to an evidence file with the given extension. A failed
 * write stops the source (its iterator is closed, so a query behind it is cancelled).
 */
export async function spillLines(lines: AsyncIterable<string | Buffer>, label: string, ext: string, dir = evidenceDir()): Promise<EvidenceFile> {
  const { file, result: rows } = await writeEvidence(label, ext, dir, async (write) => {
    let n = 0;
    for await (const line of lines) {
      await write(line);
      n++;
    }
    return n;
  });
  return { ...file, rows };
}

/** Writes one text (a rendered report, an export) to an evidence file. */
export async function spillText(text: string, label: string, ext: string, dir = evidenceDir()): Promise<EvidenceFile> {
  const { file } = await writeEvidence(label, ext, dir, (write) => write(text));
  return { ...file, rows: 1 };
}

/** Writes chunks (from VFSGetBuffer) to a file with its SHA-256. */
export async function writeChunks(
  label: string,
  read: (onChunk: (chunk: Buffer) => Promise<void>) => Promise<{ bytes: number; truncated: boolean }>,
  dir = evidenceDir(),
): Promise<EvidenceFile> {
  const { file, result } = await writeEvidence(label, "bin", dir, (write) => read((chunk) => write(chunk)));
  return { ...file, bytes: result.bytes, truncated: result.truncated };
}

export interface EvidenceEntry {
  name: string;
  bytes: number;
  /** An interrupted write (or one in progress): incomplete, never hashed; safe to delete once no call runs. */
  partial: boolean;
}

/** Regular files in the evidence folder; symbolic links and anything else that is not a plain file are left out. */
export function listEvidence(dir = evidenceDir()): EvidenceEntry[] {
  if (!existsSync(dir)) return [];
  const out: EvidenceEntry[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith(".")) continue;
    const st = lstatSync(join(dir, name), { throwIfNoEntry: false });
    if (!st?.isFile()) continue;
    out.push({ name, bytes: st.size, partial: name.endsWith(PARTIAL_SUFFIX) });
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Resolves an evidence file name, refusing anything that is not a regular file inside the folder: path separators,
 * dot files, symbolic links (whether they point inside or out) and any path whose real location is elsewhere.
 */
export function evidencePath(name: string, dir = evidenceDir()): string {
  if (basename(name) !== name || name.startsWith(".") || name.includes("\0")) throw new InputError("file", "is not an evidence file name", "Use the name returned by the tool.");
  const p = join(dir, name);
  const st = lstatSync(p, { throwIfNoEntry: false });
  if (!st) throw new InputError("file", `${name} does not exist in the evidence folder`, "List files with the megaraptor://evidence resource.");
  if (!st.isFile()) throw new InputError("file", `${name} is not a regular file in the evidence folder (a link or a folder is never served)`, "Use a name the megaraptor://evidence listing shows.");
  const real = realpathSync(p);
  const root = realpathSync(dir);
  if (!real.startsWith(root + sep)) throw new InputError("file", `${name} resolves outside the evidence folder`, "Use a name the megaraptor://evidence listing shows.");
  return p;
}

export interface EvidenceRead {
  path: string;
  bytes: number;
  partial: boolean;
  /** The content, when at most maxInline bytes. */
  content?: Buffer;
}

/**
 * Reads an evidence file through one descriptor opened without following links, checked after opening (so a file
 * swapped for a link between the check and the read is refused too). Larger files are described, not read.
 */
export function readEvidence(name: string, maxInline: number, dir = evidenceDir()): EvidenceRead {
  const path = evidencePath(name, dir);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ELOOP") throw new InputError("file", `${name} is a link; links are never served`, "Use a name the megaraptor://evidence listing shows.");
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new InputError("file", `${name} is not a regular file`, "Use a name the megaraptor://evidence listing shows.");
    const partial = name.endsWith(PARTIAL_SUFFIX);
    if (st.size > maxInline) return { path, bytes: st.size, partial };
    const content = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, content, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return { path, bytes: st.size, partial, content: content.subarray(0, off) };
  } finally {
    closeSync(fd);
  }
}
