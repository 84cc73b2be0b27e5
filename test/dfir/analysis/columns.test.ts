import { describe, expect, it } from "vitest";
import { CATALOGUE, allowsValue, artifactEntry, catalogueResults, findColumn, resultColumns } from "../../../dfir/analysis/columns/catalogue.js";

describe("column catalogue", () => {
  it("names each artifact once and records the columns of every source it covers", () => {
    const names = CATALOGUE.artifacts.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    for (const a of CATALOGUE.artifacts.filter((x) => x.coverage === "columns"))
      for (const s of a.sources) expect(s.columns.length, `${a.name}/${s.name}`).toBeGreaterThan(0);
  });

  it("compiles every value pattern", () => {
    const walk = (cols: NonNullable<ReturnType<typeof resultColumns>>): void => {
      for (const c of cols) {
        for (const p of c.patterns ?? []) expect(() => new RegExp(p), `${c.name}: ${p}`).not.toThrow();
        if (c.fields) walk(c.fields);
      }
    };
    for (const r of catalogueResults()) walk(resultColumns(r)!);
  });

  it("finds dotted column names before nested fields", () => {
    expect(findColumn("Windows.Network.Netstat", "Laddr.IP")?.type).toBe("string");
    expect(findColumn("Windows.System.Pslist", "Authenticode.Trusted")?.values).toContain("trusted");
    expect(findColumn("Windows.System.Services", "CertinfoServiceExe.Trusted")).toBeDefined();
    expect(findColumn("Windows.Network.Netstat", "Laddr")).toBeUndefined();
  });

  it("knows netstat writes ESTAB, not ESTABLISHED, and Linux netstat has no Status", () => {
    const status = findColumn("Windows.Network.Netstat", "Status")!;
    expect(allowsValue(status, "ESTAB")).toBe(true);
    expect(allowsValue(status, "ESTABLISHED")).toBe(false);
    expect(findColumn("Linux.Network.Netstat/TCP4", "Status")).toBeUndefined();
    expect(allowsValue(findColumn("Linux.Network.Netstat/TCP4", "State")!, "Established")).toBe(true);
  });

  it("accepts authenticode's open forms by pattern", () => {
    const trusted = findColumn("Windows.System.Pslist", "Authenticode.Trusted")!;
    expect(allowsValue(trusted, "untrusted (The system cannot find the file specified.)")).toBe(true);
    expect(allowsValue(trusted, "TRUST_E_ACTION_UNKNOWN 0x800b0101")).toBe(true);
    expect(allowsValue(trusted, "signed")).toBe(false);
  });

  it("resolves results of named sources and the macOS alias of Linux.Sys.Pslist", () => {
    expect(resultColumns("Windows.System.TaskScheduler")).toBeUndefined();
    expect(resultColumns("Windows.System.TaskScheduler/Analysis")?.map((c) => c.name)).toContain("RegistrationTime");
    expect(artifactEntry("MacOS.Sys.Pslist")?.name).toBe("Linux.Sys.Pslist");
  });
});
