import { describe, expect, it } from "vitest";
import { parseVql, references } from "../../../velociraptor/vql/index.js";

const VALID = [
  "SELECT * FROM info()",
  "select * from info()",
  "SELECT client_id, os_info.hostname AS Hostname FROM clients(search=Search) WHERE os_info.system = 'windows' ORDER BY Hostname DESC LIMIT 10",
  "LET x = SELECT * FROM clients() SELECT * FROM x",
  "LET x <= SELECT * FROM clients() SELECT count() AS N FROM x GROUP BY os_info.system",
  "LET f(a) = a + 1 SELECT f(a=1) FROM scope()",
  "SELECT collect_client(client_id=ClientId, artifacts=['Windows.System.Pslist'], spec=dict(`Windows.System.Pslist`=dict(ProcessRegex='x'))) FROM scope()",
  "SELECT * FROM Artifact.Server.Utils.DeleteClient(ClientIdList=Ids, ReallyDoIt=TRUE)",
  "SELECT '''triple 'quoted' string''' AS T, \"double\" AS D FROM scope()",
  "// comment\nSELECT 1 FROM scope() -- trailing\n/* block\ncomment */",
  "SELECT * FROM flows(client_id=C) WHERE NOT state IN ['FINISHED', 'ERROR'] AND -total_collected_rows < 0",
  "SELECT * FROM foreach(row={ SELECT * FROM clients() }, query={ SELECT * FROM info() })",
  "SELECT x[0], x.y.z, x =~ 'a.*' FROM scope()",
  "SELECT filter(list=L, condition=x=>x.y > 1) FROM scope()",
  "SELECT a != b, a <= 1, a >= 2, 1 * 2 / 3 - 4 FROM scope() WHERE a AND b OR c",
  "SELECT * FROM (SELECT * FROM info())",
  "SELECT NULL, FALSE, 1.5e3 FROM scope()",
];

const INVALID: [string, number, number][] = [
  ["SELECT * FROM clients(", 1, 23],
  ["SELECT * FROM", 1, 14],
  ["SELEC * FROM info()", 1, 1],
  ["SELECT * FROM info() WHERE", 1, 27],
  ["SELECT 'unterminated FROM info()", 1, 8],
  ["SELECT *\nFROM info(a=)", 2, 13],
  ["SELECT * FROM info() LIMIT", 1, 27],
];

describe("parseVql", () => {
  it.each(VALID)("parses %s", (q) => {
    const r = parseVql(q);
    expect(r.errors).toEqual([]);
    expect(r.statements.length).toBeGreaterThan(0);
  });

  it.each(INVALID)("reports the error in %s at %i:%i", (q, line, column) => {
    const r = parseVql(q);
    expect(r.errors.length).toBeGreaterThan(0);
    expect([r.errors[0]!.line, r.errors[0]!.column]).toEqual([line, column]);
  });

  it("recovers after an error so later statements still parse", () => {
    const r = parseVql("SELECT * FROM WHERE x SELECT 1 FROM scope()");
    expect(r.errors).toHaveLength(1);
    expect(r.statements).toHaveLength(1);
  });

  it("lists plugins, functions, artifacts and free variables", () => {
    const r = parseVql(
      "LET hits = SELECT * FROM clients(search=Term) SELECT label(client_id=client_id, labels=L, op='set') FROM hits WHERE x => x SELECT * FROM Artifact.Windows.System.Pslist()",
    );
    const refs = references(r.statements);
    expect([...refs.plugins]).toEqual(["clients"]);
    expect([...refs.functions]).toEqual(["label"]);
    expect([...refs.artifacts]).toEqual(["Windows.System.Pslist"]);
    expect([...refs.defined]).toEqual(["hits"]);
    expect(refs.variables).toContain("Term");
    expect(refs.variables).toContain("L");
  });
});
