/**
 * The JSON Lines scanner (velociraptor/json-lines.ts): a result batch becomes one line per row with each row's bytes
 * exactly as the server wrote them. The Velociraptor forms below are the ones its encoder produces — Velocidex/json
 * encode.go (encodeState.string: `\u003c` `\u003e` `\u0026` under escapeHTML, which NewEncOpts turns on; `\u2028`
 * `\u2029`; control bytes other than \n \r \t as `\u00XX` in lower-case hex; `\ufffd` for invalid UTF-8) and
 * uint64 values as plain JSON numbers (vql/json.go MarshalJson via json.MarshalWithOptions) — written out by hand here.
 */
import { describe, expect, it } from "vitest";
import { jsonArrayToLines } from "../../velociraptor/json-lines.js";
import { MalformedResponseError } from "../../velociraptor/errors.js";
import { generatedRows } from "../../test-server/model.js";

const lines = (text: string, limit?: number) => {
  const r = jsonArrayToLines(Buffer.from(text, "utf8"), limit);
  return { text: r.lines.toString("utf8"), rows: r.rows, dropped: r.dropped };
};
const reserialised = (text: string) => (JSON.parse(text) as unknown[]).map((r) => JSON.stringify(r) + "\n").join("");

describe("jsonArrayToLines", () => {
  it("gives, for ordinary rows, the same lines as JSON.parse + JSON.stringify", () => {
    const rows = [...generatedRows(2000, 3)];
    const batch = JSON.stringify(rows);
    const r = lines(batch);
    expect(r.rows).toBe(2000);
    expect(r.text).toBe(reserialised(batch));
  });

  it("keeps Velociraptor's escapes, which re-serialising would undo", () => {
    const rows = [
      String.raw`{"Html":"\u003cscript\u003ealert(1)\u003c/script\u003e \u0026amp;","Sep":"a\u2028b\u2029c"}`,
      String.raw`{"Ctl":"\u0000\u0001\u0008\u000c\u001f","Esc":"tab\there\nnew\rret \"q\" back\\slash","Bad":"\ufffd"}`,
      String.raw`{"Path":"C:\\Windows\\System32\\","Quote":"\\\"","Empty":"","Brackets":"],[{\"x\":1}],["}`,
    ];
    const batch = `[${rows.join(",")}]`;
    const r = lines(batch);
    expect(r.text).toBe(rows.map((x) => x + "\n").join(""));
    // The same rows through JSON: `<`, `&`, U+2028 and \b come back unescaped — not what Velociraptor wrote.
    expect(reserialised(batch)).not.toBe(r.text);
    expect((JSON.parse(r.text.split("\n")[0]!) as { Html: string }).Html).toBe("<script>alert(1)</script> &amp;");
  });

  it("keeps uint64 values and number forms exactly (JSON.parse would round 18446744073709551615)", () => {
    const row = `{"Inode":18446744073709551615,"Size":9007199254740993,"Neg":-12,"F":1.5e-7,"E":1e+21,"Z":0}`;
    const r = lines(`[${row}]`);
    expect(r.text).toBe(row + "\n");
    expect(reserialised(`[${row}]`)).not.toBe(r.text);
  });

  it("passes multi-byte UTF-8 through untouched", () => {
    const row = `{"Name":"Überwachung-日本語-😀","Key":"HKLM\\\\Software\\\\Ä"}`;
    expect(lines(`[${row},${row}]`).text).toBe(`${row}\n${row}\n`);
  });

  it("splits only top-level rows: nested objects and arrays, and scalars, stay whole", () => {
    const batch = `[{"a":{"b":[1,{"c":[]}],"d":{}}},{},[1,2],"s",3,true,null]`;
    expect(lines(batch).text).toBe(`{"a":{"b":[1,{"c":[]}],"d":{}}}\n{}\n[1,2]\n"s"\n3\ntrue\nnull\n`);
  });

  it("accepts whitespace between tokens (an indented array) and drops it around rows", () => {
    const rows = [{ a: 1, b: "x y" }, { c: [1, 2] }];
    const r = lines(`\n [\n  ${JSON.stringify(rows[0])} ,\n\t${JSON.stringify(rows[1])}\n ] \n`);
    expect(r.text).toBe(rows.map((x) => JSON.stringify(x) + "\n").join(""));
    // Spaces inside a row are the row's own bytes and are kept.
    expect(lines(`[{"a": 1, "b": [1, 2]}]`).text).toBe(`{"a": 1, "b": [1, 2]}\n`);
  });

  it("writes rows with line breaks between their tokens (an indenting encoder, not Velociraptor's) compactly, one per line", () => {
    const rows = [{ a: 1, b: { c: "x\ny" } }, { d: [1, 2] }, { e: 3 }];
    expect(lines(JSON.stringify(rows, null, 2), 2)).toEqual({ text: rows.slice(0, 2).map((x) => JSON.stringify(x) + "\n").join(""), rows: 2, dropped: 1 });
  });

  it("treats [] and null (Go's nil slice) as empty batches", () => {
    expect(lines("[]")).toEqual({ text: "", rows: 0, dropped: 0 });
    expect(lines(" [ ] ")).toEqual({ text: "", rows: 0, dropped: 0 });
    expect(lines("null")).toEqual({ text: "", rows: 0, dropped: 0 });
  });

  it("keeps at most `limit` rows and reports how many it dropped", () => {
    expect(lines(`[{"a":1},{"a":2},{"a":3}]`, 2)).toEqual({ text: `{"a":1}\n{"a":2}\n`, rows: 2, dropped: 1 });
    expect(lines(`[{"a":1}]`, 0)).toEqual({ text: "", rows: 0, dropped: 1 });
    expect(lines(`[{"a":1}]`, 1)).toEqual({ text: `{"a":1}\n`, rows: 1, dropped: 0 });
  });

  it.each([
    ["not an array", `{"a":1}`],
    ["a truncated batch", `[{"a":1},{"a":`],
    ["an unterminated string", `[{"a":"x}]`],
    ["an escaped closing quote that leaves the string open", `[{"a":"x\\"}]`],
    ["an empty element", `[{"a":1},,{"a":2}]`],
    ["a trailing comma", `[{"a":1},]`],
    ["bytes after the array", `[{"a":1}] x`],
    ["a closing brace for the array", `[{"a":1}}`],
    ["nothing", ``],
  ])("refuses %s with MalformedResponseError", (_what, text) => {
    expect(() => jsonArrayToLines(Buffer.from(text))).toThrow(MalformedResponseError);
  });
});
