import { describe, expect, it } from "vitest";
import { z } from "zod";
import { decodeCursor, encodeCursor, RowSchema, RowsOutput, shapeRows, withIsoTimes } from "../../mcp/tools/shape.js";

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ i, text: "x".repeat(100) }));

describe("shapeRows", () => {
  it("labels a complete page exhaustive, a narrowed one filtered, a running one provisional", () => {
    expect(shapeRows({ rows: rows(3), offset: 0, limit: 10, queryKey: "k" }).coverage.status).toBe("exhaustive");
    expect(shapeRows({ rows: rows(3), offset: 0, limit: 10, queryKey: "k", filtered: "search" }).coverage.status).toBe("filtered");
    expect(shapeRows({ rows: rows(3), offset: 0, limit: 10, queryKey: "k", provisional: "running" }).coverage.status).toBe("provisional");
  });

  it("marks truncation when more rows exist and hands back a cursor to the next row", () => {
    const s = shapeRows({ rows: rows(11), offset: 20, limit: 10, queryKey: "k" });
    expect(s.coverage.status).toBe("truncated");
    expect(s.rows).toHaveLength(10);
    expect(decodeCursor(s.page.next_cursor!, "k")).toBe(30);
  });

  it("cuts by bytes with an explicit notice, never silently", () => {
    const s = shapeRows({ rows: rows(50), offset: 0, limit: 50, queryKey: "k", byteCap: 1000 });
    expect(s.rows.length).toBeLessThan(10);
    expect(s.coverage.status).toBe("truncated");
    expect(s.coverage.note).toMatch(/1000-byte result cap/);
    expect(decodeCursor(s.page.next_cursor!, "k")).toBe(s.rows.length);
  });

  it("rejects a cursor from another query or a forged one", () => {
    const c = encodeCursor("a", 5);
    expect(() => decodeCursor(c, "b")).toThrow(/different query/);
    const forged = Buffer.from(JSON.stringify({ q: "a", o: 999 })).toString("base64url") + "." + c.split(".")[1];
    expect(() => decodeCursor(forged, "a")).toThrow(/not issued by this server/);
  });

  it("adds ISO renderings of µs and s timestamps in time fields, keeping raw values", () => {
    expect(withIsoTimes({ last_seen_at: 1_763_900_000_000_000, create_time: 1_763_900_000, Pid: 1_763_900_000 })).toEqual({
      last_seen_at: 1_763_900_000_000_000,
      last_seen_at_iso: "2025-11-23T12:13:20.000Z",
      create_time: 1_763_900_000,
      create_time_iso: "2025-11-23T12:13:20.000Z",
      Pid: 1_763_900_000,
    });
  });

  it("keeps nested columns named by path (Authenticode.Trusted), as stack_results and correlate read them", () => {
    const row = { OSPath: "C:\\x.exe", Authenticode: { Trusted: "untrusted", SubjectName: "CN=x" }, Size: 1 };
    const s = shapeRows({ rows: [row], offset: 0, limit: 10, queryKey: "k", columns: ["OSPath", "Authenticode.Trusted", "Missing.Path"] });
    expect(s.rows[0]).toEqual({ OSPath: "C:\\x.exe", "Authenticode.Trusted": "untrusted" });
  });
});

/** The row schema of every page's output: listed as z.record lists it, checked cheaply (mcp/tools/shape.ts RowSchema). */
describe("RowSchema", () => {
  const json = (s: z.ZodType) => z.toJSONSchema(s, { target: "draft-7", io: "output", unrepresentable: "any" });

  it("lists exactly as z.record(z.string(), z.unknown()) does, so tools/list and its outputSchemas are unchanged", () => {
    expect(json(z.object(RowsOutput))).toEqual(json(z.object({ ...RowsOutput, rows: z.array(z.record(z.string(), z.unknown())) })));
  });

  it("still refuses what is not a row: the executor's output check catches a tool returning one", () => {
    for (const bad of [null, [1, 2], "row", 1, undefined]) expect(RowSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    expect(z.object(RowsOutput).safeParse({ rows: [{ a: 1 }, [1]], page: { offset: 0, returned: 2, has_more: false }, coverage: { status: "exhaustive", note: "" } }).success).toBe(false);
    expect(RowSchema.safeParse({ a: 1, b: { c: [null] } }).success).toBe(true);
  });
});
