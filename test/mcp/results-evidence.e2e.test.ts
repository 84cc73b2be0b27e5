/** Context safety and evidence: cursor walks, stacking, spill files, downloads, validation, allow-list, cross-org. */
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generatedByte } from "../../test-server/model.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { call, startMcp, type StartedMcp } from "../helpers/mcp.js";
import { LINUX, WIN } from "../helpers/fixture-ids.js";

let vr: TestServer;
let mcp: StartedMcp;
let configPath: string;
let evidence: string;

beforeAll(async () => {
  vr = await startTestServer();
  configPath = vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-i8-")));
  evidence = mkdtempSync(join(tmpdir(), "mr-evidence-"));
  mcp = await startMcp({ args: ["--config", configPath], env: { MEGARAPTOR_EVIDENCE_DIR: evidence } });
});
afterAll(async () => {
  await mcp.close();
  await vr.stop();
});

describe("paging", () => {
  it("walks 100,000 rows of a 1M-row flow with cursors: no gaps, no repeats", async () => {
    let cursor: string | undefined;
    let expected = 1000;
    for (let page = 0; page < 100; page++) {
      const r = await call(mcp.client, "get_flow_results", { client_id: LINUX, flow_id: "F.BIGSTREAM01", limit: 1000, columns: ["Pid"], ...(cursor ? { cursor } : {}) });
      // Linux.Sys.Pslist writes Pid as a string (the process tracker's id).
      const pids = r.structured!.rows.map((x: { Pid: string }) => Number(x.Pid));
      expect(pids[0]).toBe(expected);
      expect(pids.every((p: number, i: number) => p === expected + i)).toBe(true);
      expected += pids.length;
      cursor = r.structured!.page.next_cursor;
    }
    expect(expected).toBe(1000 + 100_000);
  });
});

describe("stack_results", () => {
  it("stacks a hunt's results rarest first with counts and clients", async () => {
    const r = await call(mcp.client, "stack_results", { hunt_id: "H.CT1HUNT0001", group_by: ["Username"] });
    expect(r.structured!.rows_scanned).toBe(4);
    expect(r.structured!.groups.map((g: any) => [g.key.Username, g.count, g.clients])).toEqual([
      ["CORP\\jdoe", 2, 1],
      ["NT AUTHORITY\\SYSTEM", 2, 1],
    ]);
    expect(r.structured!.coverage.status).toBe("exhaustive");
  });

  it("labels a cut list as truncated", async () => {
    const r = await call(mcp.client, "stack_results", { client_id: WIN, flow_id: "F.CT1PSLIST01", group_by: ["Name"], limit: 2 });
    expect(r.structured!.groups).toHaveLength(2);
    expect(r.structured!.coverage.status).toBe("truncated");
  });
});

describe("evidence", () => {
  it("export_results writes every row to JSON Lines with the right SHA-256", async () => {
    const r = await call(mcp.client, "export_results", { client_id: WIN, flow_id: "F.CT1PSLIST01" });
    const text = readFileSync(r.structured!.path, "utf8");
    expect(r.structured!.rows).toBe(4);
    expect(text.trim().split("\n")).toHaveLength(4);
    expect(createHash("sha256").update(text).digest("hex")).toBe(r.structured!.sha256);
    const res = await mcp.client.readResource({ uri: r.structured!.uri });
    expect((res.contents[0] as { text: string }).text).toBe(text);
  });

  it("run_vql can spill a whole result to a file instead of the conversation", async () => {
    const r = await call(mcp.client, "run_vql", { query: "SELECT Pid FROM source(client_id=C, flow_id='F.BIGSTREAM01')", env: { C: LINUX }, max_rows: 20_000, spill_to_file: true });
    expect(r.structured!.rows).toEqual([]);
    expect(r.structured!.file.rows).toBe(20_000);
    expect(r.structured!.coverage.status).toBe("truncated");
    const text = readFileSync(r.structured!.file.path, "utf8");
    expect(createHash("sha256").update(text).digest("hex")).toBe(r.structured!.file.sha256);
  });

  it("lists uploads and downloads a 50 MB file through VFSGetBuffer with its hash and a custody record", async () => {
    const list = await call(mcp.client, "list_flow_uploads", { client_id: WIN, flow_id: "F.CT1NETSTAT1" });
    const up = list.structured!.rows[0];
    expect(up.size).toBe(52428800);
    const r = await call(mcp.client, "download_flow_file", { client_id: WIN, flow_id: "F.CT1NETSTAT1", path: up.path });
    expect(r.structured!.bytes).toBe(52428800);
    const want = createHash("sha256");
    const buf = Buffer.alloc(1 << 20);
    for (let off = 0; off < 52428800; off += buf.length) {
      for (let i = 0; i < buf.length; i++) buf[i] = generatedByte(off + i);
      want.update(buf);
    }
    expect(r.structured!.sha256).toBe(want.digest("hex"));
    expect(createHash("sha256").update(readFileSync(r.structured!.path)).digest("hex")).toBe(r.structured!.sha256);
    expect(readFileSync(mcp.auditPath, "utf8")).toContain(`chain-of-custody: ${WIN}/F.CT1NETSTAT1`);
    expect(r.text).not.toMatch(/[A-Za-z0-9+/]{200,}/); // no base64 blob in the conversation
  });

  it("export_flow saves the server-built download", async () => {
    const r = await call(mcp.client, "export_flow", { client_id: WIN, flow_id: "F.CT1PSLIST01" });
    expect(r.structured!.bytes).toBeGreaterThan(0);
    expect(createHash("sha256").update(readFileSync(r.structured!.path)).digest("hex")).toBe(r.structured!.sha256);
  });
});

describe("validate_vql and run_vql pre-flight", () => {
  it("reports unknown plugins, bad arguments and unknown artifacts with positions and suggestions", async () => {
    const r = await call(mcp.client, "validate_vql", { query: "SELECT * FROM clinets()\nSELECT * FROM flows(client=1)\nSELECT * FROM Artifact.Windows.System.Pslst()" });
    expect(r.structured!.valid).toBe(false);
    const msgs = r.structured!.issues.map((i: any) => `${i.line}:${i.column} ${i.message} ${i.hint ?? ""}`);
    expect(msgs[0]).toMatch(/^1:15 unknown plugin clinets did you mean clients/);
    expect(msgs.some((m: string) => /^2:15 flows: unexpected argument client/.test(m))).toBe(true);
    expect(msgs.some((m: string) => /^3:15 unknown artifact Windows.System.Pslst did you mean Windows.System.Pslist/.test(m))).toBe(true);
    expect((await call(mcp.client, "validate_vql", { query: "SELECT * FROM clients(search='x')" })).structured!.valid).toBe(true);
  });

  it("run_vql refuses a query that fails validation unless skip_validation is set", async () => {
    const refused = await call(mcp.client, "run_vql", { query: "SELECT * FROM clinets()" });
    expect(refused.error?.code).toBe("INVALID_INPUT");
    expect(refused.error?.message).toContain("did you mean clients");
    // An unknown call may do anything, so skipping validation does not make it runnable below respond mode.
    const args = { query: "SELECT * FROM clinets()", skip_validation: true };
    const refused2 = await call(mcp.client, "run_vql", args);
    expect(refused2.error?.code).toBe("MODE_FORBIDDEN");
    expect(refused2.error?.message).toContain("clinets");
  });
});

describe("multi-org", () => {
  it("find_client searches every org", async () => {
    const r = await call(mcp.client, "find_client", { hostname: "SUB-WKS" });
    expect(r.structured!.matches).toEqual([{ org_id: "O123", client_id: "C.4d5e6f7a8b9c0d01", hostname: "SUB-WKS-01", os: "windows" }]);
    expect(r.structured!.orgs_searched).toEqual(["root", "O123"]);
  });
});

describe("artifact allow-list", () => {
  it("refuses unlisted artifacts and artifacts whose pinned definition changed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-allow-"));
    const file = join(dir, "allow.yaml");
    writeFileSync(file, `- Linux.Sys.Pslist\n- name: Windows.System.Pslist\n  sha256: ${"0".repeat(64)}\n`);
    const m = await startMcp({ args: ["--config", configPath], env: { MEGARAPTOR_ARTIFACT_ALLOWLIST: file } });
    try {
      const notListed = await call(m.client, "collect_artifact", { client_id: WIN, artifacts: ["Windows.Network.Netstat"] });
      expect(notListed.error?.code).toBe("ARTIFACT_NOT_ALLOWED");
      const changed = await call(m.client, "collect_artifact", { client_id: WIN, artifacts: ["Windows.System.Pslist"] });
      expect(changed.error?.code).toBe("ARTIFACT_NOT_ALLOWED");
      expect(changed.error?.message).toMatch(/definition changed/);
      expect((await call(m.client, "collect_artifact", { client_id: LINUX, artifacts: ["Linux.Sys.Pslist"] })).ok).toBe(true);
    } finally {
      await m.close();
    }
  });
});
