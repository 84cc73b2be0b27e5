import { describe, expect, it } from "vitest";
import { checkEnv, vqlQuery } from "../../velociraptor/query.js";

describe("vqlQuery", () => {
  it("keeps values out of the VQL text and in env", () => {
    const q = vqlQuery("SELECT * FROM clients(search=SearchTerm) LIMIT Max", { SearchTerm: "host:web'01", Max: 5 });
    expect(q.vql).toBe("SELECT * FROM clients(search=SearchTerm) LIMIT Max");
    expect(q.env).toEqual({ SearchTerm: "host:web'01", Max: "5" });
  });

  it("encodes objects as JSON for parse_json and refuses bare arrays", () => {
    expect(vqlQuery("SELECT parse_json(data=Spec) FROM scope()", { Spec: { A: { B: 1 } } }).env.Spec).toBe('{"A":{"B":1}}');
    expect(() => vqlQuery("SELECT parse_json(data=L) FROM scope()", { L: [1, 2] })).toThrow(/arrays cannot be passed directly/);
  });

  it("rejects parameter names that are not identifiers, shadow built-ins, or are unused", () => {
    expect(() => vqlQuery("SELECT 1 FROM scope()", { "bad-name": "x" })).toThrow(/env\.bad-name: is not a valid VQL variable name/);
    expect(() => vqlQuery("SELECT config FROM scope()", { config: "x" })).toThrow(/shadows a VQL built-in/);
    expect(() => vqlQuery("SELECT * FROM clients(search=Search)", { Serach: "x" })).toThrow(/env\.Serach: is not used by the query/);
  });

  it("does not count a parameter as used when its name is only part of another word", () => {
    expect(() => vqlQuery("SELECT ClientIds FROM scope()", { ClientId: "C.1" })).toThrow(/not used/);
  });

  it("rejects an empty query", () => {
    expect(() => vqlQuery("   ")).toThrow(/query: is empty/);
  });

  it("checkEnv validates names from untrusted callers", () => {
    expect(checkEnv({ A: "1", B: 2 })).toEqual({ A: "1", B: "2" });
    expect(() => checkEnv({ "x y": "1" })).toThrow(/not a valid VQL variable name/);
  });
});
