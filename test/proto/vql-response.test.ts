/**
 * The static VQLResponse decoder (proto/vql-response.ts) against the codec loaded from proto/velociraptor.proto: the
 * same bytes must give the same fields, with Response as the same text in bytes.
 */
import { describe, expect, it } from "vitest";
import { decodeVQLResponse } from "../../proto/vql-response.js";
import { apiServiceDefinition, type WireVQLResponse } from "../../proto/wire.js";

const def = apiServiceDefinition().Query!;
const encode = (m: Partial<WireVQLResponse> & Record<string, unknown>) => def.responseSerialize(m);
const loaded = (b: Buffer) => def.responseDeserialize(b) as WireVQLResponse;

const messages: (Partial<WireVQLResponse> & Record<string, unknown>)[] = [
  { Response: JSON.stringify([{ Pid: 1, Name: "sshd", Path: "C:\\Windows\\日本" }]), Columns: ["Pid", "Name", "Path"], Query: { VQL: "SELECT * FROM pslist()", Name: "q" }, timestamp: "1763900000123456", query_id: "0", part: "3" },
  { log: "Time 0.01: q: Sending response part 0 10 B (1 rows).\n", timestamp: "1763900000123999" },
  { Response: "[]", Columns: [], part: "18446744073709551615", total_rows: "9007199254740993", org_id: "O123" },
  // Fields this decoder does not return (types, JSONLResponse, query_start_row, CompressedJsonResponse) are skipped.
  { Response: "[{}]", types: [{ column: "a", type: "int" }], JSONLResponse: "{}\n", query_start_row: "7", uncompressed_size: "5", byte_offset: "300", CompressedJsonResponse: Buffer.from([1, 2, 3]) },
  {},
];

describe("decodeVQLResponse", () => {
  it.each(messages.map((m, i) => [i, m] as const))("decodes message %i as the loaded codec does", (_i, m) => {
    const bytes = encode(m);
    const ours = decodeVQLResponse(bytes);
    const theirs = loaded(bytes);
    expect(ours.Response.toString("utf8")).toBe(theirs.Response);
    expect(ours.Columns).toEqual(theirs.Columns);
    expect(ours.Query).toEqual(theirs.Query ? { VQL: theirs.Query.VQL, Name: theirs.Query.Name } : null);
    expect(ours.log).toBe(theirs.log);
    expect(ours.org_id).toBe(theirs.org_id);
    for (const f of ["timestamp", "query_id", "part", "total_rows"] as const) expect(ours[f], f).toBe(String(theirs[f]));
  });

  it("hands Response over as a view of the message, not a copy", () => {
    const bytes = encode({ Response: '[{"a":1}]' });
    const ours = decodeVQLResponse(bytes);
    expect(ours.Response.buffer).toBe(bytes.buffer);
  });

  it("refuses a message cut inside a field", () => {
    const bytes = encode({ Response: '[{"a":1}]', log: "x" });
    expect(() => decodeVQLResponse(bytes.subarray(0, bytes.length - 2))).toThrow(RangeError);
  });
});
