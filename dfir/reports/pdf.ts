/**
 * PDF reports through a locally installed Chromium (headless print of the standalone HTML). Optional: without a
 * browser the call says how to get one or to print the HTML instead; no PDF library is bundled.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { MegaraptorError } from "../../core/errors.js";

const run = promisify(execFile);

/** Chromium on PATH (or MEGARAPTOR_CHROMIUM), or undefined. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.MEGARAPTOR_CHROMIUM) return existsSync(env.MEGARAPTOR_CHROMIUM) ? env.MEGARAPTOR_CHROMIUM : undefined;
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  for (const name of ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]) {
    const hit = dirs.map((d) => join(d, name)).find((p) => existsSync(p));
    if (hit) return hit;
  }
  return undefined;
}

export class PdfUnavailableError extends MegaraptorError {
  constructor(why: string) {
    super("PDF_UNAVAILABLE", `PDF report: ${why}`, { hint: "Install Chromium (apt-get install chromium) or set MEGARAPTOR_CHROMIUM, or open the HTML report in a browser and print it to PDF." });
  }
}

/**
 * Prints an HTML file to PDF; the browser runs with a throwaway profile and no network use beyond the file, without
 * the sandbox (Megaraptor often runs as root in containers) and without /dev/shm (often 64 MB there).
 */
export async function htmlToPdf(htmlPath: string, pdfPath: string, browser: string | null = findChromium() ?? null): Promise<void> {
  if (!browser) throw new PdfUnavailableError("no Chromium found on PATH");
  const profile = mkdtempSync(join(tmpdir(), "mr-pdf-"));
  try {
    await run(browser, ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", `--user-data-dir=${profile}`, "--no-pdf-header-footer", `--print-to-pdf=${pdfPath}`, pathToFileURL(htmlPath).href], { timeout: 120_000 });
  } catch (err) {
    throw new PdfUnavailableError(`Chromium failed: ${(err as Error).message.split("\n")[0]}`);
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
  if (!existsSync(pdfPath) || statSync(pdfPath).size === 0) throw new PdfUnavailableError("Chromium wrote no PDF");
}
