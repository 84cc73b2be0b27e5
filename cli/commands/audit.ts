/** `megaraptor audit verify|show`: check the audit log's hash chain, or print entries. */
import type { Command } from "commander";
import { defaultAuditPath, readAudit, verifyAuditFile } from "../../core/audit.js";

export function register(program: Command): void {
  const audit = program.command("audit").description("Inspect the audit log of state-changing actions");
  audit
    .command("verify")
    .description("Check the hash chain; reports the first line that was modified, removed or reordered")
    .option("-f, --file <file>", "audit log (default ~/.megaraptor/audit.jsonl or MEGARAPTOR_AUDIT_LOG)")
    .action((o: { file?: string }) => {
      const path = o.file ?? defaultAuditPath();
      const r = verifyAuditFile(path);
      if (r.ok) process.stdout.write(`OK: ${r.entries} entries, chain intact (${path})\n`);
      else {
        process.stdout.write(`TAMPERED: line ${r.badLine}: ${r.reason} (${path}; ${r.entries} entries verified before it)\n`);
        process.exitCode = 1;
      }
    });
  audit
    .command("show")
    .description("Print entries as JSON Lines")
    .option("-f, --file <file>", "audit log")
    .option("--case <id>", "only this case")
    .option("--since <iso>", "only entries at or after this time")
    .action((o: { file?: string; case?: string; since?: string }) => {
      for (const e of readAudit(o.file ?? defaultAuditPath(), { case: o.case, since: o.since ? new Date(o.since) : undefined })) process.stdout.write(JSON.stringify(e) + "\n");
    });
}
