/**
 * The only Velociraptor binary Megaraptor runs on this machine: one the operator configured by absolute path AND
 * pinned by SHA-256 (VELOCIRAPTOR_BINARY + VELOCIRAPTOR_BINARY_SHA256). Never a name looked up on PATH — whoever can
 * put a `velociraptor` on PATH would otherwise run code as the user — and never a path a tool call supplies.
 *
 * The pinned bytes are read once, hashed, and written to a private copy that is what runs, so the file cannot be
 * swapped between the check and the run.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, lstatSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { MegaraptorError } from "../../core/errors.js";

export class BinaryNotTrustedError extends MegaraptorError {
  constructor(message: string, hint: string) {
    super("BINARY_NOT_TRUSTED", message, { hint });
  }
}

const HOW = "Set VELOCIRAPTOR_BINARY to the absolute path of a Velociraptor release binary and VELOCIRAPTOR_BINARY_SHA256 to its SHA-256 (from the release's checksums).";

/** Whether the operator configured a binary at all (VELOCIRAPTOR_BINARY set). */
export function binaryConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return !!env.VELOCIRAPTOR_BINARY;
}

/**
 * The configured binary's bytes, refused (BINARY_NOT_TRUSTED) unless the path is absolute, names a regular file (not a
 * symlink), the pin is 64 hex characters and the bytes match it.
 */
export function trustedBinary(env: NodeJS.ProcessEnv = process.env): { path: string; sha256: string; bytes: Buffer } {
  const path = env.VELOCIRAPTOR_BINARY ?? "";
  const pin = (env.VELOCIRAPTOR_BINARY_SHA256 ?? "").trim().toLowerCase();
  if (!path) throw new BinaryNotTrustedError("VELOCIRAPTOR_BINARY is not set: no Velociraptor binary is configured.", HOW);
  if (!isAbsolute(path)) throw new BinaryNotTrustedError(`VELOCIRAPTOR_BINARY: "${path}" is not an absolute path; a name is never looked up on PATH.`, HOW);
  if (!/^[0-9a-f]{64}$/.test(pin)) throw new BinaryNotTrustedError("VELOCIRAPTOR_BINARY_SHA256: is not set to a SHA-256 (64 hex characters); an unpinned binary is never run.", HOW);
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    throw new BinaryNotTrustedError(`VELOCIRAPTOR_BINARY: ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"}).`, HOW);
  }
  if (!st.isFile()) throw new BinaryNotTrustedError(`VELOCIRAPTOR_BINARY: ${path} is not a regular file${st.isSymbolicLink() ? " (a symbolic link: give the real file)" : ""}.`, HOW);
  const bytes = readFileSync(path);
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  if (sha256 !== pin) throw new BinaryNotTrustedError(`VELOCIRAPTOR_BINARY: ${path} has SHA-256 ${sha256}, not the pinned ${pin}; it was not run.`, "Check that the file is the release you pinned (a replaced binary is exactly what the pin is for), then fix VELOCIRAPTOR_BINARY or VELOCIRAPTOR_BINARY_SHA256.");
  return { path, sha256, bytes };
}

/**
 * Runs the trusted binary's private copy (in `privateDir`, 0700, removed afterwards) with `args`; resolves to an error
 * message on failure, undefined on success.
 */
export async function runTrustedBinary(bin: { bytes: Buffer }, privateDir: string, args: string[], o: { timeoutMs: number; signal?: AbortSignal }): Promise<string | undefined> {
  const { execFile } = await import("node:child_process");
  const copy = join(privateDir, `.velociraptor-${randomBytes(6).toString("hex")}`);
  writeFileSync(copy, bin.bytes, { mode: 0o700, flag: "wx" });
  chmodSync(copy, 0o700);
  try {
    return await new Promise<string | undefined>((resolve) =>
      execFile(copy, args, { timeout: o.timeoutMs, signal: o.signal }, (err, _stdout, stderr) => resolve(err ? `${err.message.split("\n")[0]}${stderr ? `: ${String(stderr).trim().split("\n").slice(-2).join(" ")}` : ""}` : undefined)),
    );
  } finally {
    rmSync(copy, { force: true });
  }
}
