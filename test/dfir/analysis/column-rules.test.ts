/**
 * Every reader of Velociraptor rows — triage rules, timeline fields and messages, correlation keys, stacking
 * defaults — reads only columns, and compares only values, that the column catalogue records for the artifact it
 * reads. A rule written against a guessed column (`Status === "ESTABLISHED"`, `row.ImagePath`) fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { allowsValue, findColumn, resultColumns } from "../../../dfir/analysis/columns/catalogue.js";
import { READERS } from "../../../dfir/collection/triage/subjects.js";
import { readsOf } from "./reads.js";

type Labelled = { hosts: { results: Record<string, { row: Record<string, unknown> }[]> }[] };
const samples = (result: string) =>
  ["labelled-a.json", "labelled-b.json"].flatMap((f) =>
    (JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "fixtures", "triage", f), "utf8")) as Labelled).hosts.flatMap((h) => (h.results[result] ?? []).map((e) => e.row)),
  );

const unknownReads = (result: string, reads: Set<string>) => [...reads].filter((p) => !findColumn(result, p));

describe("triage readers", () => {
  it.each(READERS.map((r) => [r.result, r] as const))("%s reads only catalogued columns and values", (result, reader) => {
    expect(resultColumns(result), `${result} is not in the column catalogue`).toBeDefined();
    expect(unknownReads(result, readsOf((row) => reader.read(row), samples(result)))).toEqual([]);
    for (const v of reader.values) {
      const col = findColumn(result, v.column);
      expect(col, `${result} has no column ${v.column}`).toBeDefined();
      expect(allowsValue(col!, v.value), `${result}.${v.column} never holds "${v.value}"`).toBe(true);
    }
  });
});
