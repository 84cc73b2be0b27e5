/** The remediation artifacts Megaraptor ships: valid YAML, parseable VQL, and the parameters the tools send. */
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { REMEDIATION_ARTIFACTS } from "../../mcp/response/artifacts.js";
import { parseVql } from "../../mcp/vql/parser.js";

describe("remediation artifacts", () => {
  it.each(Object.entries(REMEDIATION_ARTIFACTS))("%s is a client artifact whose VQL parses and which defaults to a dry run", (name, yaml) => {
    const def = parse(yaml) as { name: string; type: string; parameters: { name: string; default?: unknown }[]; sources: { query: string }[] };
    expect(def.name).toBe(name);
    expect(def.type).toBe("CLIENT");
    expect(def.parameters.find((p) => p.name === "DryRun")?.default).toBe("Y");
    for (const s of def.sources) expect(() => parseVql(s.query)).not.toThrow();
  });

  it("declares every parameter the tools send", () => {
    const params = (n: string) => (parse(REMEDIATION_ARTIFACTS[n]!) as { parameters: { name: string }[] }).parameters.map((p) => p.name).sort();
    expect(params("Custom.Megaraptor.Remediation.File")).toEqual(["Action", "DryRun", "ExpectedSha256", "QuarantineDir", "QuarantinePath", "TargetPath"]);
    expect(params("Custom.Megaraptor.Remediation.Process")).toEqual(["DryRun", "ExpectedSha256", "NameRegex", "TargetPid"]);
    expect(params("Custom.Megaraptor.Remediation.Persistence")).toEqual(["Action", "DryRun", "Kind", "RestoreData", "Target", "ValueName"]);
  });
});
