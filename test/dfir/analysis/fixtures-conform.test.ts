import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { checkRow } from "../../../dfir/analysis/columns/conform.js";

const dir = join(import.meta.dirname, "..", "..", "fixtures", "triage");

interface Labelled {
  sources: Record<string, string>;
  hosts: { hostname: string; results: Record<string, { label: string; why: string; row: Record<string, unknown> }[]> }[];
}

describe.each(["labelled-a.json", "labelled-b.json"])("labelled triage fixture %s", (file) => {
  const doc = JSON.parse(readFileSync(join(dir, file), "utf8")) as Labelled;

  it("holds every row in the complete column form Velociraptor v0.77.2 emits", () => {
    const problems = doc.hosts.flatMap((h) => Object.entries(h.results).flatMap(([result, rows]) => rows.flatMap((e, i) => checkRow(result, e.row, { complete: true }).map((p) => `${h.hostname} ${result}[${i}] ${p}`))));
    expect(problems).toEqual([]);
  });

  it("labels every row and names the source of every result", () => {
    for (const h of doc.hosts)
      for (const [result, rows] of Object.entries(h.results)) {
        expect(doc.sources[result], result).toBeTruthy();
        for (const e of rows) expect(["malicious", "benign"]).toContain(e.label);
        for (const e of rows.filter((x) => x.label === "malicious")) expect(e.why, JSON.stringify(e.row).slice(0, 80)).not.toBe("");
      }
  });
});
