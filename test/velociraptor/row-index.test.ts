/**
 * The one-pass batch index (velociraptor/row-index.ts) against the two passes it replaces: its rows are exactly
 * jsonArrayToLines' lines (bytes, count, dropped, refusals), and the columns it records read like a row's own scan
 * (RawRow#reset) and like JSON.parse of the row. Strings here carry what could mislead a byte scanner: escaped
 * quotes and backslashes, brackets and braces, "},{" between rows' worth of text, multi-byte UTF-8.
 */
import { describe, expect, it } from "vitest";
import { RawRow } from "../../dfir/analysis/timeline/raw-row.js";
import { MalformedResponseError } from "../../velociraptor/errors.js";
import { jsonArrayToLines } from "../../velociraptor/json-lines.js";
import { RowIndex } from "../../velociraptor/row-index.js";
import { generatedRows } from "../../test-server/model.js";

const ROWS = [
  String.raw`{"Html":"\u003cscript\u003ealert(1)\u003c/script\u003e \u0026amp;","Sep":"a\u2028b\u2029c"}`,
  String.raw`{"Ctl":"\u0000\u0001\u0008\u000c\u001f","Esc":"tab\there\nnew\rret \"q\" back\\slash","Bad":"\ufffd"}`,
  String.raw`{"Path":"C:\\Windows\\System32\\","Quote":"\\\"","Empty":"","Brackets":"],[{\"x\":1}],["}`,
  String.raw`{"Rows":"},{\"Pid\":\"1\"},{","Tail":"\\"}`,
  `{"Inode":18446744073709551615,"Size":9007199254740993,"Neg":-12,"F":1.5e-7,"E":1e+21,"Z":0,"T":true,"N":null}`,
  `{"Name":"Überwachung-日本語-😀","Key":"HKLM\\\\Software\\\\Ä"}`,
  `{"a":{"b":[1,{"c":[]}],"d":{}},"e":[[],["]"],{"}":"{"}]}`,
  `{ "Pid" : "18" , "Name" : "spaced" , "Hash" : { "a" : [ 1 , "}" ] } }`,
  `{}`,
  `{ }`,
  `{"Name":"first","Name":"duplicate"}`,
  `{"1":"integer-like key","Pid":"15"}`,
  String.raw`{"Pi\u0064":"escaped key"}`,
  `{"Größe":1,"Pid":"17"}`,
  `{"__proto__":{"x":1},"constructor":"c"}`,
  `[1,2]`,
  `"s"`,
  `3`,
  `null`,
];

/** jsonArrayToLines' rows (it rewrites its input: given a copy). */
function splitRows(text: string, limit?: number) {
  const r = jsonArrayToLines(Buffer.from(text, "utf8"), limit);
  return { rows: r.rows ? r.lines.toString("utf8").slice(0, -1).split("\n") : [], dropped: r.dropped };
}

function indexed(text: string, limit?: number, ix = new RowIndex()) {
  const bytes = Buffer.from(text, "utf8");
  ix.index(bytes, limit);
  const rows: string[] = [];
  for (let r = 0; r < ix.rows; r++) rows.push(bytes.toString("utf8", ix.row[4 * r]!, ix.row[4 * r + 1]!));
  return { ix, bytes, rows, dropped: ix.dropped };
}

describe("RowIndex", () => {
  it("splits a batch into exactly jsonArrayToLines' rows, with or without a limit", () => {
    const batch = `[${ROWS.join(",")}]`;
    for (const limit of [undefined, 0, 1, 5, ROWS.length, ROWS.length + 1]) {
      const got = indexed(batch, limit);
      expect({ rows: got.rows, dropped: got.dropped }).toEqual(splitRows(batch, limit));
    }
    expect(indexed(batch).rows).toEqual(ROWS);
  });

  it("records each object row's columns as its own scan and JSON.parse read them; other rows are left to JSON.parse", () => {
    const { ix, bytes } = indexed(`[${ROWS.join(",")}]`);
    const fromIndex = new RawRow();
    const fromScan = new RawRow();
    let takenApart = 0;
    for (let r = 0; r < ix.rows; r++) {
      const [s, e, first, count] = [ix.row[4 * r]!, ix.row[4 * r + 1]!, ix.row[4 * r + 2]!, ix.row[4 * r + 3]!];
      const text = bytes.toString("utf8", s, e);
      const o = JSON.parse(text) as Record<string, unknown>;
      if (count >= 0) takenApart++;
      // Rows not taken apart: not objects, or keys with an escape or a non-ASCII byte.
      else expect(o === null || typeof o !== "object" || Array.isArray(o) || /\\|[^\x20-\x7e]/.test(Object.keys(o).join("") + text.slice(0, text.indexOf(":")))).toBe(true);
      if (o === null || typeof o !== "object" || Array.isArray(o)) continue;
      fromIndex.take(bytes, s, e, ix.members, first, count);
      fromScan.reset(bytes, s, e);
      for (const k of [...Object.keys(o), "Missing", "toString"]) {
        expect(fromIndex.view[k]).toEqual(o[k]);
        expect(fromIndex.view[k]).toEqual(fromScan.view[k]);
        expect(k in fromIndex.view).toBe(k in o);
      }
      expect(Object.entries(fromIndex.view)).toEqual(Object.entries(o));
    }
    expect(takenApart).toBeGreaterThanOrEqual(12);
  });

  it("matches jsonArrayToLines on generated rows and on random rows with hostile strings and white space", () => {
    const batch = JSON.stringify([...generatedRows(2000, 3)]);
    expect(indexed(batch).rows).toEqual(splitRows(batch).rows);
    // A fixed-seed LCG: the same draws every run.
    let seed = 17;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pick = <T>(a: readonly T[]) => a[Math.floor(next() * a.length)]!;
    const pieces = ['"', "\\", "},{", "[", "]", "{", "}", ",", ":", "é", "😀", "\u2028", "\n", "\t", "x", " "];
    const str = () => JSON.stringify(Array.from({ length: Math.floor(next() * 6) }, () => pick(pieces)).join(""));
    const ws = () => pick(["", "", " ", "\t", "  "]);
    const value = (d: number): string => {
      const k = Math.floor(next() * (d > 2 ? 3 : 5));
      if (k === 0) return str();
      if (k === 1) return pick(["1", "-2.5e3", "true", "false", "null", "18446744073709551615"]);
      if (k === 2) return `${ws()}${str()}`;
      if (k === 3) return `[${ws()}${Array.from({ length: Math.floor(next() * 3) }, () => value(d + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
      return obj(d + 1);
    };
    const obj = (d: number): string => `{${ws()}${Array.from({ length: Math.floor(next() * 5) }, () => `${str()}${ws()}:${ws()}${value(d)}`).join(`${ws()},${ws()}`)}${ws()}}`;
    const ix = new RowIndex();
    for (let b = 0; b < 200; b++) {
      const text = `${ws()}[${ws()}${Array.from({ length: 1 + Math.floor(next() * 8) }, () => obj(0)).join(`${ws()},${ws()}`)}${ws()}]${ws()}`;
      const limit = next() < 0.2 ? Math.floor(next() * 4) : undefined;
      const got = indexed(text, limit, ix);
      expect(got.ix.lines).toBeUndefined();
      expect({ rows: got.rows, dropped: got.dropped }).toEqual(splitRows(text, limit));
      for (let r = 0; r < got.ix.rows; r++) {
        const count = got.ix.row[4 * r + 3]!;
        if (count < 0) continue;
        const row = new RawRow();
        row.take(got.bytes, got.ix.row[4 * r]!, got.ix.row[4 * r + 1]!, got.ix.members, got.ix.row[4 * r + 2]!, count);
        expect(JSON.stringify(row.view)).toBe(JSON.stringify(JSON.parse(got.rows[r]!)));
      }
    }
  });

  it("hands a batch with line breaks inside its rows over as jsonArrayToLines' re-serialised lines", () => {
    const rows = [{ a: 1, b: { c: "x\ny" } }, { d: [1, 2] }, { e: 3 }];
    const text = JSON.stringify(rows, null, 2);
    const { ix } = indexed(text, 2);
    expect(ix.lines?.toString("utf8")).toBe(rows.slice(0, 2).map((x) => JSON.stringify(x) + "\n").join(""));
    expect([ix.rows, ix.dropped]).toEqual([2, 1]);
    // Line breaks between rows only are not inside a row: the batch is indexed.
    expect(indexed(`[\n{"a":1},\r\n{"b":2}\n]`).ix.lines).toBeUndefined();
    expect(indexed(`[\n{"a":1},\r\n{"b":2}\n]`).rows).toEqual([`{"a":1}`, `{"b":2}`]);
  });

  it("treats [] and null as empty batches", () => {
    for (const text of ["[]", " [ ] ", "null", " null "]) expect([indexed(text).ix.rows, indexed(text).dropped]).toEqual([0, 0]);
  });

  it.each([
    ["not an array", `{"a":1}`],
    ["a truncated batch", `[{"a":1},{"a":`],
    ["a truncated batch inside a nested value", `[{"a":1},{"a":[1,{"b":`],
    ["an unterminated string", `[{"a":"x}]`],
    ["an escaped closing quote that leaves the string open", `[{"a":"x\\"}]`],
    ["an empty element", `[{"a":1},,{"a":2}]`],
    ["a leading comma", `[,{"a":1}]`],
    ["a trailing comma", `[{"a":1},]`],
    ["bytes after the array", `[{"a":1}] x`],
    ["a closing brace for the array", `[{"a":1}}`],
    ["a closing brace for the array after a scalar", `[1}`],
    ["nothing", ``],
    ["an opening bracket only", `[`],
  ])("refuses %s with MalformedResponseError, as jsonArrayToLines does", (_what, text) => {
    expect(() => jsonArrayToLines(Buffer.from(text))).toThrow(MalformedResponseError);
    expect(() => new RowIndex().index(Buffer.from(text))).toThrow(MalformedResponseError);
  });

  it("leaves a row JSON.parse refuses (a trailing comma inside it) to JSON.parse, with jsonArrayToLines' split", () => {
    const text = `[{"a":1,},{"b":2}]`;
    const { ix, rows } = indexed(text);
    expect(rows).toEqual(splitRows(text).rows);
    expect(ix.row[3]).toBe(-1);
    expect(ix.row[7]).toBe(1);
  });
});
