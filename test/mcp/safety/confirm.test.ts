import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { numericSetting } from "../../../core/settings.js";
import { Runtime } from "../../../mcp/server/context.js";
import { ToolExecutor } from "../../../mcp/server/executor.js";
import { canonicalJson, ConfirmationService, fingerprint } from "../../../mcp/safety/confirm.js";
import { defineTool } from "../../../mcp/tools/define.js";
import { allows, resolveMode } from "../../../mcp/safety/mode.js";

describe("plan → confirm tokens", () => {
  it("binds a token to the exact arguments, in any key order, ignoring the token itself", () => {
    expect(fingerprint("t", { a: 1, b: [1, 2] })).toBe(fingerprint("t", { b: [1, 2], a: 1, confirm_token: "x" }));
    // The reason comes with the confirming call: it is why the human approved, not part of what runs.
    expect(fingerprint("t", { a: 1 })).toBe(fingerprint("t", { a: 1, reason: "contain the host" }));
    expect(fingerprint("t", { a: 1 })).not.toBe(fingerprint("t", { a: 2 }));
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
  });

  it("accepts a token once, for the same tool and arguments, before it expires", () => {
    let now = 1000;
    const svc = new ConfirmationService(5000, () => now);
    const { token } = svc.issue("quarantine_client", { client_id: "C.1" });
    expect(() => svc.consume("quarantine_client", { client_id: "C.1", confirm_token: token }, token)).not.toThrow();
    expect(() => svc.consume("quarantine_client", { client_id: "C.1" }, token)).toThrow(/already used/);
    const t2 = svc.issue("quarantine_client", { client_id: "C.1" }).token;
    expect(() => svc.consume("modify_hunt", { client_id: "C.1" }, t2)).toThrow(/issued for quarantine_client/);
    const t3 = svc.issue("quarantine_client", { client_id: "C.1" }).token;
    expect(() => svc.consume("quarantine_client", { client_id: "C.2" }, t3)).toThrow(/arguments differ/);
    const t4 = svc.issue("quarantine_client", { client_id: "C.1" }).token;
    now += 6000;
    expect(() => svc.consume("quarantine_client", { client_id: "C.1" }, t4)).toThrow(/expired/);
  });
});

describe("token expiry through the executor, on a clock the test controls", () => {
  it("runs a confirmed call within the TTL and refuses the same confirmation after it", async () => {
    let now = 1_000_000;
    const ttl = numericSetting("MEGARAPTOR_CONFIRM_TTL_SECONDS") * 1000;
    const ran: string[] = [];
    const tool = defineTool({
      name: "drop_thing",
      title: "Drop a thing",
      description: "test tool with a plan",
      input: z.object({ id: z.string() }),
      output: z.object({ id: z.string() }),
      preset: "local-delete",
      plan: async (a) => ({ summary: `drop ${a.id}`, details: { id: a.id } }),
      handler: async (a) => (ran.push(a.id), { structured: { id: a.id }, text: `dropped ${a.id}` }),
    });
    const runtime = new Runtime({ mode: "investigate", auditPath: join(mkdtempSync(join(tmpdir(), "mr-ttl-")), "audit.jsonl"), now: () => now });
    const ex = new ToolExecutor(runtime, [tool]);
    const channel = { signal: new AbortController().signal, via: "token" as const };
    const token = async (id: string) => {
      const p = await ex.run(tool, { id }, channel);
      return !p.ok ? String(p.extra?.confirm_token) : "";
    };
    const inTime = await token("a");
    now += ttl - 1;
    expect((await ex.run(tool, { id: "a", confirm_token: inTime }, channel)).ok).toBe(true);
    const late = await token("b");
    now += ttl + 1;
    const r = await ex.run(tool, { id: "b", confirm_token: late }, channel);
    expect(r.ok ? "ran" : r.error.message).toMatch(/expired/);
    expect(ran).toEqual(["a"]);
  });
});

describe("modes", () => {
  it("orders tiers read, evidence, query < investigate < respond", () => {
    expect(allows("read-only", "read")).toBe(true);
    expect(allows("read-only", "evidence")).toBe(true);
    expect(allows("read-only", "query")).toBe(true);
    expect(allows("read-only", "investigate")).toBe(false);
    expect(allows("investigate", "respond")).toBe(false);
    expect(allows("respond", "respond")).toBe(true);
  });

  it("resolves flags and environment, read-only winning", () => {
    expect(resolveMode({}, {})).toBe("investigate");
    expect(resolveMode({ mode: "respond" }, { MEGARAPTOR_READ_ONLY: "1" })).toBe("read-only");
    expect(resolveMode({}, { MEGARAPTOR_MODE: "respond" })).toBe("respond");
    expect(() => resolveMode({ mode: "yolo" }, {})).toThrow(/mode: unknown mode "yolo"/);
  });
});
