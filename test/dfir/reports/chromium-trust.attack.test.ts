/**
 * PDF reports run a browser over evidence: which browser runs must not be up to whoever can drop a file on PATH.
 * A chromium planted in a folder others can write (here /tmp's children, mode 1777 above them), reached through a
 * symlink, or named by a relative MEGARAPTOR_CHROMIUM is refused, and the error says which check failed and how to
 * fix it; one in folders only root or this user can write is used.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { htmlToPdf, lookupChromium, untrustedBecause } from "../../../dfir/reports/pdf.js";

const MARK = join(mkdtempSync(join(tmpdir(), "mr-chromium-mark-")), "ran");
const FAKE = `#!/bin/sh\ntouch ${MARK}\n`;

function planted(dir: string, mode = 0o755): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, "chromium");
  writeFileSync(p, FAKE);
  chmodSync(p, mode);
  return p;
}

// A folder chain only this user can write: under the home folder (tests run where $HOME is the user's own).
const own = mkdtempSync(join(homedir(), ".mr-chromium-own-"));
chmodSync(own, 0o755);
afterAll(() => rmSync(own, { recursive: true, force: true }));
const OWN_BIN = planted(join(own, "bin"));
// Where $HOME itself sits in a folder others can write, no folder of this user's is trustworthy: say so and skip.
const HOME_UNTRUSTED = untrustedBecause(OWN_BIN);
if (HOME_UNTRUSTED) console.warn(`skipping the Chromium trust cases that need a folder only this user can write: ${HOME_UNTRUSTED}`);
const ownIt = it.skipIf(!!HOME_UNTRUSTED);

describe("which Chromium runs", () => {
  it("refuses one planted in a world-writable folder on PATH, and the PDF call says why without running it", async () => {
    const open = mkdtempSync(join(tmpdir(), "mr-chromium-open-"));
    chmodSync(open, 0o777);
    planted(open);
    const found = lookupChromium({ PATH: open });
    expect(found.path).toBeUndefined();
    expect(found.refused[0]).toMatch(/writable by everyone \(mode 777\)/);
    await expect(htmlToPdf("/nonexistent.html", join(open, "x.pdf"), found)).rejects.toThrow(/PDF report: no trusted Chromium: .*writable by everyone/);
    expect(existsSync(MARK)).toBe(false);
  });

  it("refuses one under /tmp even in a 0755 folder of its own (anyone could have created that folder)", () => {
    const sub = mkdtempSync(join(tmpdir(), "mr-chromium-sub-"));
    chmodSync(sub, 0o755);
    const p = planted(join(sub, "bin"));
    expect(untrustedBecause(p)).toMatch(/^\/tmp is writable by everyone/);
  });

  ownIt("refuses a trusted-looking PATH entry that is a symlink into a writable folder", () => {
    const open = mkdtempSync(join(tmpdir(), "mr-chromium-link-"));
    chmodSync(open, 0o777);
    const target = planted(open);
    const bin = join(own, "bin-link");
    mkdirSync(bin);
    symlinkSync(target, join(bin, "chromium"));
    const found = lookupChromium({ PATH: bin });
    expect(found.path).toBeUndefined();
    expect(found.refused[0]).toMatch(/writable by everyone/);
  });

  ownIt("refuses a group-writable browser file and a relative MEGARAPTOR_CHROMIUM", () => {
    const p = planted(join(own, "gw"), 0o775);
    expect(untrustedBecause(p)).toMatch(/writable by its group/);
    expect(lookupChromium({ MEGARAPTOR_CHROMIUM: "chromium", PATH: "" }).refused[0]).toMatch(/not an absolute path/);
  });

  ownIt("uses one in folders only root or this user can write, from PATH or MEGARAPTOR_CHROMIUM", () => {
    expect(lookupChromium({ PATH: join(own, "bin") })).toEqual({ path: OWN_BIN, refused: [] });
    expect(lookupChromium({ MEGARAPTOR_CHROMIUM: OWN_BIN, PATH: "" })).toEqual({ path: OWN_BIN, refused: [] });
  });
});
