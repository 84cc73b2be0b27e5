/**
 * PDF reports through a locally installed Chromium (headless print of the standalone HTML). Optional: without a
 * browser the call says how to get one or to print the HTML instead; no PDF library is bundled.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, isAbsolute, join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { MegaraptorError } from "../../core/errors.js";

const run = promisify(execFile);

/**
 * Why an executable may not be trusted, or undefined when it may: its real path, and every folder above that, must be
 * owned by root or by the user running Megaraptor and writable by no one else — so a browser planted in a
 * world-writable folder on PATH (or reached through one) is never run with the evidence it prints. The same test
 * sudo's secure_path and OpenSSH's key-file checks make; the user's own folders stay allowed (that user could run
 * anything anyway).
 */
export function untrustedBecause(path: string, uid = process.getuid?.() ?? 0): string | undefined {
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return `${path} does not resolve`;
  }
  const st = statSync(real);
  if (!st.isFile() || !(st.mode & 0o111)) return `${real} is not an executable file`;
  for (let p = real; ; p = dirname(p)) {
    let s;
    try {
      s = statSync(p);
    } catch (err) {
      return `${p} cannot be checked (${(err as NodeJS.ErrnoException).code ?? "error"})`;
    }
    if (s.uid !== 0 && s.uid !== uid) return `${p} belongs to uid ${s.uid}, neither root nor this user`;
    // A sticky folder (/tmp) still lets anyone create files in it: no exception for it.
    if (s.mode & 0o022) return `${p} is writable by ${s.mode & 0o002 ? "everyone" : "its group"} (mode ${(s.mode & 0o777).toString(8)})`;
    if (p === dirname(p)) return undefined;
  }
}

export interface ChromiumLookup {
  path?: string;
  /** Candidates found but not trusted, each with the reason (for the error that says what to fix). */
  refused: string[];
}

/** The Chromium to run: MEGARAPTOR_CHROMIUM (absolute), else the first trusted chromium/chrome on PATH. */
export function lookupChromium(env: NodeJS.ProcessEnv = process.env): ChromiumLookup {
  const pinned = env.MEGARAPTOR_CHROMIUM;
  if (pinned) {
    if (!isAbsolute(pinned)) return { refused: [`MEGARAPTOR_CHROMIUM=${pinned} is not an absolute path`] };
    if (!existsSync(pinned)) return { refused: [`MEGARAPTOR_CHROMIUM=${pinned} does not exist`] };
    const why = untrustedBecause(pinned);
    return why ? { refused: [`MEGARAPTOR_CHROMIUM: ${why}`] } : { path: pinned, refused: [] };
  }
  const refused: string[] = [];
  const dirs = (env.PATH ?? "").split(delimiter).filter((d) => isAbsolute(d));
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"])
    for (const d of dirs) {
      const p = join(d, name);
      if (!existsSync(p)) continue;
      const why = untrustedBecause(p);
      if (!why) return { path: p, refused };
      refused.push(why);
    }
  return { refused };
}

/** The trusted Chromium, or undefined. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return lookupChromium(env).path;
}

export class PdfUnavailableError extends MegaraptorError {
  constructor(why: string) {
    super("PDF_UNAVAILABLE", `PDF report: ${why}`, { hint: "Install Chromium (apt-get install chromium) or set MEGARAPTOR_CHROMIUM to its absolute path in folders only root or you can write, or open the HTML report in a browser and print it to PDF." });
  }
}

/**
 * Prints an HTML file to PDF; the browser runs with a throwaway profile and no network use beyond the file, without
 * the sandbox (Megaraptor often runs as root in containers) and without /dev/shm (often 64 MB there).
 */
export async function htmlToPdf(htmlPath: string, pdfPath: string, browser: string | null | ChromiumLookup = lookupChromium()): Promise<void> {
  const found = typeof browser === "object" && browser !== null ? browser : { path: browser ?? undefined, refused: [] };
  if (!found.path) throw new PdfUnavailableError(found.refused.length ? `no trusted Chromium: ${found.refused.join("; ")}` : "no Chromium found on PATH");
  const exe = found.path;
  const profile = mkdtempSync(join(tmpdir(), "mr-pdf-"));
  try {
    await run(exe, ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", `--user-data-dir=${profile}`, "--no-pdf-header-footer", `--print-to-pdf=${pdfPath}`, pathToFileURL(htmlPath).href], { timeout: 120_000 });
  } catch (err) {
    throw new PdfUnavailableError(`Chromium failed: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  if (!existsSync(pdfPath) || statSync(pdfPath).size === 0) throw new PdfUnavailableError("Chromium wrote no PDF");
}
