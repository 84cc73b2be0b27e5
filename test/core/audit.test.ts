import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { AuditLog, readAudit, verifyAuditFile } from "../../core/audit.js";
import { runWritersTogether } from "../helpers/writers.js";

const run = promisify(execFile);
// Keys and checkpoints go to a throw-away home, never the developer's ~/.megaraptor.
const home = mkdtempSync(join(tmpdir(), "mr-audit-home-"));
process.env.MEGARAPTOR_HOME = home;

async function sample(n = 4) {
  const path = join(mkdtempSync(join(tmpdir(), "mr-audit-")), "audit.jsonl");
  const log = new AuditLog(path);
  await Promise.all(Array.from({ length: n }, (_, j) => j + 1).map((i) => log.append({ tool: "label_client", principal: "alice", mode: "investigate", outcome: "ok", arguments: { i, password: "hunter2" }, case: i % 2 ? "CASE-1" : undefined })));
  return path;
}

const lines = (path: string) => readFileSync(path, "utf8").trimEnd().split("\n");
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** What an attacker without the key can do: re-chain every entry with recomputed plain SHA-256 hashes. */
function rechain(entries: Record<string, unknown>[]): string {
  let prev = "0".repeat(64);
  return (
    entries
      .map((e) => {
        const { hash: _h, mac, ...body } = e;
        body.prev = prev;
        const hash = sha256(JSON.stringify(body));
        prev = hash;
        return JSON.stringify(mac === undefined ? { ...body, hash } : { ...body, hash, mac });
      })
      .join("\n") + "\n"
  );
}

describe("audit log", () => {
  it("serialises concurrent appends into an intact chain and redacts secrets", async () => {
    const path = await sample();
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, entries: 4 });
    expect(readFileSync(path, "utf8")).not.toContain("hunter2");
    expect(readAudit(path, { case: "CASE-1" })).toHaveLength(2);
  });

  it("detects a removed line and a modified line, naming the line", async () => {
    const path = await sample();
    const l = lines(path);
    writeFileSync(`${path}.removed`, [l[0], l[2], l[3]].join("\n") + "\n");
    expect(verifyAuditFile(`${path}.removed`)).toMatchObject({ ok: false, badLine: 2 });
    writeFileSync(`${path}.edited`, [l[0], l[1], l[2]!.replace("alice", "mallory"), l[3]].join("\n") + "\n");
    expect(verifyAuditFile(`${path}.edited`)).toMatchObject({ ok: false, badLine: 3, reason: expect.stringMatching(/modified/) });
  });

  it("`megaraptor audit verify` exits 0 on an intact log and 1 on a tampered one", async () => {
    const path = await sample();
    const env = { ...process.env, MEGARAPTOR_HOME: home };
    const ok = await run(process.execPath, ["--import", "tsx", "cli/main.ts", "audit", "verify", "--file", path], { env });
    expect(ok.stdout).toMatch(/OK: 4 entries/);
    writeFileSync(path, readFileSync(path, "utf8").replace("label_client", "quarantine_client"));
    const bad = await run(process.execPath, ["--import", "tsx", "cli/main.ts", "audit", "verify", "--file", path], { env }).then(
      () => ({ code: 0, stdout: "" }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/TAMPERED: line 1/);
  });
});

describe("audit log: truncation and forgery", () => {
  it("detects dropping the newest entries", async () => {
    const path = await sample(5);
    writeFileSync(path, lines(path).slice(0, 3).join("\n") + "\n");
    expect(verifyAuditFile(path)).toMatchObject({ ok: false, entries: 3, reason: expect.stringMatching(/checkpoint records 5 entries/) });
  });

  it("detects an emptied file", async () => {
    const path = await sample(3);
    writeFileSync(path, "");
    expect(verifyAuditFile(path)).toMatchObject({ ok: false, entries: 0, reason: expect.stringMatching(/checkpoint records 3 entries/) });
  });

  it("detects an appended forged entry whose plain hashes are correct", async () => {
    const path = await sample(3);
    const entries = lines(path).map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = entries.at(-1)!;
    const forged: Record<string, unknown> = { ...last, time: new Date().toISOString(), tool: "quarantine_client", principal: "alice", summary: "quarantined via F.X" };
    if (typeof last.seq === "number") forged.seq = last.seq + 1;
    writeFileSync(path, rechain([...entries, forged]));
    expect(verifyAuditFile(path)).toMatchObject({ ok: false, badLine: 4 });
  });

  it("detects an edited entry whose hash chain was recomputed", async () => {
    const path = await sample(4);
    const entries = lines(path).map((l) => JSON.parse(l) as Record<string, unknown>);
    entries[1] = { ...entries[1], principal: "mallory" };
    writeFileSync(path, rechain(entries));
    expect(verifyAuditFile(path)).toMatchObject({ ok: false, badLine: 2, reason: expect.stringMatching(/MAC/) });
  });

  it("keeps its key outside the log, readable only by the owner", async () => {
    const path = await sample(1);
    const key = join(home, "keys", "audit.key");
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, "utf8")).not.toContain(readFileSync(key, "utf8").trim());
  });
});

describe("audit log: multi-process and failures", () => {
  it("two processes appending to one log at once leave one intact chain", { timeout: 60_000 }, async () => {
    const path = join(mkdtempSync(join(tmpdir(), "mr-audit-mp-")), "audit.jsonl");
    const env = { ...process.env, MEGARAPTOR_HOME: home };
    await runWritersTogether(2, ["audit", path, "150"], env);
    expect(verifyAuditFile(path)).toMatchObject({ ok: true, entries: 300 });
    expect(new Set(readAudit(path).map((e) => e.principal)).size).toBe(2);
  });

  it("an append that cannot be written (disk full) rejects with AUDIT_UNAVAILABLE", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-audit-full-"));
    const path = join(dir, "audit.jsonl");
    symlinkSync("/dev/full", path);
    const log = new AuditLog(path);
    await expect(log.append({ tool: "label_client", principal: "alice", mode: "investigate", outcome: "intent", arguments: {} })).rejects.toMatchObject({ code: "AUDIT_UNAVAILABLE" });
  });
});
