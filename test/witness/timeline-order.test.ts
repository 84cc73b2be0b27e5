/**
 * An outside witness for the timeline's order and its page cache: the built `megaraptor mcp` pages a 3-host
 * Linux.Sys.Pslist timeline (24,000 rows, shuffled times with many ties, Go RFC3339Nano forms, zero times) that is
 * big enough to be spilled in several sorted runs; every page (walked by next_cursor, then at random offsets from the
 * cached build, then again after the cache has it) and the written JSON Lines file must equal the order computed apart:
 * the rows read back by pyvelociraptor (Velociraptor's official Python binding — not our client), put in order by
 * test/witness/timeline_expect.py (its own RFC 3339 reader and Python's sort — not our build, merge, spill or cache).
 * Skips with the reason when the venv made by scripts/pyvelociraptor.sh is unavailable.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packageRoot } from "../../core/paths.js";
import type { FixtureInput } from "../../test-server/fixture-schema.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { generatedRows } from "../../test-server/model.js";
import { call, startMcp, type StartedMcp } from "../helpers/mcp.js";
import { pyvelociraptorAvailability, pyvrQuery } from "./pyvr.js";

const run = promisify(execFile);
const pyvr = pyvelociraptorAvailability();
if (!pyvr.ok) console.warn(`SKIP test/witness/timeline-order.test.ts: ${pyvr.reason}`);
const title = pyvr.ok ? `timeline order against pyvelociraptor + an independent sort (${pyvr.versions})` : `timeline order witness — skipped: ${pyvr.reason}`;

const HOSTS = 3;
const PER_HOST = 8_000;
const LABEL = "witness-timeline";
const BASE_US = Date.UTC(2025, 10, 23, 6, 0, 0) * 1000;

/**
 * Go's time.Time as Velociraptor's JSON encoder writes it (RFC3339Nano): the fraction without trailing zeros, and the
 * time's own zone — "Z" for UTC, else the endpoint's offset (Linux.Sys.Pslist reports local times).
 */
function rfc3339Nano(us: number, offsetMinutes: number): string {
  const local = Math.floor(us / 1e6) * 1000 + offsetMinutes * 60_000;
  const whole = new Date(local).toISOString().slice(0, 19);
  const frac = String(us % 1_000_000).padStart(6, "0").replace(/0+$/, "");
  const abs = Math.abs(offsetMinutes);
  const zone = offsetMinutes === 0 ? "Z" : `${offsetMinutes < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
  return `${whole}${frac ? `.${frac}` : ""}${zone}`;
}

/**
 * Deterministic shuffled times: 9,000 distinct seconds over 3 × 8,000 rows (so many ties across and within hosts),
 * in UTC and in three offsets (the same instant written in different zones must tie).
 */
function createTime(h: number, i: number): string {
  const x = (Math.imul(i + 1, 2654435761) ^ Math.imul(h + 7, 40503)) >>> 0;
  // time.Time{} — what Go encodes for a process whose start time is unknown; not an event time.
  if (x % 997 === 0) return "0001-01-01T00:00:00Z";
  const second = x % 9000;
  const frac = [0, 500_000, 123_456, 120_000][x % 4]!; // whole, .5, µs, ms (.12) — each a form Go writes
  return rfc3339Nano(BASE_US + second * 1e6 + frac, [0, 0, 120, -300, 330][x % 5]!);
}

function fixture(): FixtureInput {
  const f = JSON.parse(readFileSync(join(packageRoot(), "test", "fixtures", "default.json"), "utf8")) as FixtureInput;
  const root = f.orgs[0]!;
  const template = root.clients!.find((c) => (c.os_info as { system: string }).system === "linux")!;
  for (let h = 0; h < HOSTS; h++) {
    const id = `C.7a8b9c0d1e2f3a${String(h).padStart(2, "0")}`;
    const name = `witness-web-${h + 1}`;
    root.clients!.push({ ...template, client_id: id, labels: [LABEL], os_info: { ...(template.os_info as object), hostname: name, fqdn: `${name}.corp.example.com` } } as never);
    // Linux.Sys.Pslist rows as the test server generates them (the columns Velociraptor v0.77.2 emits), with the
    // times replaced by shuffled ones.
    const rows = [...generatedRows(PER_HOST, 31 + h)].map((r, i) => ({ ...r, CreateTime: createTime(h, i) }));
    root.flows!.push({ client_id: id, session_id: `F.WITNESSTL${h}`, artifacts: ["Linux.Sys.Pslist"], state: "FINISHED", create_time: 1763899100000000 + h, results: { "Linux.Sys.Pslist": rows } } as never);
  }
  return f;
}

/** An event's datetime (the tool writes µs, UTC) as microseconds since the epoch. */
function eventMicros(datetime: string): number {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z$/.exec(datetime);
  if (!m) throw new Error(`unexpected datetime ${datetime}`);
  return Date.parse(`${m[1]}Z`) * 1000 + Number((m[2] ?? "").padEnd(6, "0"));
}

type Key = [string, string, number];
type Event = { client_id: string; datetime: string; message: string; row?: { Pid: string } };
/** An event's identity: host, process id (from the row, or from the message "name (pid N, ppid M) …") and time. */
function keyOf(e: Event): Key {
  const pid = e.row ? e.row.Pid : /\(pid (\d+),/.exec(e.message)?.[1];
  if (pid === undefined) throw new Error(`no pid in ${e.message}`);
  return [e.client_id, pid, eventMicros(e.datetime)];
}

let vr: TestServer;
let mcp: StartedMcp;
let config: string;
let dir: string;

describe.skipIf(!pyvr.ok)(title, () => {
  beforeAll(async () => {
    vr = await startTestServer({ fixture: fixture() });
    dir = mkdtempSync(join(tmpdir(), "mr-tl-witness-"));
    config = vr.writeApiClientYaml(dir);
    mcp = await startMcp({ args: ["--config", config], env: { MEGARAPTOR_EVIDENCE_DIR: join(dir, "evidence") } });
  }, 120_000);
  afterAll(async () => {
    await mcp?.close();
    await vr?.stop();
  });

  it("every page, the cached pages and the JSON Lines file follow the independently computed order", async () => {
    const scope = { label: LABEL, artifacts: ["Linux.Sys.Pslist"], per_source_cap: 1_000_000 };
    const got: Key[] = [];
    let first = await call(mcp.client, "generate_timeline", { ...scope, limit: 1000 });
    expect(first.ok, first.text).toBe(true);
    const sources = first.structured!.sources as { client_id: string; flow_id: string }[];
    expect(sources).toHaveLength(HOSTS);

    // The witness: each source's rows read by pyvelociraptor (ids through env, as the tool does), ordered in Python.
    const read = [];
    for (const s of sources) {
      const py = await pyvrQuery(pyvr.ok ? pyvr.python : "", { config, query: "SELECT * FROM source(client_id=Client, flow_id=Flow, artifact='Linux.Sys.Pslist')", env: { Client: s.client_id, Flow: s.flow_id } });
      expect(py.error).toBeNull();
      expect(py.rows).toHaveLength(PER_HOST);
      read.push({ client_id: s.client_id, rows: py.rows });
    }
    const input = join(dir, "witness-in.json");
    writeFileSync(input, JSON.stringify({ sources: read }));
    const { stdout } = await run(pyvr.ok ? pyvr.python : "", [join(packageRoot(), "test", "witness", "timeline_expect.py"), input], { maxBuffer: 64 * 1024 * 1024 });
    const want = JSON.parse(stdout) as Key[];
    const zeroTimes = read.reduce((n, s) => n + s.rows.filter((r) => r.CreateTime === "0001-01-01T00:00:00Z").length, 0);
    expect(zeroTimes).toBeGreaterThan(0);
    expect(want).toHaveLength(HOSTS * PER_HOST - zeroTimes);

    // 1. Every page, walked by next_cursor (the first call built the timeline; the rest are served from the cache).
    for (let pages = 0; ; pages++) {
      expect(pages).toBeLessThan(1000);
      got.push(...(first.structured!.events as Event[]).map(keyOf));
      const cursor = first.structured!.page.next_cursor as string | undefined;
      if (!cursor) break;
      first = await call(mcp.client, "generate_timeline", { ...scope, limit: 1000, cursor });
      expect(first.ok, first.text).toBe(true);
    }
    expect(first.structured!.stats.untimed).toBe(zeroTimes);
    expect(got).toEqual(want);

    // 2. Pages with the original rows at offsets across the runs' and index blocks' boundaries, in no particular
    // order. A page of large events may be cut short by the byte cap (it then says so with has_more).
    for (const offset of [want.length - 1, 0, 13_351, 8_191, 8_192, want.length - 100, 20_000, 1]) {
      const r = await call(mcp.client, "generate_timeline", { ...scope, limit: 100, offset, include_rows: true });
      expect(r.ok, r.text).toBe(true);
      const events = (r.structured!.events as Event[]).map(keyOf);
      expect(events.length).toBe(Math.min(events.length, want.length - offset));
      expect(events.length).toBeGreaterThan(Math.min(50, want.length - offset) - 1);
      expect(events).toEqual(want.slice(offset, offset + events.length));
      if (offset + events.length < want.length) expect(r.structured!.page.has_more).toBe(true);
    }

    // 3. The written file: every line in the same order.
    const file = await call(mcp.client, "generate_timeline", { ...scope, format: "jsonl" });
    expect(file.ok, file.text).toBe(true);
    expect(file.structured!.file.records).toBe(want.length);
    // More than two of the build's 8 MiB sorted runs (dfir/analysis/timeline/lines.ts): the merge of spilled runs is
    // what the pages above came from.
    expect(file.structured!.file.bytes).toBeGreaterThan(2 * 8 * 1024 * 1024);
    const lines = readFileSync(file.structured!.file.path as string, "utf8").split("\n").slice(0, -1);
    expect(lines.map((l) => keyOf(JSON.parse(l) as Event))).toEqual(want);
  }, 300_000);
});
