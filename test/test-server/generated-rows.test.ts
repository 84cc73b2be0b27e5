/**
 * Generated Linux.Sys.Pslist rows built as text (test-server/model.ts generatedRowJson, test-server/generated-batches.ts)
 * against JSON.stringify of the rows the row-by-row path builds: the same text for every row checked, every name and
 * seed, rows far from the start (a long Pid, a wrapped hash), and batches that are JSON.stringify of the row array.
 */
import { describe, expect, it } from "vitest";
import { generatedBatches } from "../../test-server/generated-batches.js";
import { GENERATED_COLUMNS, generatedRowJson, generatedRows } from "../../test-server/model.js";

describe("generated rows as text", () => {
  it.each([1, 7, 11, 12, 13, 14, -3])("row i of seed %i is JSON.stringify of generatedRows' row i (20,000 rows)", (seed) => {
    let i = 0;
    for (const row of generatedRows(20_000, seed)) {
      const text = generatedRowJson(i, seed);
      if (text !== JSON.stringify(row)) expect(text, `row ${i}`).toBe(JSON.stringify(row));
      i++;
    }
    expect(i).toBe(20_000);
  });

  it("holds for rows far from the start (Pid and CreateTime of row 10^9, products past 2^53)", () => {
    for (const start of [999_990, 3_400_000, 1_000_000_000]) {
      let i = start;
      for (const row of generatedRows(start + 10, 5, start)) expect(generatedRowJson(i++, 5)).toBe(JSON.stringify(row));
    }
  });

  it("grows its block for batches larger than 1 MiB", () => {
    const rows = [...generatedRows(5_000, 4)];
    const [b] = generatedBatches(5_000, 4, 0, Infinity, 5_000);
    expect(b!.json.length).toBeGreaterThan(1 << 20);
    expect(b!.json.equals(Buffer.from(JSON.stringify(rows)))).toBe(true);
  });

  it("names the columns generatedRows' rows have", () => {
    expect(GENERATED_COLUMNS).toEqual(Object.keys(generatedRows(2, 9, 1).next().value!));
  });

  it("cuts batches of max_row rows whose bytes are JSON.stringify of the batch's rows", () => {
    const rows = [...generatedRows(2_345, 3)];
    const sizes: number[] = [];
    let from = 100;
    // Each batch is checked before the next is asked for: its bytes are a view of a reused block.
    for (const b of generatedBatches(2_345, 3, 100, 1_000, 300)) {
      expect(b.json.equals(Buffer.from(JSON.stringify(rows.slice(from, from + b.rows))))).toBe(true);
      sizes.push(b.rows);
      from += b.rows;
    }
    expect(sizes).toEqual([300, 300, 300, 100]);
    expect([...generatedBatches(2_345, 3, 2_300, Infinity, 1_000)].map((b) => b.rows)).toEqual([45]);
    expect([...generatedBatches(2_345, 3, 5_000, Infinity, 1_000)]).toEqual([]);
    expect([...generatedBatches(2_345, 3, 0, 0, 1_000)]).toEqual([]);
  });
});
