/**
 * The row path's batch parser (velociraptor/row-batch.ts): whatever the batch holds and wherever its cuts fall, the
 * rows are exactly JSON.parse's, the caller's buffer is left as it was, and a batch that is not a JSON array is a
 * MalformedResponseError. Small piece sizes force many cuts on small batches.
 */
import { describe, expect, it, vi } from "vitest";
import { parseRowBatch, RowPieces } from "../../velociraptor/row-batch.js";
import { MalformedResponseError } from "../../velociraptor/errors.js";
import { generatedRows } from "../../test-server/model.js";

/** Parses `text` with the given piece size; checks the buffer was restored; returns the rows. */
function parsed(text: string, pieceBytes?: number): unknown[] {
  const bytes = Buffer.from(text, "utf8");
  const rows = parseRowBatch(bytes, pieceBytes);
  expect(bytes.toString("utf8")).toBe(text);
  return rows;
}

describe("parseRowBatch", () => {
  it("gives JSON.parse's rows for Velociraptor's compact batches, cut into many pieces", () => {
    const text = JSON.stringify([...generatedRows(3000, 5)]);
    const expected = JSON.parse(text) as unknown[];
    for (const piece of [64, 500, 4096, 16 * 1024]) expect(parsed(text, piece)).toEqual(expected);
    expect(parsed(text)).toEqual(expected);
  });

  it("cuts a compact batch into pieces of about the piece size, one JSON.parse each", () => {
    const text = JSON.stringify([...generatedRows(1000, 2)]);
    const parse = vi.spyOn(JSON, "parse");
    try {
      parseRowBatch(Buffer.from(text), 16 * 1024);
      expect(parse.mock.calls.length).toBeGreaterThan(Math.floor(text.length / (17 * 1024)));
      expect(parse.mock.calls.every(([s]) => (s as string).length < 20 * 1024)).toBe(true);
    } finally {
      parse.mockRestore();
    }
  });

  it("gives the same rows when the separator also appears inside nested arrays and string values", () => {
    const rows = Array.from({ length: 400 }, (_, i) => ({
      Pid: i,
      // A nested array of objects keyed like the row: `},{"Pid":` at depth 3, which must not be taken as a row end.
      Children: [{ Pid: i * 10 }, { Pid: i * 10 + 1 }],
      // The same bytes inside a string: `},{"Pid":` where the `"` closes the string.
      Note: i % 3 ? `plain ${i}` : 'ends with },{',
      Tail: i % 7 ? "x" : 'a "},{\\"Pid\\":" b',
    }));
    const text = JSON.stringify(rows);
    expect(text).toContain('},{"Pid":');
    for (const piece of [16, 64, 300]) expect(parsed(text, piece)).toEqual(rows);
  });

  it("keeps multi-byte UTF-8 intact across cuts (cuts fall only on ASCII bytes)", () => {
    const rows = Array.from({ length: 500 }, (_, i) => ({ Name: `é漢字🦖 ${i}`, Path: `C:\\Users\\Jürgen\\${"ß".repeat(i % 17)}` }));
    const text = JSON.stringify(rows);
    for (const piece of [32, 257]) expect(parsed(text, piece)).toEqual(rows);
  });

  it("gives JSON.parse's numbers: integers above 2^53 come back as the nearest double, as on the whole-batch parse", () => {
    const text = `[${Array.from({ length: 300 }, (_, i) => `{"Inode":18446744073709551615,"Size":${9007199254740993 + i}}`).join(",")}]`;
    expect(parsed(text, 64)).toEqual(JSON.parse(text));
    expect((parsed(text, 64)[0] as { Inode: number }).Inode).toBe(18446744073709552000);
  });

  it("parses rows whose first column differs, rows that are not objects, and spaced batches whole", () => {
    const mixed = JSON.stringify(Array.from({ length: 200 }, (_, i) => (i % 2 ? { A: i, B: 1 } : { B: i, A: 2 })));
    expect(parsed(mixed, 64)).toEqual(JSON.parse(mixed));
    const scalars = JSON.stringify(Array.from({ length: 200 }, (_, i) => i));
    expect(parsed(scalars, 64)).toEqual(JSON.parse(scalars));
    const spaced = JSON.stringify([...generatedRows(50, 1)], null, 2) + "\n";
    expect(parsed(spaced, 64)).toEqual(JSON.parse(spaced));
  });

  it("reads null (Go's nil slice) and [] as no rows", () => {
    expect(parsed("null")).toEqual([]);
    expect(parsed("[]")).toEqual([]);
  });

  it.each([
    ["a truncated batch", `[${'{"Pid":1,"Name":"x"},'.repeat(100)}{"Pid":2,"Na`],
    ["a batch with a broken last row", `[${'{"Pid":1,"Name":"x"},'.repeat(100)}{"Pid":2,"Name":}]`],
    ["an object", '{"Pid":1}'],
    ["a string", '"rows"'],
    ["bytes after the array", `[${'{"Pid":1},'.repeat(100)}{"Pid":2}] x`],
  ])("refuses %s with MalformedResponseError, cut or whole", (_what, text) => {
    for (const piece of [16, undefined]) expect(() => parseRowBatch(Buffer.from(text), piece)).toThrow(MalformedResponseError);
  });

  it("does not repeat row data in the error message", () => {
    const text = `[${'{"Pid":1,"Password":"hunter2"},'.repeat(50)}{"Pid":2,"Password":"hunter2",}]`;
    let message = "";
    try {
      parseRowBatch(Buffer.from(text), 16);
    } catch (e) {
      expect(e).toBeInstanceOf(MalformedResponseError);
      message = (e as Error).message;
    }
    expect(message).toMatch(/not valid JSON/);
    expect(message).not.toContain("hunter2");
  });

  it("parses a piece only when asked: the rows before a malformed piece come first, then MalformedResponseError", () => {
    const good = Array.from({ length: 100 }, (_, i) => ({ Pid: i, Name: `p${i}` }));
    const text = `[${good.map((r) => JSON.stringify(r)).join(",")},{"Pid":100,"Name":]`;
    const bytes = Buffer.from(text);
    const pieces = new RowPieces(bytes, 64);
    const first = pieces.next()!;
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(100);
    expect(first).toEqual(good.slice(0, first.length));
    const seen = [...first];
    let error: unknown;
    try {
      for (let p = pieces.next(); p; p = pieces.next()) seen.push(...p);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MalformedResponseError);
    expect(seen.length).toBeGreaterThan(first.length);
    expect(seen).toEqual(good.slice(0, seen.length));
    expect(pieces.next()).toBeUndefined();
    expect(bytes.toString()).toBe(text);
  });
});
