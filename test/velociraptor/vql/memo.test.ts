/**
 * The memo behind parseVql and classifyVql (velociraptor/vql/memo.ts): a remembered verdict is only ever handed to a
 * call with the same text and the same env values (types included), nobody can change it, an env the key cannot
 * describe exactly is classified afresh, and the mode check applies to every call whatever was remembered.
 */
import { describe, expect, it } from "vitest";
import { judgeVql } from "../../../mcp/safety/vql-policy.js";
import type { VelociraptorSession } from "../../../velociraptor/session.js";
import { classifyVql, classifyVqlFresh, parseVql, parseVqlFresh } from "../../../velociraptor/vql/index.js";
import { Lru } from "../../../velociraptor/vql/memo.js";

const COLLECT = "SELECT collect_client(client_id=C, artifacts=Arts) FROM scope()";
const uses = (env: Record<string, unknown>) => classifyVql(COLLECT, { env }).artifacts.map((u) => ({ names: u.names, onServer: u.onServer, determinable: u.determinable }));

describe("Lru", () => {
  it("evicts the least recently used entry past its entry count", () => {
    const m = new Lru<number>(2, 1000);
    m.set("a", 1);
    m.set("b", 2);
    expect(m.get("a")).toBe(1); // a is now newer than b
    m.set("c", 3);
    expect([m.get("a"), m.get("b"), m.get("c")]).toEqual([1, undefined, 3]);
  });
  it("evicts past its total key length, and never keeps a key longer than that", () => {
    const m = new Lru<number>(100, 10);
    m.set("aaaa", 1);
    m.set("bbbb", 2);
    m.set("cccc", 3); // 12 characters: the oldest goes
    expect([m.get("aaaa"), m.get("bbbb"), m.get("cccc")]).toEqual([undefined, 2, 3]);
    m.set("x".repeat(11), 4);
    expect(m.get("x".repeat(11))).toBeUndefined();
    expect(m.size).toBe(2);
  });
});

describe("classifyVql's memo", () => {
  const corpus: [string, Record<string, unknown>][] = [
    [COLLECT, { C: "C.1a2b3c4d5e6f7a01", Arts: "A.B" }],
    [COLLECT, { C: "server", Arts: "Windows.Remediation.Quarantine" }],
    ["SELECT collect_client(client_id=C, artifacts=parse_json(data=J).items) FROM scope()", { C: "C.1a2b3c4d5e6f7a01", J: JSON.stringify({ items: ["A.B", "C.D"] }) }],
    ["LET Arts = 'Windows.Remediation.Quarantine'\nSELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts=Arts) FROM scope()", { Arts: "Generic.Client.Info" }],
    ["SELECT filter(list=[1,2], condition='x=>label(client_id=\"C.1\", labels=\"p\", op=\"set\")') FROM scope()", {}],
    ["SELECT * FROM hunt_delete(hunt_id='H.1', really_do_it=TRUE)", {}],
    ["SELECT client_id FROM clients() WHERE os_info.system = 'linux' LIMIT 5", {}],
    ["SELECT * FROM", {}],
  ];

  it("answers exactly what the classifier answers, the first time and every later time", () => {
    for (const [q, env] of corpus) {
      const fresh = classifyVqlFresh(q, { env });
      expect(classifyVql(q, { env }), q).toEqual(fresh);
      expect(classifyVql(q, { env }), q).toEqual(fresh);
      expect(parseVql(q)).toEqual(parseVqlFresh(q));
    }
  });

  it("gives the same text with other env values its own verdict", () => {
    expect(uses({ C: "C.1a2b3c4d5e6f7a01", Arts: "A.B" })).toEqual([{ names: ["A.B"], onServer: false, determinable: true }]);
    expect(uses({ C: "server", Arts: "A.B" })).toEqual([{ names: ["A.B"], onServer: true, determinable: true }]);
    expect(uses({ C: "C.1a2b3c4d5e6f7a01", Arts: "Windows.Remediation.Quarantine" })).toEqual([{ names: ["Windows.Remediation.Quarantine"], onServer: false, determinable: true }]);
    expect(uses({ C: "C.1a2b3c4d5e6f7a01" })).toEqual([{ names: [], onServer: false, determinable: false }]);
    // Same text, env differing only in a value's type, or in whitespace of the text: separate entries.
    const q = "SELECT * FROM scope()";
    expect(classifyVql(q, { env: { A: "1" } })).toBe(classifyVql(q, { env: { A: "1" } }));
    expect(classifyVql(q, { env: { A: "1" } })).not.toBe(classifyVql(q, { env: { A: 1 } }));
    expect(classifyVql(q, { env: { A: true } })).not.toBe(classifyVql(q, { env: { A: "true" } }));
    expect(classifyVql(q)).not.toBe(classifyVql(`${q} `));
  });

  it("hands out frozen verdicts: a caller cannot change what the next call is told", () => {
    const q = "SELECT * FROM hunt_delete(hunt_id='H.1', really_do_it=TRUE)";
    const v = classifyVql(q);
    expect(() => v.calls.push({ name: "x", kind: "function", effect: "read", reason: "", line: 1, column: 1 })).toThrow(TypeError);
    expect(() => {
      (v.calls[0] as { effect: string }).effect = "read";
    }).toThrow(TypeError);
    expect(() => {
      (v as { effect: string }).effect = "read";
    }).toThrow(TypeError);
    expect(classifyVql(q).effect).toBe("respond");
    expect(classifyVql(q).calls[0]!.effect).toBe("respond");
    expect(() => (parseVql(q).statements as unknown[]).pop()).toThrow(TypeError);
  });

  it("classifies afresh when the env cannot be keyed exactly (getters, undefined, NaN, -0, objects)", () => {
    let arts = "A.B";
    const env = { C: "C.1a2b3c4d5e6f7a01" } as Record<string, unknown>;
    Object.defineProperty(env, "Arts", { enumerable: true, get: () => arts });
    expect(classifyVql(COLLECT, { env }).artifacts[0]!.names).toEqual(["A.B"]);
    arts = "Windows.Remediation.Quarantine";
    expect(classifyVql(COLLECT, { env }).artifacts[0]!.names).toEqual(["Windows.Remediation.Quarantine"]);
    for (const odd of [undefined, Number.NaN, -0, { x: 1 }, ["A.B"]]) {
      const e = { C: "C.1a2b3c4d5e6f7a01", Arts: odd };
      expect(classifyVql(COLLECT, { env: e }), String(odd)).not.toBe(classifyVql(COLLECT, { env: e }));
      expect(classifyVql(COLLECT, { env: e })).toEqual(classifyVqlFresh(COLLECT, { env: e }));
    }
  });

  it("the mode is applied per call: a verdict remembered in one mode unlocks nothing in another", async () => {
    const session = {} as VelociraptorSession; // no artifacts in the query: judgeVql never asks the server
    const q = "SELECT label(client_id='C.1a2b3c4d5e6f7a01', labels='x', op='set') FROM scope()";
    expect((await judgeVql(q, {}, "investigate", session)).effect).toBe("investigate");
    await expect(judgeVql(q, {}, "read-only", session)).rejects.toMatchObject({ code: "MODE_FORBIDDEN" });
    expect((await judgeVql(q, {}, "investigate", session)).effect).toBe("investigate");
    const del = "SELECT * FROM hunt_delete(hunt_id='H.1', really_do_it=TRUE)";
    expect((await judgeVql(del, {}, "respond", session)).effect).toBe("respond");
    await expect(judgeVql(del, {}, "investigate", session)).rejects.toMatchObject({ code: "MODE_FORBIDDEN" });
  });
});
