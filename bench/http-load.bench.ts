/**
 * HTTP load: the built `megaraptor mcp --http` (its own process, V8 heap capped with --max-old-space-size) against the
 * API test server. Each round sends 200 parallel cheap calls (get_client_info) and 50 parallel 1000-row pages
 * (get_flow_results over a 1M-row flow, each page at its own offset). Prints p50/p95 per kind, errors, and the
 * server's RSS after each round against a warmed baseline.
 *
 * Targets: no errors and the server alive; after warm-up RSS moves with garbage collection but does not climb: the
 * least-squares slope of RSS over the measured rounds stays under LEAK_MB_PER_ROUND (8 KB kept per call would exceed
 * it), and with the V8 heap capped a real leak would end in an out-of-memory exit, which counts as a failure.
 * MEGARAPTOR_LOAD_HEAP_MB sets the cap (default 128), MEGARAPTOR_LOAD_ROUNDS the measured rounds (default 8).
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN } from "../test/helpers/mcp.js";
import { startTestServer } from "../test-server/index.js";

const CHEAP = 200;
const PAGES = 50;
const WARMUP_ROUNDS = 3;
const ROUNDS = Number(process.env.MEGARAPTOR_LOAD_ROUNDS ?? 8);
const HEAP_MB = Number(process.env.MEGARAPTOR_LOAD_HEAP_MB ?? 128);
/** A steady climb of this much RSS per round (250 calls) is a leak: ≥ 8 KB kept per call. */
const LEAK_MB_PER_ROUND = 2;
const TOKEN = "load-bench-token-0123456789abcdef";
const WIN = "C.1a2b3c4d5e6f7a01";
const LINUX = "C.2b3c4d5e6f7a8b01";

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

/** Least-squares slope of ys over 0..n-1. */
function slopeOf(ys: number[]): number {
  const n = ys.length;
  if (n < 2) return 0;
  const mx = (n - 1) / 2;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  });
  return num / den;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function startHttpServer(config: string, home: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [`--max-old-space-size=${HEAP_MB}`, MAIN, "mcp", "--http", "--port", "0", "--config", config, "--audit-log", join(home, "audit.jsonl")], {
    // Output schemas on: the checks below read structured content, which a page of rows carries only then (without
    // them its text alone is sent: mcp/server/tools.ts).
    env: { PATH: process.env.PATH ?? "", HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_LOG_LEVEL: "error", MEGARAPTOR_HTTP_TOKEN: TOKEN, MEGARAPTOR_OUTPUT_SCHEMAS: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      const m = /on (http:\/\/\S+\/mcp)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`megaraptor mcp --http exited (${code}): ${err}`)));
  });
  return { child, url };
}

async function connect(url: string): Promise<Client> {
  const client = new Client({ name: "load", version: "1" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
  return client;
}

interface Round {
  cheap: number[];
  pages: number[];
  errors: string[];
  wallMs: number;
}

async function round(client: Client, n: number): Promise<Round> {
  const r: Round = { cheap: [], pages: [], errors: [], wallMs: 0 };
  const timed = async (into: number[], name: string, args: Record<string, unknown>, check: (s: Record<string, unknown>) => boolean) => {
    const t = performance.now();
    try {
      const res = (await client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })) as CallToolResult;
      into.push(performance.now() - t);
      if (res.isError) r.errors.push(`${name}: ${JSON.stringify(res.content).slice(0, 200)}`);
      else if (!check(res.structuredContent as Record<string, unknown>)) r.errors.push(`${name}: unexpected answer`);
    } catch (e) {
      r.errors.push(`${name}: ${String(e).slice(0, 200)}`);
    }
  };
  const t0 = performance.now();
  await Promise.all([
    ...Array.from({ length: CHEAP }, () => timed(r.cheap, "get_client_info", { client_id: WIN }, (s) => s.client_id === WIN || JSON.stringify(s).includes(WIN))),
    ...Array.from({ length: PAGES }, (_, i) =>
      // One column, so all 1000 rows fit the 64 KiB result cap (full rows would be cut at ~200 with a cursor).
      timed(r.pages, "get_flow_results", { client_id: LINUX, flow_id: "F.BIGSTREAM01", limit: 1000, columns: ["Pid"], offset: ((n * PAGES + i) % 900) * 1000 }, (s) => Array.isArray(s.rows) && s.rows.length === 1000),
    ),
  ]);
  r.wallMs = performance.now() - t0;
  return r;
}

export default async function bench(): Promise<void> {
  if (!existsSync(MAIN)) {
    console.log(`skipped: ${MAIN} missing — run npm run build first`);
    return;
  }
  if (!existsSync("/proc/self/status")) {
    console.log("skipped: RSS is read from /proc (Linux only)");
    return;
  }
  const vr = await startTestServer();
  const home = mkdtempSync(join(tmpdir(), "mr-bench-load-"));
  const config = vr.writeApiClientYaml(home);
  const { child, url } = await startHttpServer(config, home);
  const pid = child.pid!;
  let exited: string | undefined;
  child.once("exit", (code, sig) => (exited = `exited with ${code ?? sig}`));
  const client = await connect(url);
  const f = (x: number) => `${x.toFixed(1)} ms`;
  try {
    console.log(`megaraptor mcp --http, --max-old-space-size=${HEAP_MB}; each round: ${CHEAP} parallel get_client_info + ${PAGES} parallel 1000-row get_flow_results pages`);
    for (let i = 0; i < WARMUP_ROUNDS; i++) await round(client, i);
    // One call at a time, for scale: the parallel figures below include queueing on this machine's cores.
    const single: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t = performance.now();
      await client.callTool({ name: "get_client_info", arguments: { client_id: WIN } });
      single.push(performance.now() - t);
    }
    console.log(`one call at a time: get_client_info p50 ${f(pct(single, 50))} p95 ${f(pct(single, 95))} (load average ${loadavg().map((x) => x.toFixed(1)).join(" ")}, ${availableParallelism()} cores)`);
    await new Promise((r) => setTimeout(r, 1000));
    const baseline = rssMb(pid);
    console.log(`warmed baseline RSS ${baseline.toFixed(1)} MB (after ${WARMUP_ROUNDS} rounds)`);
    const all: Round[] = [];
    const rss: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const r = await round(client, WARMUP_ROUNDS + i);
      all.push(r);
      rss.push(rssMb(pid));
      console.log(
        `round ${i + 1}: cheap p50 ${f(pct(r.cheap, 50))} p95 ${f(pct(r.cheap, 95))} | pages p50 ${f(pct(r.pages, 50))} p95 ${f(pct(r.pages, 95))} | ${r.errors.length} errors | ${f(r.wallMs)} wall | RSS ${rss[i]!.toFixed(1)} MB (${(rss[i]! - baseline >= 0 ? "+" : "") + (rss[i]! - baseline).toFixed(1)})`,
      );
      if (exited) break;
    }
    const cheap = all.flatMap((r) => r.cheap);
    const pages = all.flatMap((r) => r.pages);
    const errors = all.flatMap((r) => r.errors);
    const growth = rss[rss.length - 1]! - baseline;
    const slope = slopeOf(rss);
    console.log(`all rounds: cheap p50 ${f(pct(cheap, 50))} p95 ${f(pct(cheap, 95))} (${cheap.length} calls) | pages p50 ${f(pct(pages, 50))} p95 ${f(pct(pages, 95))} (${pages.length} calls)`);
    console.log(`errors: ${errors.length}${errors.length ? ` — first: ${errors[0]}` : ""}${exited ? `; the server ${exited}` : ""}`);
    console.log(`RSS: baseline ${baseline.toFixed(1)} MB, peak ${Math.max(...rss).toFixed(1)} MB, last ${rss[rss.length - 1]!.toFixed(1)} MB (${growth >= 0 ? "+" : ""}${growth.toFixed(1)} over baseline), trend ${slope >= 0 ? "+" : ""}${slope.toFixed(2)} MB per round`);
    const ok = errors.length === 0 && !exited && slope < LEAK_MB_PER_ROUND;
    console.log(`${ok ? "PASS" : "FAIL"}: target no errors, no exit under the ${HEAP_MB} MB heap cap, RSS trend < ${LEAK_MB_PER_ROUND} MB per round`);
    if (!ok) process.exitCode = 1;
  } finally {
    await client.close().catch(() => undefined);
    child.kill("SIGTERM");
    await vr.stop();
  }
}
