/** Every VQL string the project sends, collected from the tool sources, must parse with the project's parser. */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseVql } from "../../../velociraptor/vql/index.js";

function projectQueries(): { file: string; vql: string }[] {
  const out: { file: string; vql: string }[] = [];
  for (const dir of ["mcp/tools", "mcp/server", "mcp/resources", "velociraptor", "dfir/results", "dfir/response"]) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".ts"))) {
      let src = readFileSync(join(dir, f), "utf8");
      // Expand the two composition patterns the tools use: a column-list constant and an optional WHERE of fixed fragments.
      const cols = /const CLIENT_COLUMNS =\s*"([^"]+)"/.exec(src)?.[1];
      if (cols) src = src.replaceAll("${CLIENT_COLUMNS}", cols);
      src = src.replace(/\$\{where\.length \? ` WHERE \$\{where\.join\(" AND "\)\}` : ""\}/g, " WHERE os_info.system = Os AND Label IN labels");
      // "…" and `…` literals that start a VQL statement; ${…} holes become a number or nothing.
      for (const m of src.matchAll(/(["`])((?:SELECT|LET) [^"`]*?)\1/g)) {
        const vql = m[2]!.replace(/\$\{[^}]*LIMIT[^}]*\}/g, "").replace(/\$\{[^}]*\}/g, (h) => (/limit|offset|\+ 1/.test(h) ? "10" : ""));
        out.push({ file: `${dir}/${f}`, vql });
      }
    }
  }
  return out;
}

describe("the project's own VQL", () => {
  const queries = projectQueries();
  it("finds the queries (more than 40)", () => {
    expect(queries.length).toBeGreaterThan(40);
  });
  it.each(queries.map((q) => [q.file, q.vql]))("%s: %s", (_file, vql) => {
    expect(parseVql(vql).errors).toEqual([]);
  });
});
