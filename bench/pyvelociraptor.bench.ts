/**
 * The Python binding as the bar (issue 17). In one run, against the test server on loopback in its own process, the
 * same 1,000,000-row query (~420 bytes a row) is streamed, in alternating order, through
 *   - pyvelociraptor (its generated stubs on grpcio; json.loads per response, every row visited), and
 *   - our VelociraptorClient (every row visited),
 * each in its own process; then the same rows are written as JSON Lines to a file by `megaraptor query --format jsonl`
 * and by pyvelociraptor (json compact, one line per row), and the two files must be byte-identical.
 *
 * Every figure is the client process's own: CPU (user + system, all threads) and peak RSS from wait4(2) in
 * bench/rusage.py, and for the streaming comparison also the CPU spent from opening the channel to the end of the
 * stream, measured inside each process with getrusage(RUSAGE_SELF) — the headline, as it leaves out interpreter
 * start-up on both sides. The server's CPU is read from /proc and printed apart, never added to a client's.
 * Targets: our client's CPU ≤ pyvelociraptor's (ratio ≤ 1.0); `megaraptor query --format jsonl` within 1.2× of
 * pyvelociraptor writing the same JSON Lines, with peak RSS under 100 MB whatever the result size — so the command is
 * also run once on a 3,000,000-row flow (the fixture plus F.BIGSTREAM03, written for this run) and its peak set beside
 * the 1M-row figure.
 *
 * Like with like: `megaraptor query` writes each row's bytes as the server encoded them (velociraptor/json-lines.ts);
 * pyvelociraptor parses and re-serialises (json.dumps, compact, ensure_ascii=False). The two agree byte for byte
 * exactly when re-serialising reproduces the server's encoding, which holds for these rows (ASCII text without < > &,
 * integers, RFC 3339 strings, booleans, as the test server writes them with JSON.stringify). Against a real Velociraptor
 * they would differ on its \u003c-style escapes and on uint64 above 2^53, where our output is Velociraptor's own bytes
 * (test/velociraptor/json-lines.test.ts); the byte check here is then the proof that nothing else differs.
 * MEGARAPTOR_BENCH_RUNS (default 3) sets the rounds; figures are medians over rounds.
 */
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { packageRoot } from "../core/paths.js";
import { pyvelociraptorAvailability, WITNESS_SCRIPT } from "../test/witness/pyvr.js";
import { startTestServerProcess } from "./support.js";

const ROWS = 1_000_000;
const QUERY = "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')";
const RUNS = Math.max(1, Number(process.env.MEGARAPTOR_BENCH_RUNS) || 3);
const root = packageRoot();
const RUSAGE = join(root, "bench", "rusage.py");
const TSX = ["--import", "tsx"];

interface ProcessFigures {
  exit: number;
  cpu_s: number;
  maxrss_kb: number;
  wall_s: number;
}
interface StreamFigures {
  rows: number;
  cpu_stream_s: number;
  wall_stream_s: number;
}
interface Measured {
  proc: ProcessFigures;
  stream?: StreamFigures;
  serverCpu: number;
  load1: number;
}

const load = () => loadavg().map((l) => l.toFixed(2)).join(" ");
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const perMillion = (cpu: number, rows: number) => (cpu * ROWS) / rows;
const mb = (kb: number) => kb / 1024;

/** CPU seconds a process has used so far (utime + stime of /proc/<pid>/stat), or NaN where /proc is absent. */
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;
function procCpu(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / CLK_TCK;
  } catch {
    return NaN;
  }
}

const BIG_ROWS = 3_000_000;
const BIG_QUERY = "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM03')";

/** The default fixture plus F.BIGSTREAM03: F.BIGSTREAM01 (1M generated rows) with BIG_ROWS rows. */
function fixtureWithBigFlow(dir: string): string {
  const fixture = JSON.parse(readFileSync(join(root, "test", "fixtures", "default.json"), "utf8")) as unknown;
  let added = false;
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      const big = v.find((e) => (e as { session_id?: string } | null)?.session_id === "F.BIGSTREAM01") as { results: Record<string, { generate: { rows: number } }> } | undefined;
      if (big && !added) {
        const copy = JSON.parse(JSON.stringify(big)) as typeof big & { session_id: string };
        copy.session_id = "F.BIGSTREAM03";
        for (const r of Object.values(copy.results)) r.generate.rows = BIG_ROWS;
        v.push(copy);
        added = true;
      }
      v.forEach(visit);
    } else if (v && typeof v === "object") Object.values(v).forEach(visit);
  };
  visit(fixture);
  if (!added) throw new Error("test/fixtures/default.json has no F.BIGSTREAM01 to copy for the 3M-row flow");
  const path = join(dir, "fixture-3m.json");
  writeFileSync(path, JSON.stringify(fixture));
  return path;
}

/** The `megaraptor` command as installed: package.json's bin, built with tsc when missing or older than a source. */
function megaraptorBin(): string[] {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { bin: Record<string, string> };
  const bin = join(root, pkg.bin.megaraptor!);
  const newestSource = (dir: string): number => {
    let newest = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (["node_modules", "dist", "test", "bench", ".git"].includes(e.name)) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
      else if (e.name.endsWith(".ts")) newest = Math.max(newest, statSync(p).mtimeMs);
    }
    return newest;
  };
  if (!existsSync(bin) || statSync(bin).mtimeMs < newestSource(root)) {
    console.log(`building ${relative(root, bin)} (missing or older than the sources) …`);
    const b = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.build.json"], { cwd: root, stdio: "inherit" });
    if (b.status !== 0) throw new Error("tsc -p tsconfig.build.json failed; cannot measure the megaraptor command");
  }
  return [bin];
}

/** SHA-256 and line count of a written JSON Lines file. */
function digest(path: string): Promise<{ hash: string; lines: number }> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    let lines = 0;
    createReadStream(path)
      .on("data", (chunk) => {
        const d = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
        h.update(d);
        for (let i = d.indexOf(10); i !== -1; i = d.indexOf(10, i + 1)) lines++;
      })
      .on("end", () => resolve({ hash: h.digest("hex"), lines }))
      .on("error", reject);
  });
}

export default async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "mr-pyvr-bench-"));
  const pyvr = pyvelociraptorAvailability();
  const runnerPython = pyvr.ok ? pyvr.python : ["python3", "python"].find((p) => spawnSync(p, ["--version"]).status === 0);
  if (!pyvr.ok) console.log(`pyvelociraptor side skipped: ${pyvr.reason}`);
  if (!runnerPython) {
    console.log("skipped: no Python to run bench/rusage.py (per-process CPU and peak RSS come from wait4 there)");
    return;
  }
  console.log(`load average at start ${load()} (1, 5, 15 min; ${(await import("node:os")).cpus().length} CPUs)`);
  if (pyvr.ok) console.log(`pyvelociraptor: ${pyvr.versions}, ${spawnSync(pyvr.python, ["--version"], { encoding: "utf8" }).stdout.trim()}; ours: Node ${process.version}`);

  const server = await startTestServerProcess(dir, fixtureWithBigFlow(dir));
  const config = join(dir, "api_client.yaml");
  const cli = megaraptorBin();

  /** Runs one client process under rusage.py, with the server's CPU over the same interval read beside it. */
  const measure = async (argv: string[], o: { stdout?: string; streamStats?: string } = {}): Promise<Measured> => {
    const out = join(dir, "rusage.json");
    const s0 = procCpu(server.pid);
    const child = spawn(runnerPython, [RUSAGE, "--out", out, "--stdout", o.stdout ?? "/dev/null", "--stderr", join(dir, "stderr.txt"), "--", ...argv], { cwd: root, stdio: "inherit" });
    await new Promise((r) => child.on("exit", r));
    const load1 = loadavg()[0]!;
    const proc = JSON.parse(readFileSync(out, "utf8")) as ProcessFigures;
    if (proc.exit !== 0) throw new Error(`${argv.join(" ")} exited ${proc.exit}: ${readFileSync(join(dir, "stderr.txt"), "utf8").slice(-2000)}`);
    const stream = o.streamStats ? (JSON.parse(readFileSync(o.streamStats, "utf8")) as StreamFigures) : undefined;
    return { proc, stream, serverCpu: procCpu(server.pid) - s0, load1 };
  };

  const streamStats = join(dir, "stream.json");
  const runners = {
    pyvelociraptor: () =>
      measure([runnerPython, WITNESS_SCRIPT, "--config", config, "--mode", "count", "--stats-out", streamStats, QUERY], { streamStats }),
    ours: () => measure([process.execPath, ...TSX, join(root, "bench", "stream-child.ts"), config, streamStats, QUERY], { streamStats }),
  };
  const jsonlOut = join(dir, "out.jsonl");
  const writers = {
    pyvelociraptor: () =>
      measure([runnerPython, WITNESS_SCRIPT, "--config", config, "--name", "megaraptor-cli", "--mode", "count", "--jsonl-out", "-", QUERY], { stdout: jsonlOut }),
    megaraptor: () => measure([process.execPath, ...cli, "query", "--config", config, "--format", "jsonl", QUERY], { stdout: jsonlOut }),
  };

  try {
    // Warm the server's JIT so the first measured run does not pay for it (its rows are not counted).
    await measure([process.execPath, ...TSX, join(root, "bench", "stream-child.ts"), config, streamStats, `${QUERY} LIMIT 200000`], { streamStats });

    const streams: Record<"pyvelociraptor" | "ours", Measured[]> = { pyvelociraptor: [], ours: [] };
    const order = (i: number) => (pyvr.ok ? (i % 2 ? (["ours", "pyvelociraptor"] as const) : (["pyvelociraptor", "ours"] as const)) : (["ours"] as const));
    console.log(`\nStreaming ${ROWS.toLocaleString()} rows, max_row 1000, ${RUNS} alternating rounds; each client in its own process`);
    console.log("round  client           rows       stream CPU s  process CPU s  wall s  peak RSS MB  server CPU s  load1");
    for (let i = 0; i < RUNS; i++) {
      for (const who of order(i)) {
        const m = await runners[who]();
        if (m.stream!.rows !== ROWS) throw new Error(`${who} received ${m.stream!.rows} rows, expected ${ROWS}`);
        streams[who].push(m);
        console.log(
          `${String(i + 1).padEnd(7)}${who.padEnd(17)}${m.stream!.rows.toLocaleString().padEnd(11)}${m.stream!.cpu_stream_s.toFixed(2).padEnd(14)}${m.proc.cpu_s.toFixed(2).padEnd(15)}${m.proc.wall_s.toFixed(1).padEnd(8)}${mb(m.proc.maxrss_kb).toFixed(0).padEnd(13)}${m.serverCpu.toFixed(1).padEnd(14)}${m.load1.toFixed(2)}`,
        );
      }
    }
    const cpuPerM = (ms: Measured[]) => median(ms.map((m) => perMillion(m.stream!.cpu_stream_s, m.stream!.rows)));
    const procPerM = (ms: Measured[]) => median(ms.map((m) => perMillion(m.proc.cpu_s, m.stream!.rows)));
    const ours = cpuPerM(streams.ours);
    console.log(`\nour client          ${ours.toFixed(2)} s CPU per 1M rows while streaming (median; ${procPerM(streams.ours).toFixed(2)} s for the whole process incl. Node + tsx start-up)`);
    if (pyvr.ok) {
      const py = cpuPerM(streams.pyvelociraptor);
      console.log(`pyvelociraptor      ${py.toFixed(2)} s CPU per 1M rows while streaming (median; ${procPerM(streams.pyvelociraptor).toFixed(2)} s for the whole process incl. interpreter start-up)`);
      console.log(`ratio ours / pyvelociraptor  ${(ours / py).toFixed(2)} streaming CPU, ${(procPerM(streams.ours) / procPerM(streams.pyvelociraptor)).toFixed(2)} whole process (target ≤ 1.00)`);
    }

    console.log(`\nJSON Lines to a file: \`megaraptor query --format jsonl\` (${relative(root, cli[0]!)}) vs pyvelociraptor writing the same lines`);
    console.log("round  writer           process CPU s  wall s  peak RSS MB  bytes          same bytes  load1");
    const jsonl: Record<"pyvelociraptor" | "megaraptor", Measured[]> = { pyvelociraptor: [], megaraptor: [] };
    let reference: { hash: string; bytes: number } | undefined;
    const jorder = (i: number) => (pyvr.ok ? (i % 2 ? (["megaraptor", "pyvelociraptor"] as const) : (["pyvelociraptor", "megaraptor"] as const)) : (["megaraptor"] as const));
    for (let i = 0; i < RUNS; i++) {
      for (const who of jorder(i)) {
        const m = await writers[who]();
        const bytes = statSync(jsonlOut).size;
        const { hash, lines } = await digest(jsonlOut);
        rmSync(jsonlOut);
        if (lines !== ROWS) throw new Error(`${who} wrote ${lines.toLocaleString()} lines, expected ${ROWS.toLocaleString()}`);
        reference ??= { hash, bytes };
        const same = hash === reference.hash;
        jsonl[who].push(m);
        console.log(
          `${String(i + 1).padEnd(7)}${who.padEnd(17)}${m.proc.cpu_s.toFixed(2).padEnd(15)}${m.proc.wall_s.toFixed(1).padEnd(8)}${mb(m.proc.maxrss_kb).toFixed(0).padEnd(13)}${bytes.toLocaleString().padEnd(15)}${(same ? "yes" : "NO").padEnd(12)}${m.load1.toFixed(2)}`,
        );
        if (!same) throw new Error(`${who} wrote different JSON Lines (${bytes} bytes, sha256 ${hash}) from the first writer (${reference.bytes} bytes, ${reference.hash})`);
      }
    }
    const fig = (ms: Measured[]) => ({ cpu: median(ms.map((m) => m.proc.cpu_s)), wall: median(ms.map((m) => m.proc.wall_s)), rss: median(ms.map((m) => mb(m.proc.maxrss_kb))) });
    const mr = fig(jsonl.megaraptor);
    console.log(`\n${(reference!.bytes / ROWS).toFixed(0)} bytes per row written`);
    console.log(`megaraptor query    ${mr.cpu.toFixed(2)} s CPU, ${mr.wall.toFixed(1)} s wall, ${mr.rss.toFixed(0)} MB peak RSS (medians; target < 100 MB)`);
    if (pyvr.ok) {
      const py = fig(jsonl.pyvelociraptor);
      console.log(`pyvelociraptor      ${py.cpu.toFixed(2)} s CPU, ${py.wall.toFixed(1)} s wall, ${py.rss.toFixed(0)} MB peak RSS (medians)`);
      console.log(`ratio megaraptor / pyvelociraptor  ${(mr.cpu / py.cpu).toFixed(2)} CPU (target ≤ 1.20), ${(mr.wall / py.wall).toFixed(2)} wall, ${(mr.rss / py.rss).toFixed(2)} peak RSS`);
    }

    // Peak memory must not grow with the result: the same command on three times the rows, once.
    console.log(`\n\`megaraptor query --format jsonl\` on ${BIG_ROWS.toLocaleString()} rows (once)`);
    const big = await measure([process.execPath, ...cli, "query", "--config", config, "--format", "jsonl", BIG_QUERY], { stdout: jsonlOut });
    const { lines: bigLines } = await digest(jsonlOut);
    const bigBytes = statSync(jsonlOut).size;
    rmSync(jsonlOut);
    if (bigLines !== BIG_ROWS) throw new Error(`megaraptor wrote ${bigLines.toLocaleString()} lines, expected ${BIG_ROWS.toLocaleString()}`);
    const bigRss = mb(big.proc.maxrss_kb);
    console.log(`megaraptor query    ${big.proc.cpu_s.toFixed(2)} s CPU (${((big.proc.cpu_s * ROWS) / BIG_ROWS).toFixed(2)} s per 1M rows), ${big.proc.wall_s.toFixed(1)} s wall, ${bigBytes.toLocaleString()} bytes, ${bigRss.toFixed(0)} MB peak RSS (load1 ${big.load1.toFixed(2)})`);
    console.log(`peak RSS 1M → 3M rows  ${mr.rss.toFixed(0)} → ${bigRss.toFixed(0)} MB (${bigRss - mr.rss >= 0 ? "+" : ""}${(bigRss - mr.rss).toFixed(0)} MB for 3× the rows; target < 100 MB at any size)`);
    console.log(`load average at end ${load()}`);
  } finally {
    server.kill("SIGTERM");
    rmSync(dir, { recursive: true, force: true });
  }
}
