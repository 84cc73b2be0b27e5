/**
 * What went wrong in a failed Pulumi operation, in one line for DeploymentFailedError. The CLI's output ends with a
 * Diagnostics section where each resource's error keeps its own lines at one indentation:
 *
 *     pulumi-nodejs:dynamic:Resource (lab-install):
 *       error: SSH to root@192.0.2.10:22: "download the binary" failed (exit 65):
 *       binarySha256: https://… has SHA-256 …, not the pinned …; refused, nothing was installed
 *
 * Picking only lines that say "error" or "failed" kept the first line and dropped the reason (seen in a real run
 * against a wrong SHA-256), so an error block is read whole: its "error:" line and the lines under it.
 */

/** The stack's own summary, which says nothing the resource errors do not. */
const GENERIC = /^update (failed|canceled)$|^preview failed$|^refresh failed$|^destroy failed$/;

export function failureDetail(message: string, maxLength = 2000): string {
  const lines = message.split("\n");
  const blocks: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)error: (.*)$/.exec(lines[i]!);
    if (!m) continue;
    const indent = m[1]!.length;
    const block = [m[2]!.trim()];
    while (i + 1 < lines.length) {
      const next = lines[i + 1]!;
      const nextIndent = next.length - next.trimStart().length;
      if (!next.trim() || nextIndent < indent || /^\s*(error|warning): /.test(next)) break;
      block.push(next.trim());
      i++;
    }
    blocks.push(block.join(" "));
  }
  // A cancelled or failed stack with no resource error says only that; otherwise the resource errors say why.
  const specific = blocks.filter((b) => !GENERIC.test(b));
  const chosen = specific.length ? specific : blocks;
  // The message repeats the CLI's output (stdout, then the error's own copy): one of each.
  const kept = chosen.filter((b, i) => chosen.indexOf(b) === i);
  if (kept.length) return kept.join(" | ").slice(0, maxLength);
  const fallback = lines.filter((l) => /error|failed/i.test(l)).slice(-5).map((l) => l.trim()).join(" | ");
  return (fallback || message).slice(0, maxLength);
}
