import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { AuditLog, readAudit, verifyAuditFile } from "../../core/audit.js";

const run = promisify(execFile);

async function sample() {
  const path = join(mkdtempSync(join(tmpdir(), "mr-audit-")), "audit.jsonl");
  const log = new AuditLog(path);
  await Promise.all([1, 2, 3, 4].map((i) => log.append({ tool: "label_client", principal: "alice", mode: "investigate", outcome: "ok", arguments: { i, password: "hunter2" }, case: i % 2 ? "CASE-1" : undefined })));
  return path;
}

describe("audit log", () => {
  it("serialises concurrent appends into an intact chain and redacts secrets", async () => {
    const path = await sample();
    expect(verifyAuditFile(path)).toEqual({ ok: true, entries: 4 });
    expect(readFileSync(path, "utf8")).not.toContain("hunter2");
    expect(readAudit(path, { case: "CASE-1" })).toHaveLength(2);
  });

  it("detects a removed line and a modified line, naming the line", async () => {
    const path = await sample();
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    writeFileSync(`${path}.removed`, [lines[0], lines[2], lines[3]].join("\n") + "\n");
    expect(verifyAuditFile(`${path}.removed`)).toMatchObject({ ok: false, badLine: 2 });
    writeFileSync(`${path}.edited`, [lines[0], lines[1], lines[2]!.replace("alice", "mallory"), lines[3]].join("\n") + "\n");
    expect(verifyAuditFile(`${path}.edited`)).toMatchObject({ ok: false, badLine: 3, reason: expect.stringMatching(/modified/) });
  });

  it("`megaraptor audit verify` exits 0 on an intact log and 1 on a tampered one", async () => {
    const path = await sample();
    const ok = await run(process.execPath, ["--import", "tsx", "cli/main.ts", "audit", "verify", "--file", path]);
    expect(ok.stdout).toMatch(/OK: 4 entries/);
    writeFileSync(path, readFileSync(path, "utf8").replace("label_client", "quarantine_client"));
    const bad = await run(process.execPath, ["--import", "tsx", "cli/main.ts", "audit", "verify", "--file", path]).then(
      () => ({ code: 0, stdout: "" }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/TAMPERED: line 1/);
  });
});
