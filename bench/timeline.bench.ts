/**
 * generate_timeline through the real tool path: the built MCP server (stdio, dist/cli/main.js) resolves a label's
 * scope against the API test server, streams four hosts' Linux.Sys.Pslist flows (250,000 generated rows each, the
 * columns Velociraptor v0.77.2 emits) over gRPC, builds the merged timeline and writes the JSON Lines file.
 *
 * Figures (CPU against CPU, wall against wall, never added):
 * - wall events/s from the call to the written file (target ≥ 500,000 on 1M events);
 * - the tool process's CPU per million events (/proc/<pid>/stat) and the test server's CPU (this process) apart —
 *   on 2 shared cores the server shares the CPU with the tool. The server sends the flows' results from the JSON Lines
 *   files it wrote before the timed run (test-server/result-store.ts), as Velociraptor reads a finished flow's results
 *   from its file store (Velociraptor also decodes and re-encodes each row, which the stand-in does not);
 * - receive floors, each a bare process reading the same rows over gRPC/TLS and keeping nothing
 *   (bench/timeline-receive-child.ts): `transport` (grpc-js and the VQLResponse decoder: each batch as the bytes of
 *   its JSON array), `indexed` (VelociraptorClient#indexedBatches: each batch read once for its rows and columns —
 *   what the tool's build starts from) and, for comparison, `lines` (the JSON Lines split `query --format jsonl`
 *   uses); their CPU per million rows and wall rates. No client on grpc-js goes below the first;
 * - the tool process's peak RSS (target < 250 MB) and growth of heap and RSS over a warmed baseline (bench/mem-probe.mjs);
 * - pages (format=rows, limit 100) first, middle and last of the built timeline (target < 100 ms each), by offset and
 *   through next_cursor, and their equality with the file's events.
 * Correctness checks throw: the file holds every event in time order; pages equal the file's lines.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { MAIN } from "../test/helpers/mcp.js";
import { startTestServer } from "../test-server/index.js";

const HOSTS = 4;
// Smaller runs for profiling: MEGARAPTOR_BENCH_TIMELINE_PER_HOST=50000.
const PER_HOST = Number(process.env.MEGARAPTOR_BENCH_TIMELINE_PER_HOST ?? 250_000);
const LABEL = "bench-timeline";
const TICK = 100; // clock ticks per second (Linux USER_HZ)

const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");
const mb = (b: number) => `${(b / 1e6).toFixed(0)} MB`;

function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) / TICK;
}

function hwm(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024;
}

type Fixture = NonNullable<NonNullable<Parameters<typeof startTestServer>[0]>["fixture"]>;

function fixture(): Fixture {
  const f = JSON.parse(readFileSync(join(import.meta.dirname, "..", "test", "fixtures", "default.json"), "utf8")) as { orgs: { clients: Record<string, unknown>[]; flows: Record<string, unknown>[] }[] };
  const root = f.orgs[0]!;
  const template = root.clients.find((c) => (c.os_info as { system: string }).system === "linux")!;
  for (let h = 0; h < HOSTS; h++) {
    const id = `C.5e6f7a8b9c0d1e${String(h).padStart(2, "0")}`;
    const name = `bench-web-${String(h + 1).padStart(2, "0")}`;
    root.clients.push({ ...template, client_id: id, labels: [LABEL], os_info: { ...(template.os_info as object), hostname: name, fqdn: `${name}.corp.example.com` } });
    root.flows.push({ client_id: id, session_id: `F.BENCHTL${h}`, artifacts: ["Linux.Sys.Pslist"], state: "FINISHED", create_time: 1763899100000000, results: { "Linux.Sys.Pslist": { generate: { rows: PER_HOST, seed: 11 + h } } } });
  }
  return f as unknown as Fixture;
}

interface Mem {
  heap: number;
  rss: number;
  peakHeap: number;
  peakRss: number;
}

export default async function bench(): Promise<void> {
  if (!existsSync(MAIN)) {
    console.log(`skipped: ${MAIN} missing — run npm run build first`);
    return;
  }
  const vr = await startTestServer({ fixture: fixture() });
  // The flows' results go to JSON Lines files before the timed run, as a finished flow's results sit in
  // Velociraptor's file store; the server then sends each batch from its file (test-server/result-store.ts).
  const ts = performance.now();
  const storeCpu0 = process.cpuUsage();
  await vr.storeResults(Array.from({ length: HOSTS }, (_, h) => `F.BENCHTL${h}`));
  const sc = process.cpuUsage(storeCpu0);
  console.log(`test server: ${HOSTS} flows × ${PER_HOST.toLocaleString()} generated Linux.Sys.Pslist rows written to its JSON Lines result store in ${((performance.now() - ts) / 1000).toFixed(1)} s (${((sc.user + sc.system) / 1e6).toFixed(1)} s CPU), before and apart from the timed run`);
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-timeline-"));
  const probe = join(dir, "mem.json");
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...(process.env.MEGARAPTOR_BENCH_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.MEGARAPTOR_BENCH_PROF] : []), "--import", pathToFileURL(join(import.meta.dirname, "mem-probe.mjs")).href, MAIN, "mcp", "--config", vr.writeApiClientYaml(dir), "--audit-log", join(dir, "a.jsonl")],
    env: { PATH: process.env.PATH ?? "", HOME: dir, MEGARAPTOR_LOG_LEVEL: "error", MEGARAPTOR_MEM_PROBE: probe },
    // The server's start-up notices (key roles) are not figures.
    stderr: "ignore",
  });
  const client = new Client({ name: "bench", version: "1" });
  await client.connect(transport);
  const pid = transport.pid!;
  const mem = async () => {
    rmSync(probe, { force: true });
    process.kill(pid, "SIGUSR2");
    for (let i = 0; i < 100 && !existsSync(probe); i++) await new Promise((r) => setTimeout(r, 10));
    return JSON.parse(readFileSync(probe, "utf8")) as Mem;
  };
  type Result = { structuredContent?: Record<string, unknown>; isError?: boolean; content?: { text?: string }[] };
  const tool = async (args: Record<string, unknown>) => {
    const r = (await client.callTool({ name: "generate_timeline", arguments: args }, undefined, { timeout: 600_000 })) as Result;
    if (r.isError) throw new Error(`generate_timeline failed: ${r.content?.[0]?.text ?? ""}`);
    return r.structuredContent!;
  };
  try {
    // Warm-up: the same path on a small flow, so start-up and first-call costs are not counted as growth.
    await tool({ client_id: "C.2b3c4d5e6f7a8b01", flow_ids: ["F.CT2PSLIST01"], format: "jsonl" });
    await new Promise((r) => setTimeout(r, 100));
    const warm = await mem();
    console.log(`load average ${load()} (before)`);

    const scope = { label: LABEL, artifacts: ["Linux.Sys.Pslist"], per_source_cap: 10_000_000 };
    const cpu0 = cpuOf(pid);
    const srv0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await tool({ ...scope, format: "jsonl" });
    const wall = (performance.now() - t0) / 1000;
    const toolCpu = cpuOf(pid) - cpu0;
    const s = process.cpuUsage(srv0);
    const serverCpu = (s.user + s.system) / 1e6;
    await new Promise((r) => setTimeout(r, 60));
    const peak = await mem();
    const file = out.file as { path: string; records: number; bytes: number };
    const n = file.records;
    if (n !== HOSTS * PER_HOST) throw new Error(`expected ${HOSTS * PER_HOST} events, the file has ${n}`);

    // The file: every event, in time order (ties keep source order — not checked here).
    const wanted = new Set([0, Math.floor(n / 2) - 50, n - 100]);
    const lines = new Map<number, string[]>();
    let last = -Infinity;
    let i = 0;
    for await (const line of createInterface({ input: createReadStream(file.path), crlfDelay: Infinity })) {
      const e = JSON.parse(line) as { timestamp_us: number };
      if (e.timestamp_us < last) throw new Error(`file out of order at line ${i + 1}`);
      last = e.timestamp_us;
      for (const w of wanted) if (i >= w && i < w + 100) (lines.get(w) ?? lines.set(w, []).get(w)!).push(line);
      i++;
    }
    if (i !== n) throw new Error(`file has ${i} lines, the tool said ${n}`);

    console.log(`generate_timeline format=jsonl, ${HOSTS} hosts × ${PER_HOST.toLocaleString()} rows (k-way merge of ${HOSTS} sources), through stdio MCP → gRPC test server:`);
    console.log(`  wall ${wall.toFixed(2)} s → ${Math.round(n / wall).toLocaleString()} events/s end to end (target ≥ 500,000), file ${mb(file.bytes)}`);
    console.log(`  tool process CPU ${(toolCpu / (n / 1e6)).toFixed(2)} s per million events (${Math.round(n / toolCpu).toLocaleString()} events per CPU-second)`);
    console.log(`  test server CPU (this process: reading the stored JSON Lines and sending them over gRPC/TLS) ${(serverCpu / (n / 1e6)).toFixed(2)} s per million rows — measured apart, not added`);
    console.log(`  tool process peak RSS ${mb(Math.max(peak.peakRss, hwm(pid)))} (target < 250 MB); growth over the warmed baseline: RSS +${mb(peak.peakRss - warm.rss)}, heap +${mb(peak.peakHeap - warm.heap)} (warm: RSS ${mb(warm.rss)}, heap ${mb(warm.heap)})`);
    console.log(`  load average ${load()} (after the build)`);

    // The receive floors: the same flows read by bare clients in their own processes.
    type Floor = { rows: number; bytes: number; cpu_s: number; wall_s: number; serverCpu: number };
    const floor = async (mode: "transport" | "indexed" | "lines"): Promise<Floor> => {
      const statsOut = join(dir, `receive-${mode}.json`);
      const srv0 = process.cpuUsage();
      const flows = Array.from({ length: HOSTS }, (_, h) => `C.5e6f7a8b9c0d1e${String(h).padStart(2, "0")}:F.BENCHTL${h}`);
      const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "timeline-receive-child.ts"), mode, vr.writeApiClientYaml(dir), statsOut, ...flows], { stdio: ["ignore", "ignore", "inherit"] });
      const [code] = (await once(child, "exit")) as [number | null];
      const sr = process.cpuUsage(srv0);
      if (code !== 0) throw new Error(`timeline-receive-child.ts ${mode} exited with ${code}`);
      return { ...(JSON.parse(readFileSync(statsOut, "utf8")) as Omit<Floor, "serverCpu">), serverCpu: (sr.user + sr.system) / 1e6 };
    };
    const wire = await floor("transport");
    const indexed = await floor("indexed");
    const rec = await floor("lines");
    for (const [name, f] of [["indexed", indexed], ["lines", rec]] as const) {
      if (f.rows !== n) throw new Error(`the ${name} floor read ${f.rows} rows, the timeline has ${n} events`);
      // A compact batch "[r1,r2]" is "r1\nr2\n" as lines: one byte fewer per batch, so the totals must be close.
      if (Math.abs(wire.bytes - f.bytes) > wire.bytes / 1000) throw new Error(`the transport floor received ${wire.bytes} bytes, the ${name} floor ${f.bytes}`);
    }
    const perM = (s: number) => (s / (n / 1e6)).toFixed(2);
    const rate = (f: Floor) => `wall ${f.wall_s.toFixed(2)} s → ${Math.round(n / f.wall_s).toLocaleString()} rows/s (test server ${perM(f.serverCpu)} s CPU per million rows meanwhile)`;
    console.log(`  receive floor, transport (grpc-js + VQLResponse decoder only, batches not split; ${mb(wire.bytes)}): ${perM(wire.cpu_s)} s CPU per million rows, ${rate(wire)}`);
    console.log(`  receive floor, indexed batches (VelociraptorClient.indexedBatches, what the tool reads): ${perM(indexed.cpu_s)} s CPU per million rows (+${perM(indexed.cpu_s - wire.cpu_s)} over transport), ${rate(indexed)}`);
    console.log(`  for comparison, JSON Lines (VelociraptorClient.jsonLines, what query --format jsonl reads): ${perM(rec.cpu_s)} s CPU per million rows, ${rate(rec)}`);
    console.log(`  the tool spends ${(toolCpu / indexed.cpu_s).toFixed(2)}× the indexed floor's CPU and ${(toolCpu / wire.cpu_s).toFixed(2)}× the transport floor's; load average ${load()}`);

    // Pages of the built timeline. The first rows call builds (or reuses) the timeline; then each page is timed.
    const tb = performance.now();
    const first = await tool({ ...scope, limit: 100 });
    const buildMs = performance.now() - tb;
    const pageOf = (r: Record<string, unknown>) => (r.events as Record<string, unknown>[]).map((e) => `${String(e.datetime)} ${String(e.source)} ${String(e.client_id)} ${String(e.message)}`);
    const expectPage = (w: number, got: string[]) => {
      const want = lines.get(w)!.map((l) => {
        const e = JSON.parse(l) as Record<string, unknown>;
        return `${String(e.datetime)} ${String(e.source)} ${String(e.client_id)} ${String(e.message)}`;
      });
      if (got.length !== 100 || got.join("\n") !== want.join("\n")) throw new Error(`page at offset ${w} differs from the file's events ${w + 1}–${w + 100}`);
    };
    expectPage(0, pageOf(first));
    console.log(`  rows: first call (builds the timeline for paging) ${buildMs.toFixed(0)} ms`);
    const times: string[] = [];
    for (const [name, offset] of [["first", 0], ["middle", Math.floor(n / 2) - 50], ["last", n - 100]] as const) {
      const t = performance.now();
      const r = await tool({ ...scope, limit: 100, offset });
      const ms = performance.now() - t;
      expectPage(offset, pageOf(r));
      times.push(`${name} (offset ${offset.toLocaleString()}) ${ms.toFixed(1)} ms`);
    }
    const t = performance.now();
    const next = await tool({ ...scope, limit: 100, cursor: (first.page as { next_cursor: string }).next_cursor });
    const cursorMs = performance.now() - t;
    if ((next.page as { offset: number }).offset !== 100) throw new Error("next_cursor did not continue at 100");
    times.push(`next_cursor (offset 100) ${cursorMs.toFixed(1)} ms`);
    console.log(`  pages of 100 (target < 100 ms each): ${times.join(", ")}`);
    console.log(`  tool process peak RSS over the whole run ${mb(hwm(pid))}; load average ${load()}`);
  } finally {
    await client.close();
    await vr.stop();
    // The evidence file, the server's store and the runs: about 1.6 GB per run, which filled the disk when kept.
    rmSync(dir, { recursive: true, force: true });
  }
}
