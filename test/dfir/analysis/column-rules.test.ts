/**
 * Every reader of Velociraptor rows — triage rules, timeline fields and messages, correlation keys, stacking
 * defaults — reads only columns, and compares only values, that the column catalogue records for the artifact it
 * reads. A rule written against a guessed column (`Status === "ESTABLISHED"`, `row.ImagePath`) fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CATALOGUE, allowsValue, artifactEntry, findColumn, resultColumns } from "../../../dfir/analysis/columns/catalogue.js";
import { HUNT_COLUMNS } from "../../../dfir/analysis/columns/conform.js";
import { HASH_COLUMNS, PROCESS_RESULTS, REMOTE_COLUMNS } from "../../../dfir/analysis/correlate.js";
import { SOCKET_COLUMNS } from "../../../dfir/analysis/fields.js";
import { KNOWN } from "../../../dfir/analysis/timeline/timestamps.js";
import { loadTemplates } from "../../../dfir/collection/templates.js";
import { READERS } from "../../../dfir/collection/triage/subjects.js";
import { CLIENT_FIELDS } from "../../../dfir/results/stack.js";
import { KNOWN_ARTIFACTS } from "../../../mcp/prompts/known-artifacts.js";
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

describe("timeline fields and messages", () => {
  it.each(Object.entries(KNOWN))("%s: its time fields and message columns are the artifact's own", (result, known) => {
    expect(resultColumns(result), `${result} is not a result the catalogue records (name Artifact/Source for named sources)`).toBeDefined();
    for (const f of known.fields) expect(findColumn(result, f.field), `${result} has no time column ${f.field}`).toBeDefined();
    for (const f of known.fields) expect(["timestamp", "timestamps", "string", "any"], `${result}.${f.field} holds no time`).toContain(findColumn(result, f.field)!.type);
    expect(unknownReads(result, readsOf((row) => known.message(row), samples(result)))).toEqual([]);
  });
});

describe("correlation keys", () => {
  it("read hashes, remote addresses and sockets from each result's real columns", () => {
    const missing = [
      ...Object.entries(HASH_COLUMNS).filter(([r, c]) => !findColumn(r, c)),
      ...Object.entries(REMOTE_COLUMNS).filter(([r, c]) => !findColumn(r, c)),
      ...Object.entries(SOCKET_COLUMNS).flatMap(([r, c]) => Object.values(c).filter((col) => !findColumn(r, col)).map((col) => [r, col])),
      ...[...PROCESS_RESULTS].flatMap((r) => ["Pid", "Ppid", "Name"].filter((col) => !findColumn(r, col)).map((col) => [r, col])),
    ];
    expect(missing).toEqual([]);
  });
});

describe("stacking defaults", () => {
  it("find the client in the column Velociraptor adds to hunt rows", () => {
    for (const c of CLIENT_FIELDS) expect(HUNT_COLUMNS.has(c), c).toBe(true);
  });
});

describe("artifact names the project recommends", () => {
  const absent = new Set(CATALOGUE.absent.map((a) => a.name));

  it("templates name real artifacts and set only parameters their definitions declare", () => {
    const problems: string[] = [];
    for (const t of loadTemplates({ userDir: "/nonexistent" }).values())
      for (const list of Object.values(t.artifacts))
        for (const a of list ?? []) {
          const entry = artifactEntry(a.artifact);
          if (!entry) problems.push(`${t.name}: ${a.artifact} is not an artifact at Velociraptor v0.77.2`);
          else for (const p of Object.keys(a.parameters)) if (!entry.parameters.includes(p)) problems.push(`${t.name}: ${a.artifact} has no parameter ${p} (it has ${entry.parameters.join(", ")})`);
        }
    expect(problems).toEqual([]);
  });

  it("the known-artifact list holds catalogued artifacts, or names recorded as absent with the reason", () => {
    const unknown = Object.values(KNOWN_ARTIFACTS)
      .flat()
      .filter((n) => !artifactEntry(n) && !absent.has(n));
    expect(unknown).toEqual([]);
  });
});
