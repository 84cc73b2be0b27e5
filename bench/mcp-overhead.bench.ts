/**
 * Tool-call overhead: run_vql through the MCP stdio server versus the bare client, same query, calls alternating,
 * wall against wall. Two queries: a 5-row one (the protocol's own cost) and a 50-row page of realistic
 * Linux.Sys.Pslist rows (test/helpers/page-server.ts; where serializing the page shows), with the bytes of that page's
 * result as the client receives it. Target: under 3 ms added at p50. Then the transport's floor: an SDK ping round trip
 * and a tools/call that does no Velociraptor work; and, in the same rotation, the bare client run in a process of its
 * own and asked over stdio (./bare-child.ts), which has the MCP server's process layout without MCP — so what part of
 * the added time is that layout and what part is MCP itself is printed beside the overhead. Beside the wall times, the
 * CPU each of the two processes used per call (MCP server against the bare client in its own process, CPU against CPU),
 * which a shared machine's load disturbs far less.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { VelociraptorClient } from "../velociraptor/client.js";
import { MAIN } from "../test/helpers/mcp.js";
import { PAGE, PAGE_CALLS, pageBytes, startPageServer } from "./pages.js";

const CALLS = 300;
const WARM = 20;

/**
 * CPU time (user + system) a process has used so far, in ms: fields 14 and 15 of /proc/<pid>/stat, in clock ticks of
 * 1/100 s (Linux's USER_HZ). undefined where there is no /proc.
 */
function cpuMs(pid: number | null | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" "); // after "pid (comm) "
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

interface Case {
  label: string;
  vql: string;
  env: Record<string, string>;
  /** Rows the bare client fetches: what run_vql fetches for one page (limit + 1, to know whether more exist). */
  maxRows: number;
  /** Rows per response batch (max_row), as run_vql asks for them (mcp/tools/vql.ts: limit + 2), so both do the same gRPC work. */
  batchRows: number;
  args: Record<string, unknown>;
}

export default async function bench(): Promise<void> {
  if (!existsSync(MAIN)) {
    console.log(`skipped: ${MAIN} missing — run npm run build first`);
    return;
  }
  const vr = await startPageServer();
  const dir = mkdtempSync(join(tmpdir(), "mr-bench-mcp-"));
  const config = vr.writeApiClientYaml(dir, "investigator");
  const bare = VelociraptorClient.fromConfig(vr.apiClientConfig("investigator"));
  const mcp = new Client({ name: "bench", version: "1" });
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, "mcp", "--config", config, "--audit-log", join(dir, "audit.jsonl")], env: { PATH: process.env.PATH ?? "", HOME: dir, MEGARAPTOR_HOME: dir, MEGARAPTOR_LOG_LEVEL: "error" } });
  await mcp.connect(transport);
  // The same bare client in a process of its own, asked over stdio (./bare-child.ts): the MCP server's layout.
  const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "bare-child.ts"), config], { stdio: ["pipe", "pipe", "inherit"], env: { PATH: process.env.PATH ?? "", HOME: dir } });
  const answers = new Map<number, (rows: number) => void>();
  createInterface({ input: child.stdout }).on("line", (l) => {
    const m = JSON.parse(l) as { id: number; rows: unknown[] };
    answers.get(m.id)?.(m.rows.length);
    answers.delete(m.id);
  });
  let asked = 0;
  const viaChild = (c: Case) =>
    new Promise<number>((resolve) => {
      const id = asked++;
      answers.set(id, resolve);
      child.stdin.write(`${JSON.stringify({ id, vql: c.vql, env: c.env, maxRows: c.maxRows, batchRows: c.batchRows })}\n`);
    });
  const page = PAGE_CALLS.find((c) => c.tool === "run_vql")!.args as { query: string; env: Record<string, string> };
  const cases: Case[] = [
    // run_vql's default limit is 50 as well: it asks for batches of 52 rows for the 5-row query too.
    { label: "5 rows", vql: "SELECT client_id, os_info.hostname AS hostname FROM clients() LIMIT 5", env: {}, maxRows: 6, batchRows: PAGE + 2, args: {} },
    { label: `${PAGE}-row page`, vql: page.query, env: page.env, maxRows: PAGE + 1, batchRows: PAGE + 2, args: { env: page.env, limit: PAGE } },
  ];
  const f = (x: number) => `${x.toFixed(2)} ms`;
  try {
    for (const c of cases) {
      const viaMcp = async () => {
        const r = (await mcp.callTool({ name: "run_vql", arguments: { query: c.vql, ...c.args } })) as CallToolResult;
        if (r.isError) throw new Error(JSON.stringify(r.content));
        return r;
      };
      const viaBare = () => bare.queryAll({ vql: c.vql, env: c.env }, { maxRows: c.maxRows, batchRows: c.batchRows });
      for (let i = 0; i < WARM; i++) {
        const want = (await viaBare()).rows.length;
        await viaMcp();
        const got = await viaChild(c);
        if (got !== want) throw new Error(`the bare client in its own process returned ${got} rows, in this process ${want}`);
      }
      const tBare: number[] = [];
      const tMcp: number[] = [];
      const tChild: number[] = [];
      let last: CallToolResult | undefined;
      // Each process works only during its own calls (the rotation waits for every answer), so the CPU it used over
      // the whole rotation, divided by the calls, is its CPU per call.
      const cpu0 = { server: cpuMs(transport.pid), child: cpuMs(child.pid) };
      for (let i = 0; i < CALLS; i++) {
        let t = performance.now();
        await viaBare();
        tBare.push(performance.now() - t);
        t = performance.now();
        last = await viaMcp();
        tMcp.push(performance.now() - t);
        t = performance.now();
        await viaChild(c);
        tChild.push(performance.now() - t);
      }
      const cpu = { server: cpuMs(transport.pid), child: cpuMs(child.pid) };
      const b = pageBytes(last!);
      console.log(`\n${c.label} (${CALLS} calls each, alternating)`);
      console.log(`bare client  p50 ${f(pct(tBare, 50))}  p95 ${f(pct(tBare, 95))}`);
      console.log(`MCP run_vql  p50 ${f(pct(tMcp, 50))}  p95 ${f(pct(tMcp, 95))}`);
      console.log(`added        p50 ${f(pct(tMcp, 50) - pct(tBare, 50))}  p95 ${f(pct(tMcp, 95) - pct(tBare, 95))}  (target < 3 ms at p50)`);
      console.log(`bare client in its own process, asked over stdio (the MCP server's layout without MCP)  p50 ${f(pct(tChild, 50))}  p95 ${f(pct(tChild, 95))}`);
      console.log(`  of the added p50: ${f(pct(tChild, 50) - pct(tBare, 50))} is that layout (a second process and its hop), ${f(pct(tMcp, 50) - pct(tChild, 50))} is MCP (SDK, JSON-RPC, executor)`);
      if (cpu.server !== undefined && cpu.child !== undefined && cpu0.server !== undefined && cpu0.child !== undefined) {
        const [server, bareChild] = [(cpu.server - cpu0.server) / CALLS, (cpu.child - cpu0.child) / CALLS];
        console.log(`CPU per call (user + system, from /proc; less sensitive to the load than wall times)  MCP server ${f(server)}, the bare client in its own process ${f(bareChild)}: MCP's own ${f(server - bareChild)}`);
      } else console.log("CPU per call: not measured (no /proc/<pid>/stat on this system)");
      console.log(`result       ${b.rows} rows, ${(b.result / 1024).toFixed(1)} KB (text ${(b.text / 1024).toFixed(1)} KB, structured ${(b.structured / 1024).toFixed(1)} KB; output schemas off, the default)`);
    }
    // The floor under any tool call: what the stdio transport and the SDK cost with no Velociraptor work at all.
    // ping is one JSON-RPC round trip between the two processes; list_toolsets is a tools/call through the SDK's
    // request and result validation and the executor, answering from memory.
    const tPing: number[] = [];
    const tNoop: number[] = [];
    for (let i = 0; i < WARM; i++) {
      await mcp.ping();
      await mcp.callTool({ name: "list_toolsets", arguments: {} });
    }
    for (let i = 0; i < CALLS; i++) {
      let t = performance.now();
      await mcp.ping();
      tPing.push(performance.now() - t);
      t = performance.now();
      await mcp.callTool({ name: "list_toolsets", arguments: {} });
      tNoop.push(performance.now() - t);
    }
    console.log(`\ntransport floor (${CALLS} calls each, alternating; no Velociraptor query)`);
    console.log(`MCP ping           p50 ${f(pct(tPing, 50))}  p95 ${f(pct(tPing, 95))}  (one JSON-RPC round trip over stdio)`);
    console.log(`MCP list_toolsets  p50 ${f(pct(tNoop, 50))}  p95 ${f(pct(tNoop, 95))}  (a tools/call answered from memory)`);
    console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  } finally {
    child.stdin.end();
    await mcp.close();
    bare.close();
    await vr.stop();
  }
}
