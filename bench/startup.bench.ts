/**
 * Start-up: a bare `node -e 0`, `megaraptor --help`, and `megaraptor mcp` from spawn to `initialize` answered and to
 * `tools/list` answered (10 runs each, interleaved so load spikes hit all alike; medians of wall time). Targets:
 * --help within 5× and initialize within 10× of the bare node start. Nothing deploy-related may load on these paths.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { MAIN } from "../test/helpers/mcp.js";

const RUNS = 10;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function timeSpawn(args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return performance.now() - t;
}

async function timeMcp(home: string): Promise<{ initialize: number; toolsList: number }> {
  const t = performance.now();
  const client = new Client({ name: "bench-startup", version: "1" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [MAIN, "mcp"], env: { PATH: process.env.PATH ?? "", HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_LOG_LEVEL: "error" } }));
  const initialize = performance.now() - t;
  await client.listTools();
  const toolsList = performance.now() - t;
  await client.close();
  return { initialize, toolsList };
}

export default async function bench(): Promise<void> {
  if (!existsSync(MAIN)) {
    console.log(`skipped: ${MAIN} missing — run npm run build first`);
    return;
  }
  const home = mkdtempSync(join(tmpdir(), "mr-bench-start-"));
  const bare: number[] = [];
  const help: number[] = [];
  const init: number[] = [];
  const list: number[] = [];
  timeSpawn(["-e", "0"]); // warm the page cache for node itself
  timeSpawn([MAIN, "--help"]);
  for (let i = 0; i < RUNS; i++) {
    bare.push(timeSpawn(["-e", "0"]));
    help.push(timeSpawn([MAIN, "--help"]));
    const m = await timeMcp(home);
    init.push(m.initialize);
    list.push(m.toolsList);
  }
  const b = median(bare);
  const f = (x: number) => `${x.toFixed(0)} ms`;
  console.log(`load average ${loadavg().map((x) => x.toFixed(2)).join(" ")}; ${RUNS} runs each, medians (wall)`);
  console.log(`node -e 0                      ${f(b)}`);
  console.log(`megaraptor --help              ${f(median(help))}  ${(median(help) / b).toFixed(1)}× bare node (target ≤ 5×)`);
  console.log(`megaraptor mcp → initialize    ${f(median(init))}  ${(median(init) / b).toFixed(1)}× bare node (target ≤ 10×)`);
  console.log(`megaraptor mcp → tools/list    ${f(median(list))}`);
}
