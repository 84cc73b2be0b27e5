/**
 * Runs a declared tool from the command line: same validation, plan → confirm (--yes), audit and handler as over MCP,
 * with progress drawn as a bar on stderr and the structured result printed as JSON on stdout.
 */
import { SingleBar } from "cli-progress";
import { AuditLog, defaultAuditPath } from "../core/audit.js";
import { InputError } from "../core/errors.js";
import { allows, ModeForbiddenError, resolveMode } from "../mcp/safety/mode.js";
import { ConfirmationRequiredError } from "../mcp/safety/confirm.js";
import type { AnyTool, ToolContext } from "../mcp/tools/define.js";
import { userInfo } from "node:os";
import type { VelociraptorClient } from "../velociraptor/client.js";

export async function runToolCli(def: AnyTool, raw: Record<string, unknown>, o: { yes?: boolean; json?: boolean; client?: () => VelociraptorClient; orgId?: string } = {}): Promise<void> {
  const parsed = def.input.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new InputError(`--${String(i.path[0] ?? "input").replace(/_/g, "-")}`, i.message, `See megaraptor ${def.name.replace(/_/g, "-")} --help.`);
  }
  const args = parsed.data as Record<string, unknown>;
  // The CLI runs as the operator at the terminal: respond mode, with --yes as the explicit confirmation.
  const mode = resolveMode({ mode: process.env.MEGARAPTOR_MODE ?? "respond" });
  if (!allows(mode, def.tier)) throw new ModeForbiddenError(def.name, def.tier, mode);
  const audit = new AuditLog(defaultAuditPath());
  const bar = process.stderr.isTTY ? new SingleBar({ format: "{bar} {value}/{total} {step}", hideCursor: true }) : undefined;
  let started = false;
  const ctx: ToolContext = {
    client:
      o.client ??
      (() => {
        throw new InputError("velociraptor", "this command does not talk to Velociraptor", "");
      }),
    orgId: o.orgId,
    signal: new AbortController().signal,
    mode,
    principal: `${userInfo().username} (cli)`,
    audit,
    progress: async (n, total, message) => {
      if (!bar) return void process.stderr.write(`… ${message ?? ""} ${total ? `${n}/${total}` : ""}\n`);
      if (!started) bar.start(total ?? 1, n, { step: message ?? "" });
      started = true;
      if (total) bar.setTotal(total);
      bar.update(n, { step: message ?? "" });
    },
  };
  const base = { tool: def.name, principal: ctx.principal, mode, arguments: args };
  const audited = typeof def.audit === "function" ? def.audit(args) : def.audit;
  try {
    const plan = def.plan ? await def.plan(args, ctx) : undefined;
    if (plan && !o.yes) {
      await audit.append({ ...base, outcome: "planned", summary: plan.summary });
      process.stdout.write(JSON.stringify({ plan }, null, 2) + "\n");
      throw new ConfirmationRequiredError(`Confirmation required: ${plan.summary}.`, "Review the plan above and rerun with --yes.");
    }
    const r = await def.handler(args, ctx);
    bar?.stop();
    if (audited) await audit.append({ ...base, outcome: "ok", summary: r.auditSummary });
    process.stdout.write(o.json === false ? r.text + "\n" : JSON.stringify(r.structured, null, 2) + "\n");
  } catch (err) {
    bar?.stop();
    const e = err as { code?: string; message?: string };
    if (audited && e.code !== "CONFIRMATION_REQUIRED") await audit.append({ ...base, outcome: "error", error: { code: e.code ?? "INTERNAL", message: e.message ?? String(err) } }).catch(() => undefined);
    throw err;
  }
}
