/**
 * The effect classifier under attack. Each block is a class of bypass (issue 13 item 1), not one string: every
 * variant must come out at least as high as what Velociraptor would really run.
 */
import { describe, expect, it } from "vitest";
import { VQL_ACCESSORS, VQL_BUILTINS } from "../../../velociraptor/vql/builtins.js";
import { classifyVql, type Effect } from "../../../velociraptor/vql/index.js";
import { FILE_READERS, INVESTIGATE_CALLS, LAMBDA_ARGS, READ_FUNCTIONS, READ_ONLY_ACCESSORS, READ_PLUGINS } from "../../../velociraptor/vql/policy.js";

const LABEL = "label(client_id='C.1a2b3c4d5e6f7a01', labels='pwned', op='set')";
const effect = (q: string, env: Record<string, unknown> = {}): Effect => {
  const c = classifyVql(q, { env });
  expect(c.errors).toEqual([]);
  return c.effect;
};
const names = (q: string) => classifyVql(q).calls.filter((c) => c.effect !== "read").map((c) => c.name);

describe("statement order and shadowing: a LET never hides a call", () => {
  it.each([
    // The reported repro: the call runs before the LET exists.
    [`SELECT ${LABEL} FROM scope()\nLET label = 1`],
    // A LET before the call does not shadow a built-in either: vfilter asks the function dispatcher first.
    [`LET label = 1\nSELECT ${LABEL} FROM scope()`],
    [`LET label(client_id, labels, op) = 1\nSELECT ${LABEL} FROM scope()`],
    [`LET label = SELECT * FROM info()\nSELECT ${LABEL} FROM scope()`],
    [`LET label <= SELECT * FROM info()\nSELECT ${LABEL} FROM scope()`],
    // A parameter or lambda argument named like the built-in does not shadow it.
    [`LET f(label) = ${LABEL}\nSELECT f(label=1) FROM scope()`],
    [`SELECT filter(list=[1], condition='label => ${LABEL.replace(/'/g, '"')}') FROM scope()`],
  ])("%s", (q) => {
    expect(names(q)).toContain("label");
    expect(effect(q)).toBe("investigate");
  });

  it.each([
    `SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts='Generic.Client.Info') FROM scope()\nLET collect_client = 1`,
    `SELECT hunt_update(hunt_id='H.1', start=TRUE) FROM scope()\nLET hunt_update = 1`,
    `SELECT artifact_set(definition='name: Custom.X') FROM scope()\nLET artifact_set = 1`,
    `SELECT * FROM hunt_delete(hunt_id='H.1', really_do_it=TRUE)\nLET hunt_delete = SELECT * FROM scope()`,
  ])("every state-changing call of the report is seen past a later LET: %s", (q) => {
    expect(effect(q)).not.toBe("read");
  });

  it("artifact_set and hunt_delete are respond-level, collect_client and hunt_update investigate", () => {
    expect(effect("SELECT artifact_set(definition='x') FROM scope()")).toBe("respond");
    expect(effect("SELECT * FROM hunt_delete(hunt_id='H.1', really_do_it=TRUE)")).toBe("respond");
    expect(effect("SELECT hunt_update(hunt_id='H.1', start=TRUE) FROM scope()")).toBe("investigate");
  });

  it("a call to a LET-defined name is the LET (its body is classified where it is defined)", () => {
    const c = classifyVql(`LET hits = SELECT * FROM clients()\nLET tag(c) = ${LABEL}\nSELECT * FROM hits\nSELECT tag(c=1) FROM scope()`);
    expect(c.calls.find((x) => x.name === "tag")!.effect).toBe("read");
    expect(c.effect).toBe("investigate");
  });

  it("an unused LET still counts (over-approximation, never under)", () => {
    expect(effect(`LET never = SELECT ${LABEL} FROM scope()\nSELECT * FROM info()`)).toBe("investigate");
  });
});

describe("nested calls are found wherever they run", () => {
  it.each([
    ["column", `SELECT ${LABEL} AS X FROM scope()`],
    ["WHERE", `SELECT * FROM clients() WHERE ${LABEL}`],
    ["WHERE comma list", `SELECT * FROM clients() WHERE log(message='x'), ${LABEL}`],
    ["GROUP BY", `SELECT count() FROM clients() GROUP BY ${LABEL}`],
    ["plugin argument", `SELECT * FROM clients(search=${LABEL})`],
    ["sub-query argument", `SELECT * FROM foreach(row={ SELECT ${LABEL} FROM scope() }, query={ SELECT * FROM info() })`],
    ["foreach query", `SELECT * FROM foreach(row=[1], query={ SELECT ${LABEL} FROM scope() })`],
    ["if then", `SELECT * FROM if(condition=TRUE, then={ SELECT ${LABEL} FROM scope() })`],
    ["if() function else", `SELECT if(condition=FALSE, then=1, else=${LABEL}) FROM scope()`],
    ["chain", `SELECT * FROM chain(a={ SELECT * FROM info() }, b={ SELECT ${LABEL} FROM scope() })`],
    ["column sub-select", `SELECT { SELECT ${LABEL} FROM scope() } AS X FROM scope()`],
    ["LET stored query", `LET X = SELECT ${LABEL} FROM scope()\nSELECT * FROM X`],
    ["LET expression", `LET X = ${LABEL}\nSELECT X FROM scope()`],
    ["LET parameter default", `LET f(a, b=${LABEL}) = a\nSELECT f(a=1) FROM scope()`],
    ["dict value", `SELECT dict(a=${LABEL}) FROM scope()`],
    ["list item", `SELECT [1, ${LABEL}] FROM scope()`],
    ["comma expression", `SELECT (1, ${LABEL}) FROM scope()`],
    ["index", `SELECT x[${LABEL}] FROM scope()`],
    ["slice bound", `SELECT x[0:${LABEL}] FROM scope()`],
    ["negated call", `SELECT -${LABEL} FROM scope()`],
    ["NOT operand", `SELECT * FROM clients() WHERE NOT ${LABEL}`],
    ["|| operand", `SELECT * FROM clients() WHERE FALSE || ${LABEL}`],
    ["&& operand", `SELECT * FROM clients() WHERE TRUE && ${LABEL}`],
    ["SELECT * then columns", `SELECT * ${LABEL} AS X FROM scope()`],
  ])("%s", (_where, q) => {
    expect(names(q)).toContain("label");
  });
});

describe("lambdas inside strings are parsed and classified", () => {
  const lam = `x=>${LABEL}`;
  it.each([
    ["filter condition (double quotes)", `SELECT filter(list=[1], condition="${lam}") FROM scope()`],
    ["all filter", `SELECT all(items=[1], filter="${lam}") FROM scope()`],
    ["any filter", `SELECT any(items=[1], filter="${lam}") FROM scope()`],
    ["triple-quoted", `SELECT filter(list=[1], condition='''${lam}''') FROM scope()`],
    ["single quotes with escapes", `SELECT filter(list=[1], condition='x=>label(client_id=\\'C.1a2b3c4d5e6f7a01\\', labels=\\'p\\', op=\\'set\\')') FROM scope()`],
    ["hex escape hiding the name", `SELECT filter(list=[1], condition="x=>\\x6cabel(client_id='C.1', labels='p', op='set')") FROM scope()`],
    ["regex_replace replace_lambda", `SELECT regex_replace(source='a', re='a', replace_lambda="${lam}") FROM scope()`],
    ["glob recursion_callback", `SELECT * FROM glob(globs='/tmp/*', recursion_callback="${lam}")`],
    ["multi-parameter lambda", `SELECT filter(list=[1], condition="a, b => ${LABEL}") FROM scope()`],
    ["comment inside the lambda", `SELECT filter(list=[1], condition="x=> /* hi */ ${LABEL}") FROM scope()`],
    ["an argument not declared as a lambda but holding one", `SELECT format(format="%v", args="${lam}") FROM scope()`],
  ])("%s", (_what, q) => {
    expect(names(q)).toContain("label");
  });

  it.each([
    ["a lambda from env (not literal text)", "SELECT filter(list=[1], condition=Cond) FROM scope()"],
    ["a lambda built at run time", "SELECT filter(list=[1], condition=format(format='x=>%v', args='1')) FROM scope()"],
    ["a lambda that does not parse here", "SELECT filter(list=[1], condition='x=>label(') FROM scope()"],
  ])("%s is respond-level (cannot be checked)", (_what, q) => {
    expect(effect(q, { Cond: `x=>${LABEL}` })).toBe("respond");
  });

  it("a plain lambda stays read", () => {
    expect(effect("SELECT filter(list=[1,2], condition='x=>x > 1') FROM scope()")).toBe("read");
  });
});

describe("string tricks: case, backticks, escapes, comments", () => {
  it("names are case-sensitive: LABEL(…) is no built-in, so it is an unknown call (respond)", () => {
    expect(effect("SELECT LABEL(client_id='C.1', labels='p', op='set') FROM scope()")).toBe("respond");
    expect(effect("SELECT Label(client_id='C.1', labels='p', op='set') FROM scope()")).toBe("respond");
  });

  it("keywords are case-insensitive", () => {
    expect(effect(`sElEcT ${LABEL} fRoM scope()`)).toBe("investigate");
  });

  it("a backtick-quoted call name is the built-in", () => {
    expect(names(`SELECT \`label\`(client_id='C.1', labels='p', op='set') FROM scope()`)).toContain("label");
    expect(names("SELECT * FROM `hunt_delete`(hunt_id='H.1', really_do_it=TRUE)")).toContain("hunt_delete");
  });

  it("escapes in a backtick call name do not make a built-in (vfilter's SplitIdent keeps them), so it is unknown", () => {
    expect(effect("SELECT `\\x6cabel`(client_id='C.1', labels='p', op='set') FROM scope()")).toBe("respond");
  });

  it("escapes in a backtick argument name are decoded (vfilter's Unquote_ident)", () => {
    const c = classifyVql("SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', `\\x61rtifacts`='Windows.Remediation.Quarantine') FROM scope()");
    expect(c.artifacts[0]!.names).toEqual(["Windows.Remediation.Quarantine"]);
  });

  it.each([
    ["-- comment, call on the next line", `SELECT * FROM info() -- just info\nSELECT ${LABEL} FROM scope()`],
    ["// comment, call on the next line", `SELECT * FROM info() // just info\nSELECT ${LABEL} FROM scope()`],
    ["block comment, call after it", `SELECT /* nothing */ ${LABEL} FROM scope()`],
    ["comment marker inside a string is text", `SELECT '--' AS x, ${LABEL} FROM scope()`],
    ["block comment opener inside a string", `SELECT '/*' AS x, ${LABEL}, '*/' AS y FROM scope()`],
    ["carriage return does not end a -- comment, but the call after \\n counts", `SELECT 1 FROM scope() --x\rstill comment\n SELECT ${LABEL} FROM scope()`],
  ])("%s", (_what, q) => {
    expect(names(q)).toContain("label");
  });

  it("a call inside a comment is not a call", () => {
    expect(effect(`SELECT * FROM info() -- ${LABEL}`)).toBe("read");
    expect(effect(`SELECT * FROM info() /* ${LABEL} */`)).toBe("read");
  });

  it.each([
    ["an unterminated block comment", `SELECT * FROM info() /* ${LABEL}`],
    ["a vertical tab (not whitespace to vfilter)", `SELECT\v${LABEL} FROM scope()`],
    ["a non-breaking space", `SELECT\u00a0${LABEL} FROM scope()`],
    ["an unterminated string", `SELECT 'x FROM scope() ${LABEL}`],
  ])("%s is a syntax error, never silently dropped", (_what, q) => {
    expect(classifyVql(q).ok).toBe(false);
  });
});

describe("unknown calls and runners", () => {
  it("an unknown function or plugin is respond-level", () => {
    expect(effect("SELECT frobnicate() FROM scope()")).toBe("respond");
    expect(effect("SELECT * FROM frobnicate()")).toBe("respond");
  });

  it.each([
    ["the Artifact runner as a value", "LET A = Artifact\nSELECT * FROM info()"],
    ["an Artifact member chain as a value", "LET D = Artifact.Server.Utils.DeleteClient\nSELECT * FROM info()"],
    ["a dotted call through a variable", "LET A = 1\nSELECT * FROM A.Server.Utils.DeleteClient(ReallyDoIt=TRUE)"],
    ["$root", "SELECT * FROM `$root`.Artifact.Server.Utils.DeleteClient(ReallyDoIt=TRUE)"],
    ["$root as a value", "SELECT `$root` FROM scope()"],
    ["scope() as a value", "SELECT get(item=scope(), member='Artifact') AS A FROM scope()"],
    ["a call of a LET parameter bound to the runner", "LET f(g) = SELECT * FROM g(ReallyDoIt=TRUE)\nSELECT * FROM f(g=Artifact.Server.Utils.DeleteClient)"],
    ["query() (VQL from a string)", "SELECT * FROM query(query='SELECT * FROM info()')"],
    ["unzip writes files", "SELECT * FROM unzip(filename='/tmp/a.zip', output_directory='/tmp/x')"],
    ["execve", "SELECT * FROM execve(argv=['id'])"],
    ["http_client reaches other systems", "SELECT * FROM http_client(url='http://example.com', method='POST')"],
    ["a network accessor", "SELECT * FROM glob(globs='*', accessor='smb')"],
    ["an accessor from a variable", "SELECT * FROM read_file(filenames='/etc/hosts', accessor=Acc)"],
    ["collect_client on the server", "SELECT collect_client(client_id='server', artifacts='Server.Utils.DeleteClient') FROM scope()"],
    ["collect_client on a client that is not literal", "SELECT collect_client(client_id=client_id, artifacts='Generic.Client.Info') FROM clients()"],
    ["hunt across orgs", "SELECT hunt(artifacts='Generic.Client.Info', org_id=['O1','O2']) FROM scope()"],
  ])("%s is respond-level", (_what, q) => {
    expect(effect(q, { Acc: "file" })).toBe("respond");
  });

  it("`SELECT … FROM scope()` and result readers are read", () => {
    expect(effect("SELECT * FROM scope()")).toBe("read");
    expect(effect("SELECT client_id FROM clients() WHERE os_info.system = 'linux' LIMIT 5")).toBe("read");
    expect(effect("SELECT * FROM glob(globs='/etc/*', accessor='file')")).toBe("read");
    expect(effect("SELECT whoami() AS Name, user(user=whoami()) AS User FROM scope()")).toBe("read");
  });
});

describe("which artifacts a query runs", () => {
  const uses = (q: string, env: Record<string, unknown> = {}) => classifyVql(q, { env }).artifacts.map((u) => ({ via: u.via, names: u.names, determinable: u.determinable, onServer: u.onServer, huntIds: u.huntIds }));

  it.each([
    ["a literal", "SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts='A.B') FROM scope()", ["A.B"]],
    ["a list", "SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts=['A.B', 'C.D']) FROM scope()", ["A.B", "C.D"]],
    ["an env value", "SELECT collect_client(client_id=C, artifacts=Arts) FROM scope()", ["A.B"]],
    ["parse_json(data=Env).items", "SELECT collect_client(client_id=C, artifacts=parse_json(data=J).items) FROM scope()", ["A.B", "C.D"]],
    ["spec keys only", "SELECT collect_client(client_id=C, spec=dict(`A.B`=dict(X='1'))) FROM scope()", ["A.B"]],
    ["artifacts and spec keys", "SELECT collect_client(client_id=C, artifacts='A.B', spec=dict(`E.F`=dict())) FROM scope()", ["A.B", "E.F"]],
    ["hunt()", "SELECT hunt(artifacts='A.B', description='x') FROM scope()", ["A.B"]],
    ["the last of repeated arguments", "SELECT collect_client(client_id=C, artifacts='A.B', artifacts='X.Y') FROM scope()", ["X.Y"]],
  ])("%s", (_what, q, want) => {
    const u = uses(q, { C: "C.1a2b3c4d5e6f7a01", Arts: "A.B", J: JSON.stringify({ items: ["A.B", "C.D"] }) });
    expect(u[0]!.determinable).toBe(true);
    expect(u[0]!.names).toEqual(want);
  });

  it.each([
    ["a variable from a row", "SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts=name) FROM artifact_definitions()"],
    ["an env name a LET shadows", "LET Arts = 'Windows.Remediation.Quarantine'\nSELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts=Arts) FROM scope()"],
    ["an env name a column alias shadows", "SELECT 'Windows.Remediation.Quarantine' AS Arts, collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts=Arts) FROM scope()"],
    ["an env value inside a sub-query", "SELECT * FROM foreach(row=[1], query={ SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts=Arts) FROM scope() })"],
    ["a computed name", "SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', artifacts=format(format='%v.Quarantine', args='Windows.Remediation')) FROM scope()"],
    ["a spec that is not a literal dict", "SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01', spec=S) FROM clients()"],
    ["neither artifacts nor spec", "SELECT collect_client(client_id='C.1a2b3c4d5e6f7a01') FROM scope()"],
    ["set_client_monitoring", "SELECT set_client_monitoring(value=V) FROM scope()"],
  ])("%s is not determinable", (_what, q) => {
    const u = uses(q, { Arts: "Generic.Client.Info" });
    expect(u.some((x) => !x.determinable)).toBe(true);
  });

  it("inline Artifact.X runs on the server; hunt_update start and hunt_add name the hunt", () => {
    expect(uses("SELECT * FROM Artifact.Server.Utils.DeleteClient(ClientIdList='C.1', ReallyDoIt=TRUE)")).toEqual([{ via: "Artifact", names: ["Server.Utils.DeleteClient"], determinable: true, onServer: true, huntIds: [] }]);
    expect(uses("SELECT hunt_update(hunt_id='H.1', start=TRUE) FROM scope()")[0]).toMatchObject({ via: "hunt_update", huntIds: ["H.1"], determinable: true });
    expect(uses("SELECT hunt_update(hunt_id='H.1', stop=TRUE) FROM scope()")).toEqual([]);
    expect(uses("SELECT hunt_add(hunt_id=H, client_id='C.1') FROM clients()")[0]).toMatchObject({ determinable: false });
  });
});

describe("the policy tables match Velociraptor's facts", () => {
  const WRITES = ["FILESYSTEM_WRITE", "EXECVE", "DELETE_RESULTS", "SERVER_ADMIN", "ARTIFACT_WRITER", "SERVER_ARTIFACT_WRITER", "COLLECT_SERVER", "IMPERSONATION", "ORG_ADMIN", "NETWORK", "LABEL_CLIENT", "START_HUNT", "PREPARE_RESULTS"];
  it("every read-listed call exists in v0.77.2 and declares no permission that writes", () => {
    for (const n of [...READ_FUNCTIONS, ...READ_PLUGINS]) {
      expect(VQL_BUILTINS[n], n).toBeDefined();
      expect(VQL_BUILTINS[n]!.permissions.filter((p) => WRITES.includes(p)), n).toEqual([]);
    }
  });
  it("unzip, the lambda-taking eval and scope() as a function are not read-listed functions", () => {
    expect(READ_PLUGINS.has("unzip") || READ_FUNCTIONS.has("unzip")).toBe(false);
    expect(READ_FUNCTIONS.has("eval")).toBe(false);
  });
  it("investigate-level calls exist and declare only investigator permissions", () => {
    const investigator = ["READ_RESULTS", "NOTEBOOK_EDITOR", "COLLECT_CLIENT", "START_HUNT", "LABEL_CLIENT", "ANY_QUERY", "PREPARE_RESULTS"];
    for (const n of Object.keys(INVESTIGATE_CALLS)) expect(VQL_BUILTINS[n]!.permissions.some((p) => investigator.includes(p)), n).toBe(true);
  });
  it("every lambda argument belongs to a real call, and every file reader takes an accessor", () => {
    for (const n of Object.keys(LAMBDA_ARGS)) expect(VQL_BUILTINS[n], n).toBeDefined();
    for (const n of FILE_READERS) expect(VQL_BUILTINS[n]!.permissions, n).toContain("FILESYSTEM_READ");
    for (const a of READ_ONLY_ACCESSORS) expect(VQL_ACCESSORS[a], a).toBeDefined();
  });
});
