import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderToolsMarkdown, TOOLS_DOC } from "../../mcp/tools/docs.js";
import { TOOLS } from "../../mcp/tools/index.js";

describe("docs/tools.md", () => {
  it("is up to date with the tool declarations (run `npm run docs:tools` if this fails)", () => {
    expect(readFileSync(TOOLS_DOC, "utf8")).toBe(renderToolsMarkdown());
  });

  it("documents every registered tool", () => {
    const doc = readFileSync(TOOLS_DOC, "utf8");
    for (const t of TOOLS) expect(doc).toContain(`| \`${t.name}\` |`);
  });
});
