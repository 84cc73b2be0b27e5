/**
 * docs/safety.md maps every safety claim of the README to the tests that attack it. This keeps the map true: every
 * file it names exists, every test title it names is written in that file, every claim has at least one test, and
 * no claim number is used twice. A renamed or deleted attack test fails here until the map is updated.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { packageRoot } from "../../core/paths.js";

const root = packageRoot();
const map = readFileSync(join(root, "docs", "safety.md"), "utf8");
/** The table rows: | n | claim | tests |. */
const rows = map.split("\n").filter((l) => /^\| \d+ \|/.test(l)).map((l) => {
  const [, n, claim, tests] = /^\| (\d+) \| (.*?) \| (.*) \|$/.exec(l) ?? [];
  return { n: Number(n), claim: claim ?? "", tests: tests ?? "" };
});
/** `file` › "title" references in a row. */
const refs = (cell: string) => [...cell.matchAll(/`(test\/[^`]+\.ts)` › "((?:[^"\\]|\\.)+)"/g)].map((m) => ({ file: m[1]!, title: m[2]! }));

describe("docs/safety.md, the claim → attack-test map", () => {
  it("has claims, numbered once each", () => {
    expect(rows.length).toBeGreaterThanOrEqual(20);
    expect(new Set(rows.map((r) => r.n)).size).toBe(rows.length);
  });

  it.each(rows.map((r) => [r.n, r] as const))("claim %i names at least one test, and every one exists in its file", (_n, row) => {
    const named = refs(row.tests);
    expect(named.length, row.claim).toBeGreaterThan(0);
    // Every backticked test file in the cell is inside a reference (none written in another form and so unchecked).
    expect((row.tests.match(/`test\//g) ?? []).length).toBe(named.length);
    for (const { file, title } of named) {
      const path = join(root, file);
      expect(existsSync(path), `${file} (claim ${row.n})`).toBe(true);
      const source = readFileSync(path, "utf8");
      expect(source.includes(JSON.stringify(title)) || source.includes(`\`${title}\``) || source.includes(`"${title}"`), `${file} › "${title}" (claim ${row.n})`).toBe(true);
    }
  });
});
