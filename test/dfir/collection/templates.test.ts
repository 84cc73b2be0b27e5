/** Collection templates: the shipped ones validate; bad files are refused with file, line and field; user overrides. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { expandTemplate, loadTemplates, parseTemplate, TemplateError } from "../../../dfir/collection/templates.js";
import { ALL_KNOWN_ARTIFACTS } from "../../../mcp/prompts/known-artifacts.js";

const SCENARIOS = ["malware", "lateral-movement", "ransomware", "persistence", "credential-theft", "web-server-compromise", "insider-exfiltration", "linux-intrusion", "macos-intrusion", "quick-triage"];

function errorOf(text: string): TemplateError {
  try {
    parseTemplate(text, "/t/bad.yaml");
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error("accepted a bad template");
}

describe("shipped templates", () => {
  it("all validate and cover every scenario the issue names", () => {
    const all = loadTemplates({ userDir: "/nonexistent" });
    expect([...all.keys()].sort()).toEqual([...SCENARIOS].sort());
    for (const t of all.values()) expect(t.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(all.get("quick-triage")!.artifacts).sort()).toEqual(["darwin", "linux", "windows"]);
  });

  it("name only real built-in artifacts (checked against Velociraptor's artifact definitions)", () => {
    for (const t of loadTemplates({ userDir: "/nonexistent" }).values())
      for (const list of Object.values(t.artifacts)) for (const a of list ?? []) expect(ALL_KNOWN_ARTIFACTS.has(a.artifact), `${t.name}: ${a.artifact}`).toBe(true);
  });

  it("expands parameters into artifact parameter values and refuses unknown ones by name", () => {
    const t = loadTemplates({ userDir: "/nonexistent" }).get("web-server-compromise")!;
    expect(expandTemplate(t, "linux").spec["Linux.Search.FileFinder"]).toEqual({ SearchFilesGlob: "/var/www/**" });
    expect(expandTemplate(t, "linux", { WebRoot: "/srv/site/**" }).spec["Linux.Search.FileFinder"]).toEqual({ SearchFilesGlob: "/srv/site/**" });
    expect(() => expandTemplate(t, "linux", { Webroot: "x" })).toThrow(expect.objectContaining({ message: expect.stringMatching(/^template_parameters.Webroot: /), hint: "Its parameters: WebRoot." }));
    expect(() => expandTemplate(t, "darwin")).toThrow(/no artifacts for darwin/);
  });
});

describe("bad templates", () => {
  const good = "name: my-case\nversion: 1.0.0\ntitle: T\ndescription: D\nartifacts:\n  windows:\n    - artifact: Windows.System.Pslist\n";

  it("accepts a minimal good template", () => {
    expect(parseTemplate(good, "/t/good.yaml").artifacts.windows![0]!.artifact).toBe("Windows.System.Pslist");
  });

  it("names file, line and field for a wrong value", () => {
    const e = errorOf(good.replace("version: 1.0.0", "version: one"));
    expect(e.message).toBe("/t/bad.yaml:2: version: semantic version such as 1.0.0");
  });

  it("points at the artifact entry with an unknown key", () => {
    const e = errorOf(`${good}      paramters: { a: b }\n`);
    expect(e.file).toBe("/t/bad.yaml");
    expect(e.line).toBe(7);
    expect(e.field).toBe("artifacts.windows.0");
    expect(e.message).toMatch(/paramters/);
  });

  it("reports YAML syntax errors with their line", () => {
    const e = errorOf("name: x\nversion: [1.0.0\n");
    expect(e.field).toBe("(yaml)");
    expect(e.line).toBeGreaterThanOrEqual(2);
  });

  it("refuses {{Params}} that are not declared", () => {
    const e = errorOf(`${good}      parameters: { ProcessRegex: "{{Name}}" }\n`);
    expect(e.message).toMatch(/artifacts.windows.0.parameters.ProcessRegex: uses \{\{Name\}\}/);
  });

  it("lets a user template replace a built-in and add new ones; one bad user file fails loudly", () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-tpl-"));
    writeFileSync(join(dir, "malware.yaml"), good.replace("my-case", "malware").replace("1.0.0", "2.0.0"));
    writeFileSync(join(dir, "mine.yml"), good);
    const all = loadTemplates({ userDir: dir });
    expect(all.get("malware")!.version).toBe("2.0.0");
    expect(all.get("my-case")!.source).toBe(join(dir, "mine.yml"));
    writeFileSync(join(dir, "zz-bad.yaml"), "name: Bad Name\n");
    expect(() => loadTemplates({ userDir: dir })).toThrow(/zz-bad.yaml:1: name/);
  });
});
