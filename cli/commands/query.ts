/**
 * `megaraptor query` and `megaraptor check`: VQL from the command line. Rows go to stdout as they arrive (JSON Lines
 * by default), server logs to stderr, and errors end with a non-zero exit and the error's next step.
 */
import { Command, InvalidArgumentError } from "commander";
import { once } from "node:events";
import { InputError } from "../../core/errors.js";
import type { Row } from "../../velociraptor/index.js";

/** The client (gRPC, proto loader) loads when a query runs, not for --help. */
const velociraptor = () => import("../../velociraptor/index.js");

function collectEnv(value: string, previous: Record<string, string>): Record<string, string> {
  const i = value.indexOf("=");
  if (i <= 0) throw new InvalidArgumentError(`expected NAME=value, got "${value}"`);
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError("expected a positive whole number");
  return n;
}

/**
 * Writes one chunk and waits for 'drain' when the stream's buffer is full: while this waits, the query stream is not
 * read, so gRPC flow control holds the server back instead of rows piling up in memory when the reader (a pipe, a
 * file on a slow disk) is slower than the server. One write per result batch, not per row: a syscall per row was a
 * measurable part of the CPU.
 */
async function writeChunk(out: NodeJS.WritableStream, chunk: Buffer): Promise<void> {
  // once() rejects on 'error' (e.g. EPIPE when the reader went away), so a closed pipe ends the query, not hangs it.
  if (!out.write(chunk)) await once(out, "drain");
}

function renderTable(rows: Row[], columns: string[]): string {
  const cols = columns.length ? columns : [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cell = (v: unknown) => (v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v)).replace(/\s+/g, " ").slice(0, 80);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(cols), line(widths.map((w) => "-".repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join("\n") + "\n";
}

export function register(program: Command): void {
  program
    .command("query")
    .description("Run VQL on the Velociraptor server; rows to stdout, logs to stderr")
    .argument("<vql>", "the VQL to run; pass user values with --env, never inside the text")
    .option("-c, --config <file>", "api_client.yaml (default: VELOCIRAPTOR_CONFIG_PATH, VELOCIRAPTOR_API_FILE or VELOCIRAPTOR_* variables)")
    .option("-e, --env <name=value>", "a query parameter, readable in VQL by its name (repeatable)", collectEnv, {})
    .option("--org <id>", "org id (default: the user's default org)")
    .option("-f, --format <format>", "jsonl | json | table", "jsonl")
    .option("-n, --max-rows <n>", "stop after this many rows", positiveInt)
    .option("-t, --timeout <seconds>", "server-side query timeout", positiveInt)
    .action(async (vql: string, o: { config?: string; env: Record<string, string>; org?: string; format: string; maxRows?: number; timeout?: number }) => {
      if (!["jsonl", "json", "table"].includes(o.format)) throw new InputError("--format", `unknown format "${o.format}"`, "Use jsonl, json or table.");
      const { checkEnv, loadApiClientConfig, VelociraptorClient } = await velociraptor();
      const client = VelociraptorClient.fromConfig(loadApiClientConfig({ path: o.config }));
      try {
        const stream = client.query({ vql, env: checkEnv(o.env) }, { orgId: o.org, maxRows: o.maxRows, timeoutSeconds: o.timeout, name: "megaraptor-cli" });
        const buffered: Row[] = [];
        let logged = 0;
        const flushLogs = () => {
          for (; logged < stream.logs.length; logged++) {
            const l = stream.logs[logged]!;
            if (l.level !== "debug") process.stderr.write(`[${l.level}] ${l.message}\n`);
          }
        };
        try {
          if (o.format === "jsonl") {
            // Each row exactly as the server encoded it, never parsed (velociraptor/json-lines.ts says why).
            for await (const chunk of stream.jsonLines()) {
              flushLogs();
              await writeChunk(process.stdout, chunk);
            }
          } else {
            for await (const row of stream) {
              flushLogs();
              buffered.push(row);
            }
          }
        } finally {
          flushLogs();
        }
        if (o.format === "json") process.stdout.write(JSON.stringify(buffered, null, 2) + "\n");
        if (o.format === "table") process.stdout.write(renderTable(buffered, stream.columns));
        if (stream.truncated) process.stderr.write(`(stopped after ${o.maxRows} rows; raise --max-rows for more)\n`);
      } finally {
        client.close();
      }
    });

  program
    .command("check")
    .description("Check the connection to the Velociraptor API (mTLS, Check RPC, server version; host name where the key holds MACHINE_STATE)")
    .option("-c, --config <file>", "api_client.yaml")
    .action(async (o: { config?: string }) => {
      const { loadApiClientConfig, VelociraptorClient } = await velociraptor();
      const client = VelociraptorClient.fromConfig(loadApiClientConfig({ path: o.config }));
      try {
        const h = await client.healthCheck();
        process.stdout.write(JSON.stringify({ address: client.address, ...h }, null, 2) + "\n");
        if (!h.serving) process.exitCode = 1;
      } finally {
        client.close();
      }
    });
}
