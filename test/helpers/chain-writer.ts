/**
 * Appends entries to an audit log or a case ledger from its own process, so tests can prove that appends from
 * several processes interleave into one intact chain. Usage: tsx chain-writer.ts audit|ledger <path|case-dir> <count>
 * (MEGARAPTOR_HOME names the shared key folder). A latch lines the processes up, so their appends really overlap
 * instead of one process finishing while the other is still loading: each prints "ready" once loaded and starts when
 * a line arrives on stdin (runWritersTogether sends it when every writer is ready) — no fixed sleep.
 */
import { AuditLog } from "../../core/audit.js";
import { ChangeLedger } from "../../dfir/response/ledger.js";

const [kind, target, count] = process.argv.slice(2);
const n = Number(count);
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
process.stdin.pause();
const tag = `pid-${process.pid}`;

if (kind === "audit") {
  const log = new AuditLog(target!);
  await Promise.all(Array.from({ length: n }, (_, i) => log.append({ tool: "label_client", principal: tag, mode: "investigate", outcome: "ok", arguments: { i } })));
} else if (kind === "ledger") {
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      new ChangeLedger("IR-MULTI", target!).append({
        principal: tag,
        action: "kill_process",
        client_id: "C.1a2b3c4d5e6f7a01",
        target: `evil.exe pid ${1000 + i}`,
        reason: "parallel test",
        before: {},
        result: "ok",
        detail: "killed",
        rollback: { possible: false, how: "a killed process cannot be revived" },
      }),
    ),
  );
} else throw new Error(`unknown kind ${kind}`);

