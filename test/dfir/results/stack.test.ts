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
});
