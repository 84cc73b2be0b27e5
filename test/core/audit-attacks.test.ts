/**
 * The README's audit claims that test/core/audit.test.ts does not attack yet, as classes: reordering and inserting
 * entries, deleting the log, deleting / editing / swapping its checkpoint, a missing key and a key from elsewhere —
 * each must fail `verifyAuditFile` (what `megaraptor audit verify` runs). And the limit the README states: a copy
 * checked on its own has no checkpoint, and is reported as such.
 */
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { AuditLog, verifyAuditFile } from "../../core/audit.js";
import { IntegrityKeys } from "../../core/integrity.js";

// Keys and checkpoints go to a throw-away home, never the developer's ~/.megaraptor.
const home = mkdtempSync(join(tmpdir(), "mr-audit-attacks-"));
process.env.MEGARAPTOR_HOME = home;
const keysDir = join(home, "keys");

async function sample(n = 4) {
  const path = join(mkdtempSync(join(tmpdir(), "mr-audit-atk-")), "audit.jsonl");
  const log = new AuditLog(path);
  for (let i = 1; i <= n; i++) await log.append({ tool: "label_client", principal: "alice", mode: "investigate", outcome: "ok", arguments: { i } });
  return path;
}
const lines = (path: string) => readFileSync(path, "utf8").trimEnd().split("\n");
/** Where the checkpoint of `log` lives (core/integrity.ts: keys/heads/<sha256(path)[:32]>.json). */
const checkpointOf = (log: string) => join(keysDir, "heads", `${createHash("sha256").update(resolve(log)).digest("hex").slice(0, 32)}.json`);

describe("entries moved around", () => {
  it.each([
    ["two entries swapped", (l: string[]) => [l[0], l[2], l[1], l[3]]],
    ["the first entry moved last", (l: string[]) => [l[1], l[2], l[3], l[0]]],
    ["an entry duplicated (inserted again)", (l: string[]) => [l[0], l[1], l[1], l[2], l[3]]],
    ["an entry of another log inserted", (l: string[], other: string[]) => [l[0], other[1], l[1], l[2], l[3]]],
  ])("detects %s", async (_what, edit) => {
    const path = await sample(4);
    const other = lines(await sample(4));
    writeFileSync(path, edit(lines(path), other).join("\n") + "\n");
    expect(verifyAuditFile(path).ok).toBe(false);
  });
});

describe("the log or its checkpoint removed or replaced", () => {
  it("detects a deleted log (its checkpoint still records the entries)", async () => {
    const path = await sample(3);
    rmSync(path);
    expect(verifyAuditFile(path)).toMatchObject({ ok: false, reason: expect.stringMatching(/checkpoint records 3 entries/) });
  });

  it("detects a deleted checkpoint", async () => {
    const path = await sample(3);
    rmSync(checkpointOf(path));
    expect(verifyAuditFile(path).ok).toBe(false);
  });

  it("detects an edited checkpoint (count lowered to hide dropped entries)", async () => {
    const path = await sample(4);
    const cp = JSON.parse(readFileSync(checkpointOf(path), "utf8")) as { count: number; head: string };
    const l = lines(path);
    writeFileSync(path, l.slice(0, 2).join("\n") + "\n");
    writeFileSync(checkpointOf(path), JSON.stringify({ ...cp, count: 2, head: (JSON.parse(l[1]!) as { hash: string }).hash }));
    expect(verifyAuditFile(path)).toMatchObject({ ok: false, reason: expect.stringMatching(/MAC/) });
  });

  it("detects another log's valid checkpoint copied over this one's", async () => {
    const a = await sample(2);
    const b = await sample(2);
    copyFileSync(checkpointOf(b), checkpointOf(a));
    expect(verifyAuditFile(a).ok).toBe(false);
  });
});

describe("the key", () => {
  it("a missing key: nothing can be verified, and verify says so (never 'intact')", async () => {
    const path = await sample(2);
    const key = join(keysDir, "audit.key");
    renameSync(key, `${key}.moved`);
    try {
      const r = verifyAuditFile(path, new IntegrityKeys(keysDir));
      expect(r.ok).toBe(false);
      expect(r.reason).toMatch(/key/);
    } finally {
      renameSync(`${key}.moved`, key);
    }
  });

  it("a log checked with another key (a forger's own) fails on the first entry", async () => {
    const path = await sample(2);
    const foreign = mkdtempSync(join(tmpdir(), "mr-foreign-keys-"));
    writeFileSync(join(foreign, "audit.key"), "ab".repeat(32) + "\n", { mode: 0o600 });
    expect(verifyAuditFile(path, new IntegrityKeys(foreign))).toMatchObject({ ok: false, badLine: 1 });
  });
});

describe("what the README says is not detected, stated as it is", () => {
  it("a copy checked on its own has no checkpoint, and the result says so", async () => {
    const path = await sample(3);
    const copy = join(mkdtempSync(join(tmpdir(), "mr-audit-copy-")), "copy.jsonl");
    copyFileSync(path, copy);
    const r = verifyAuditFile(copy);
    expect(JSON.stringify(r)).toMatch(/checkpoint/i);
  });
});
