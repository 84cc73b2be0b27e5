/**
 * Runs a declared tool from the command line through the same executor as the MCP server (mcp/server/executor.ts):
 * the same validation, mode check, plan → confirm, audit and error codes. Here the human at the terminal confirms a
 * plan with --yes (and --reason, required for destructive actions); without --yes the plan is printed and nothing
 * runs. Progress is drawn as a bar on stderr, Ctrl-C cancels the call, and the structured result is printed as JSON.
 */
import { SingleBar } from "cli-progress";
import { resolveMode } from "../mcp/safety/mode.js";
import { strictKey } from "../mcp/safety/key-check.js";
import { Runtime } from "../mcp/server/context.js";
import { ToolExecutor, type Channel } from "../mcp/server/executor.js";
import type { Tool } from "../mcp/tools/define.js";

export interface CliRunOptions {
  /** --yes: the operator approves the plan. */
  yes?: boolean;
  /** --reason: why (required to approve a destructive plan; else the arguments' reason is used). */
  reason?: string;
  /** false prints the human-readable text instead of JSON. */
  json?: boolean;
  /** api_client.yaml (else VELOCIRAPTOR_CONFIG_PATH / VELOCIRAPTOR_* variables), read only if the tool needs it. */
  config?: string;
  orgId?: string;
}

export async function runToolCli(def: Tool, raw: Record<string, unknown>, o: CliRunOptions = {}): Promise<void> {
  // The CLI runs as the operator at the terminal: respond mode unless MEGARAPTOR_MODE says otherwise.
  const runtime = new Runtime({ mode: resolveMode({ mode: process.env.MEGARAPTOR_MODE ?? "respond" }), configPath: o.config, channel: "cli", strictKey: strictKey(undefined) });
  // The key check (defence in depth): strict runs it first and refuses; otherwise it runs beside the tool and its
  // warning is printed when it arrives (waited for briefly at the end, so an unreachable server does not hold the CLI).
  let configured = false;
  try {
    configured = runtime.configured;
  } catch {
    // A broken config is reported by the tool that needs it (CONFIG_INVALID), not by the key check.
  }
  const keyCheck = configured ? (strictKey(undefined) ? await runtime.checkKey(true).then(() => undefined) : runtime.checkKey(false).catch(() => undefined)) : undefined;
  const executor = new ToolExecutor(runtime, [def]);
  const bar = process.stderr.isTTY ? new SingleBar({ format: "{bar} {value}/{total} {step}", hideCursor: true }) : undefined;
  let started = false;
  const cancel = new AbortController();
  const onSigint = () => cancel.abort();
  process.once("SIGINT", onSigint);
  const channel: Channel = {
    signal: cancel.signal,
    via: "cli",
    orgId: o.orgId,
    fieldName: (path) => `--${path.split(".")[0]!.replace(/_/g, "-")}`,
    progress: async (n, total, message) => {
      if (!bar) return void process.stderr.write(`… ${message ?? ""} ${total ? `${n}/${total}` : ""}\n`);
      if (!started) bar.start(total ?? 1, n, { step: message ?? "" });
      started = true;
      if (total) bar.setTotal(total);
      bar.update(n, { step: message ?? "" });
    },
    approve: async (plan, a) => {
      if (o.yes) return { kind: "approved", reason: o.reason?.trim() || a.reason };
      process.stdout.write(JSON.stringify({ plan, reason_required: a.reasonRequired }, null, 2) + "\n");
      return { kind: "plan-only", hint: `Review the plan above and rerun with --yes${a.reasonRequired ? ' and --reason "why" (required: this action is destructive)' : ""}.` };
    },
  };
  try {
    const out = await executor.run(def, raw, channel);
    bar?.stop();
    if (!out.ok) throw out.error;
    for (const w of out.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(o.json === false ? out.result.text + "\n" : JSON.stringify(out.result.structured, null, 2) + "\n");
  } finally {
    bar?.stop();
    process.removeListener("SIGINT", onSigint);
    if (keyCheck) await Promise.race([keyCheck, new Promise((r) => setTimeout(r, 2000).unref())]);
    runtime.close();
  }
}
