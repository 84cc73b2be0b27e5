/**
 * The test server's hand-written VQLResponse encoder (test-server/vql-response-encode.ts) against the codec loaded
 * from proto/velociraptor.proto, which encoded every response before: for the same message the bytes are the same,
 * and both the loaded decoder and the project's static decoder (proto/vql-response.ts) read the same fields back.
 */
import { describe, expect, it } from "vitest";
import { decodeVQLResponse } from "../../proto/vql-response.js";
import { apiServiceDefinition, type WireVQLResponse } from "../../proto/wire.js";
import { encodeVQLResponse, type VQLResponseOut } from "../../test-server/vql-response-encode.js";

const def = apiServiceDefinition().Query!;
const loadedEncode = (m: object) => def.responseSerialize(m);
const loadedDecode = (b: Buffer) => def.responseDeserialize(b) as WireVQLResponse;

const rows = JSON.stringify([{ Pid: 1, Name: "sshd", Path: "C:\\Windows\\日本", Emoji: "🦖", Nul: "\u0000" }]);
const big = JSON.stringify(Array.from({ length: 3000 }, (_, i) => ({ Pid: i, Name: `proc-${i}`, CommandLine: "x".repeat(i % 200) })));

// The messages the server writes (a batch, a log line, the empty last batch) and the edges of each field's encoding.
const messages: [string, VQLResponseOut][] = [
  ["a batch", { Response: rows, Columns: ["Pid", "Name", "Path", "Emoji", "Nul"], Query: { VQL: "SELECT * FROM pslist()", Name: "q" }, query_id: 0, part: 3, timestamp: 1763900000123456 }],
  ["a batch of 3000 rows (a length varint of 3 bytes)", { Response: big, Columns: ["Pid", "Name", "CommandLine"], Query: { VQL: "SELECT * FROM source()", Name: "megaraptor" }, query_id: 2, part: 999, timestamp: Date.now() * 1000 }],
  ["a log line", { log: "Time 0.010: q: Sending response part 0 10 B (1 rows).\n", timestamp: 1763900000123999 }],
  ["the empty last batch", { Response: "[]", Columns: [], Query: { VQL: "", Name: "" }, query_id: 0, part: 0, timestamp: 1 }],
  ["zeros and empty strings are written when given", { Response: "", log: "", org_id: "", timestamp: 0, query_id: "0", part: 0n, total_rows: 0 }],
  ["uint64 past 2^53 and at 2^64-1", { part: "18446744073709551615", total_rows: "9007199254740993", query_id: 2n ** 60n, org_id: "O123" }],
  ["a Query with only a name", { Query: { Name: "n" } }],
  ["a null Query and null fields are left out", { Query: null, Response: rows, log: undefined }],
  ["nothing", {}],
];

describe("encodeVQLResponse", () => {
  it.each(messages)("writes the loaded codec's bytes: %s", (_name, m) => {
    expect(encodeVQLResponse(m).equals(loadedEncode(m))).toBe(true);
  });

  it.each(messages.filter(([, m]) => typeof m.Response === "string"))("takes Response as bytes with the same result: %s", (_name, m) => {
    expect(encodeVQLResponse({ ...m, Response: Buffer.from(m.Response as string) }).equals(loadedEncode(m))).toBe(true);
  });

  it.each(messages)("decodes field by field as the loaded codec's message does: %s", (_name, m) => {
    const ours = encodeVQLResponse(typeof m.Response === "string" ? { ...m, Response: Buffer.from(m.Response) } : m);
    const theirs = loadedEncode(m);
    expect(loadedDecode(ours)).toEqual(loadedDecode(theirs));
    const a = decodeVQLResponse(ours);
    const b = decodeVQLResponse(theirs);
    expect(a.Response.equals(b.Response)).toBe(true);
    expect({ ...a, Response: null }).toEqual({ ...b, Response: null });
  });

  it("refuses a value that is not a uint64, naming the field", () => {
    expect(() => encodeVQLResponse({ part: -1 })).toThrow(/VQLResponse\.part/);
    expect(() => encodeVQLResponse({ timestamp: 1.5 })).toThrow(/VQLResponse\.timestamp/);
    expect(() => encodeVQLResponse({ total_rows: (1n << 64n).toString() })).toThrow(/VQLResponse\.total_rows/);
  });
});
