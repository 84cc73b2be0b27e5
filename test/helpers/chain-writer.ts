/**
 * Appends entries to an audit log or a case ledger from its own process, so tests can prove that appends from
 * several processes interleave into one intact chain. Usage: tsx chain-writer.ts audit|ledger <path|case-dir> <count>
 * [start-at-epoch-ms] (MEGARAPTOR_HOME names the shared key folder). The start time lines the processes up, so their
 * appends really overlap instead of one process finishing while the other is still loading.
 */
import { AuditLog } from "../../core/audit.js";
import { ChangeLedger } from "../../dfir/response/ledger.js";

const [kind, target, count, startAt] = process.argv.slice(2);
const n = Number(count);
const wait = Number(startAt ?? 0) - Date.now();
if (wait > 0) await new Promise((r) => setTimeout(r, wait));
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
