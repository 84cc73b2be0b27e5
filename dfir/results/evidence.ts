/**
 * Evidence files: full results spilled to JSON Lines and files downloaded from the Velociraptor filestore, written
 * under the evidence folder with their SHA-256, never inlined into a model's context.
 */
import { createHash, randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { once } from "node:events";
import { basename, join, resolve } from "node:path";
import { InputError } from "../../core/errors.js";
import { megaraptorHome } from "../../core/paths.js";
import type { Row } from "../../velociraptor/client.js";

export function evidenceDir(env: NodeJS.ProcessEnv = process.env): string {
  const dir = resolve(env.MEGARAPTOR_EVIDENCE_DIR ?? join(megaraptorHome(), "evidence"));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
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

/** Streams rows to a .jsonl file, hashing as it writes; memory does not grow with the row count. */
export async function spillRows(rows: AsyncIterable<Row>, label: string, dir = evidenceDir()): Promise<EvidenceFile> {
  return spillLines(jsonLines(rows), label, "jsonl", dir);
}

async function* jsonLines(rows: AsyncIterable<Row>): AsyncGenerator<string> {
  for await (const row of rows) yield JSON.stringify(row) + "\n";
}

/** Streams text records (each ending in its own newline) to an evidence file with the given extension. */
export async function spillLines(lines: AsyncIterable<string>, label: string, ext: string, dir = evidenceDir()): Promise<EvidenceFile> {
  const name = safeName(label, ext);
  const path = join(dir, name);
  const out = createWriteStream(path, { mode: 0o600 });
  const hash = createHash("sha256");
  let bytes = 0;
  let n = 0;
  try {
    for await (const line of lines) {
      hash.update(line);
      bytes += Buffer.byteLength(line);
      n++;
      if (!out.write(line)) await once(out, "drain");
    }
  } finally {
    out.end();
    await once(out, "finish");
  }
  return { path, name, uri: `megaraptor://evidence/${name}`, bytes, sha256: hash.digest("hex"), rows: n };
}

/** Writes one text (a rendered report, an export) to an evidence file. */
export function spillText(text: string, label: string, ext: string, dir = evidenceDir()): Promise<EvidenceFile> {
  return spillLines((async function* () {
    yield text;
  })(), label, ext, dir);
}

/** Writes chunks (from VFSGetBuffer) to a file with its SHA-256. */
export async function writeChunks(
  label: string,
  read: (onChunk: (chunk: Buffer) => Promise<void>) => Promise<{ bytes: number; truncated: boolean }>,
  dir = evidenceDir(),
): Promise<EvidenceFile> {
  const name = safeName(label, "bin");
  const path = join(dir, name);
  const out = createWriteStream(path, { mode: 0o600 });
  const hash = createHash("sha256");
  const r = await read(async (chunk) => {
    hash.update(chunk);
    if (!out.write(chunk)) await once(out, "drain");
  });
  out.end();
  await once(out, "finish");
  return { path, name, uri: `megaraptor://evidence/${name}`, bytes: r.bytes, sha256: hash.digest("hex"), truncated: r.truncated };
}

export function listEvidence(dir = evidenceDir()): { name: string; bytes: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).map((name) => ({ name, bytes: statSync(join(dir, name)).size }));
}

/** Resolves an evidence file name, refusing anything that escapes the folder. */
export function evidencePath(name: string, dir = evidenceDir()): string {
  if (basename(name) !== name || name.startsWith(".")) throw new InputError("file", "is not an evidence file name", "Use the name returned by the tool.");
  const p = join(dir, name);
  if (!existsSync(p)) throw new InputError("file", `${name} does not exist in the evidence folder`, "List files with the megaraptor://evidence resource.");
  return p;
}
