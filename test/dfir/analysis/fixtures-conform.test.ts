import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { artifactEntry } from "../../../dfir/analysis/columns/catalogue.js";
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

interface ServerFixture {
  artifacts: { name: string; parameters: { name: string }[]; sources: { name: string }[]; samples: Record<string, Record<string, Record<string, unknown>[]>> }[];
  orgs: { flows: { session_id: string; results: Record<string, unknown> }[]; hunts?: unknown[] }[];
}

describe.each(["default.json", "incident.json"])("test-server fixture %s", (file) => {
  const doc = JSON.parse(readFileSync(join(import.meta.dirname, "..", "..", "fixtures", file), "utf8")) as ServerFixture;

  it("serves sample and flow rows in the forms Velociraptor v0.77.2 emits", () => {
    const problems: string[] = [];
    for (const a of doc.artifacts)
      for (const [os, bySource] of Object.entries(a.samples))
        for (const [source, rows] of Object.entries(bySource)) rows.forEach((r, i) => problems.push(...checkRow(source ? `${a.name}/${source}` : a.name, r).map((p) => `${a.name} samples.${os}.${source || '""'}[${i}] ${p}`)));
    for (const o of doc.orgs)
      for (const f of o.flows)
        for (const [result, rows] of Object.entries(f.results))
          if (Array.isArray(rows)) rows.forEach((r, i) => problems.push(...checkRow(result, r as Record<string, unknown>).map((p) => `${f.session_id} ${result}[${i}] ${p}`)));
    expect(problems).toEqual([]);
  });

  it("declares the artifacts with their real source and parameter names", () => {
    const problems: string[] = [];
    for (const a of doc.artifacts) {
      const entry = artifactEntry(a.name);
      if (!entry) {
        problems.push(`${a.name}: not an artifact of Velociraptor v0.77.2 (dfir/analysis/columns)`);
        continue;
      }
      // A fixture may serve only some sources, but never one the artifact does not have.
      if (entry.coverage === "columns")
        for (const s of a.sources) if (!entry.sources.some((x) => x.name === s.name)) problems.push(`${a.name}: no source "${s.name}" (has ${entry.sources.map((x) => `"${x.name}"`).join(", ")})`);
      for (const p of a.parameters) if (!entry.parameters.includes(p.name)) problems.push(`${a.name}: no parameter ${p.name} (has ${entry.parameters.join(", ")})`);
    }
    expect(problems).toEqual([]);
  });
});
