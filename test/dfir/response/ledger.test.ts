/** The change ledger: hash chain, sequence, tamper detection, rollback status. */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ChangeLedger, type NewEntry } from "../../../dfir/response/ledger.js";

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
