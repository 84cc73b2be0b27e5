import { describe, expect, it } from "vitest";
import { stackRows } from "../../../dfir/results/stack.js";
import { generatedRows } from "../../../test-server/model.js";

describe("stackRows", () => {
  it("matches a direct count on a known distribution of 100,000 rows", async () => {
    const direct = new Map<string, number>();
    for (const r of generatedRows(100_000, 3)) direct.set(String(r.Name), (direct.get(String(r.Name)) ?? 0) + 1);
    const s = await stackRows(generatedRows(100_000, 3), { groupBy: ["Name"], timeField: "CreateTime" });
    expect(s.rowsScanned).toBe(100_000);
    expect(new Map(s.groups.map((g) => [String(g.key.Name), g.count]))).toEqual(direct);
    const counts = s.groups.map((g) => g.count);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(s.groups[0]!.first! <= s.groups[0]!.last!).toBe(true);
  });

  it("bounds memory with a group cap and reports the overflow", async () => {
    const s = await stackRows(generatedRows(10_000, 1), { groupBy: ["Pid"], maxGroups: 100 });
    expect(s.groupsTotal).toBe(100);
    expect(s.overflowRows).toBe(9_900);
    expect(s.overflowGroups).toBe(true);
  });

  // Nested columns as Velociraptor emits them: Windows.System.Services puts authenticode() of the service binary in
  // CertinfoServiceExe (artifacts/definitions/Windows/System/Services.yaml L106, Velocidex/velociraptor cd02ac663) and
  // Windows.Detection.BinaryHunter tests Authenticode.Trusted = "trusted" (BinaryHunter.yaml L137, L151).
  it("groups by a nested path (CertinfoServiceExe.Trusted), as correlate reads one", async () => {
    const svc = (Name: string, Trusted: string) => ({ Name, AbsoluteExePath: `C:\\x\\${Name}.exe`, CertinfoServiceExe: { Trusted, Subject: "CN=x" } });
    const rows = [svc("a", "trusted"), svc("b", "trusted"), svc("c", "untrusted"), svc("d", "trusted")];
    const s = await stackRows(rows, { groupBy: ["CertinfoServiceExe.Trusted"] });
    expect(s.groups.map((g) => [g.key["CertinfoServiceExe.Trusted"], g.count])).toEqual([
      ["untrusted", 1],
      ["trusted", 3],
    ]);
  });

  it("prefers a key that contains a dot as written over walking the path", async () => {
    const s = await stackRows([{ "a.b": 1, a: { b: 2 } }], { groupBy: ["a.b"] });
    expect(s.groups[0]!.key).toEqual({ "a.b": 1 });
  });
});
