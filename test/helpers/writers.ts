/**
 * Runs several chain-writer processes (./chain-writer.ts) released together by a latch: each reports "ready" once
 * loaded, and all get "go" at the same moment, so their appends overlap whatever their load times.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { packageRoot } from "../../core/paths.js";

export async function runWritersTogether(n: number, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const children = Array.from({ length: n }, () => spawn(process.execPath, ["--import", "tsx", join(packageRoot(), "test", "helpers", "chain-writer.ts"), ...args], { cwd: packageRoot(), env, stdio: ["pipe", "pipe", "pipe"] }));
  const exits = children.map(
    (c) =>
      new Promise<void>((resolve, reject) => {
        let stderr = "";
        c.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        c.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`chain-writer exited ${code}: ${stderr}`))));
      }),
  );
  const ready = children.map((c) => new Promise<void>((resolve) => c.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && resolve())));
  await Promise.race([Promise.all(ready), Promise.all(exits)]);
  for (const c of children) c.stdin.end("go\n");
  await Promise.all(exits);
}
