/** The remediation artifacts Megaraptor ships: valid YAML, parseable VQL, and the parameters the tools send. */
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { REMEDIATION_ARTIFACTS } from "../../../dfir/response/artifacts.js";
import { parseVql } from "../../../velociraptor/vql/parser.js";
import { callSites } from "../../../velociraptor/vql/walk.js";

// Velociraptor's own split between plugins (FROM x()) and functions (x() in an expression), from its VQL reference;
// using one as the other is a runtime error the parser cannot see.
const PLUGINS = new Set(["scope", "stat", "pslist", "read_reg_key", "execve"]);
const FUNCTIONS = new Set(["if", "hash", "path_join", "format", "basename", "dict", "rm", "copy", "pskill", "getpid", "get", "read_file", "reg_rm_value", "reg_set_value", "parse_json"]);

describe("remediation artifacts", () => {
  it.each(Object.entries(REMEDIATION_ARTIFACTS))("%s is a client artifact whose VQL parses and which defaults to a dry run", (name, yaml) => {
    const def = parse(yaml) as { name: string; type: string; parameters: { name: string; default?: unknown }[]; sources: { query: string }[] };
    expect(def.name).toBe(name);
    expect(def.type).toBe("CLIENT");
    expect(def.parameters.find((p) => p.name === "DryRun")?.default).toBe("Y");
    for (const src of def.sources) {
      const parsed = parseVql(src.query);
      expect(parsed.errors).toEqual([]);
      for (const c of callSites(parsed.statements)) {
        if (c.kind === "plugin") expect(PLUGINS.has(c.name), `${name}: ${c.name} used as a plugin`).toBe(true);
        else expect(FUNCTIONS.has(c.name), `${name}: ${c.name} used as a function`).toBe(true);
      }
    }
  });

  it("declares every parameter the tools send", () => {
    const params = (n: string) => (parse(REMEDIATION_ARTIFACTS[n]!) as { parameters: { name: string }[] }).parameters.map((p) => p.name).sort();
    expect(params("Custom.Megaraptor.Remediation.File")).toEqual(["Action", "DryRun", "ExpectedSha256", "QuarantineDir", "QuarantinePath", "TargetPath"]);
    expect(params("Custom.Megaraptor.Remediation.Process")).toEqual(["DryRun", "ExpectedSha256", "NameRegex", "TargetPid"]);
    expect(params("Custom.Megaraptor.Remediation.Persistence")).toEqual(["Action", "DryRun", "Kind", "RestoreData", "Target", "ValueName"]);
  });
});
