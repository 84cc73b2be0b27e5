/**
 * Every tool that writes evidence, through the built `megaraptor mcp` over stdio, with the evidence folder on a real
 * 64 KiB tmpfs: full, then remounted read-only. Each call must answer WRITE_FAILED naming the folder and the fix —
 * not kill the process (EROFS with no 'error' listener did), not hang (a full disk did), not keep a descriptor open,
 * not leave a file behind — and the server must answer the next call. The evidence resource never follows a link.
 */
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { mountSmallDisk, openFilesUnder, type SmallDisk } from "../helpers/mounts.js";
import { call, MAIN, startMcp, type StartedMcp } from "../helpers/mcp.js";
import { LINUX, WIN } from "../helpers/fixture-ids.js";


/** Each tool that writes an evidence file, with valid arguments. */
const WRITERS: [string, (upload: string) => Record<string, unknown>][] = [
  ["export_results", () => ({ client_id: LINUX, flow_id: "F.BIGSTREAM01" })],
  ["run_vql", () => ({ query: "SELECT * FROM source(client_id=C, flow_id='F.BIGSTREAM01')", env: { C: LINUX }, max_rows: 50_000, spill_to_file: true })],
  ["download_flow_file", (upload) => ({ client_id: WIN, flow_id: "F.CT1NETSTAT1", path: upload, max_bytes: 8 * 1024 * 1024 })],
  ["export_flow", () => ({ client_id: WIN, flow_id: "F.CT1PSLIST01" })],
  ["generate_timeline", () => ({ client_id: WIN, format: "jsonl" })],
];

/** Writes to `path` until the file system says ENOSPC. */
function fillDisk(path: string): void {
  const fd = openSync(path, "w");
  const block = Buffer.alloc(4096, 0x55);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

const disk = existsSync(MAIN) ? mountSmallDisk(64) : { skip: "run npm run build first" };
const skipReason = "skip" in disk ? disk.skip : undefined;
if (skipReason) console.warn(`SKIPPED evidence write-failure e2e: ${skipReason}`);

describe.skipIf(skipReason !== undefined)(`evidence writes on a full and a read-only disk${skipReason ? ` (skipped: ${skipReason})` : ""}`, () => {
  const d = disk as SmallDisk;
  let vr: TestServer;
  let mcp: StartedMcp;
  let evidence: string;
  let upload: string;
  let stderr = "";

  beforeAll(async () => {
    evidence = join(d.dir, "evidence");
    mkdirSync(evidence);
    vr = await startTestServer();
    const config = vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-ev-e2e-")));
    // Investigate mode: export_flow asks the server to build its ZIP (a server-side write), which read-only refuses.
    mcp = await startMcp({ args: ["--config", config, "--mode", "investigate"], env: { MEGARAPTOR_EVIDENCE_DIR: evidence } });
    (mcp.client.transport as StdioClientTransport).stderr?.on("data", (b: Buffer) => void (stderr += b.toString()));
    upload = (await call(mcp.client, "list_flow_uploads", { client_id: WIN, flow_id: "F.CT1NETSTAT1" })).structured!.rows[0].path;
  }, 60_000);
  afterAll(async () => {
    await mcp?.close();
    await vr?.stop();
    d.unmount();
  });

  const pid = () => (mcp.client.transport as StdioClientTransport).pid!;

  async function expectHealthy() {
    expect(() => process.kill(pid(), 0)).not.toThrow();
    expect(stderr).not.toMatch(/Unhandled|uncaught/i);
    const next = await call(mcp.client, "get_client_info", { client_id: WIN });
    expect(next.ok).toBe(true);
    expect(readdirSync(evidence)).toEqual([]);
    expect(openFilesUnder(d.dir, pid())).toEqual([]);
  }

  afterEach(() => {
    for (const f of readdirSync(evidence)) rmSync(join(evidence, f), { force: true });
  });

  it.each(WRITERS)("%s on a full disk: WRITE_FAILED (ENOSPC) with the folder and the fix, promptly", async (name, args) => {
    // Fill the disk outside the evidence folder: the evidence file can be created but not one block written.
    const filler = join(d.dir, "filler");
    fillDisk(filler);
    const t0 = Date.now();
    const r = await call(mcp.client, name, args(upload)).finally(() => rmSync(filler, { force: true }));
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(r.ok, JSON.stringify(r.structured ?? {}).slice(0, 200)).toBe(false);
    expect(r.error!.code).toBe("WRITE_FAILED");
    expect(r.error!.message).toContain(evidence);
    expect(r.error!.message).toMatch(/disk is full \(ENOSPC\)/);
    expect(r.error!.hint).toMatch(/MEGARAPTOR_EVIDENCE_DIR/);
    await expectHealthy();
  }, 60_000);

  it.each(WRITERS)("%s on a read-only folder: WRITE_FAILED (EROFS), the process lives", async (name, args) => {
    d.remountReadOnly();
    try {
      const r = await call(mcp.client, name, args(upload));
      expect(r.error?.code).toBe("WRITE_FAILED");
      expect(r.error!.message).toMatch(/read-only \(EROFS\)/);
      expect(r.error!.message).toContain(evidence);
      await expectHealthy();
    } finally {
      d.remountReadWrite();
    }
  }, 60_000);

  it("the evidence resource lists plain files, marks partial ones, and refuses links out of the folder", async () => {
    const outside = join(mkdtempSync(join(tmpdir(), "mr-outside-")), "secret.txt");
    writeFileSync(outside, "outside the evidence folder");
    writeFileSync(join(evidence, "kept.jsonl"), "{}\n");
    writeFileSync(join(evidence, "cut.jsonl.partial"), "{\"a\":");
    symlinkSync(outside, join(evidence, "escape.jsonl"));
    try {
      const { resources } = await mcp.client.listResources();
      const ev = resources.filter((r) => r.uri.startsWith("megaraptor://evidence/"));
      expect(ev.map((r) => r.name).sort()).toEqual(["cut.jsonl.partial (PARTIAL)", "kept.jsonl"]);
      expect(ev.find((r) => r.name.includes("PARTIAL"))!.description).toMatch(/incomplete and not hashed/);
      const kept = await mcp.client.readResource({ uri: "megaraptor://evidence/kept.jsonl" });
      expect((kept.contents[0] as { text: string }).text).toBe("{}\n");
      const escape = await mcp.client.readResource({ uri: "megaraptor://evidence/escape.jsonl" }).then(
        (r) => JSON.stringify(r),
        (e: unknown) => String(e),
      );
      expect(escape).not.toContain("outside the evidence folder");
      expect(escape).toMatch(/not a regular file|link/);
    } finally {
      for (const f of ["kept.jsonl", "cut.jsonl.partial", "escape.jsonl"]) rmSync(join(evidence, f), { force: true });
    }
  });
});
