/** The deploy commands from a shell: the same tools, with --yes as confirmation. */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { describe, expect, it } from "vitest";
import { CLI_MAIN, CLI_NOT_BUILT, cliTitle } from "../helpers/cli.js";

const home = mkdtempSync(join(tmpdir(), "mr-cli-deploy-"));
function cli(args: string[], input?: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [CLI_MAIN, ...args], { env: { PATH: "/usr/bin:/bin", HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_CREDENTIAL_PASSPHRASE: "p" } }, (err, stdout, stderr) =>
      resolve({ code: (err as { code?: number } | null)?.code ?? 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? "");
  });
}

if (CLI_NOT_BUILT) console.warn(`CLI tests skipped: ${CLI_NOT_BUILT}`);

describe.skipIf(!!CLI_NOT_BUILT)(cliTitle("megaraptor deploy commands"), () => {
  it("say the Pulumi CLI is needed and how to install it", async () => {
    const r = await cli(["deployments"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("`pulumi` is not on PATH");
    expect(r.stderr).toContain("get.pulumi.com");
  });

  it("reject bad input naming the option", async () => {
    const r = await cli(["deploy", "--deployment-id", "Bad_Id", "--target", "docker", "--skip-preflight"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--deployment-id/);
  });

  it("store and list credentials without ever printing the secret", async () => {
    expect((await cli(["credentials", "store", "lab", "--kind", "password"], "hunter2\n")).stdout).toContain('Stored password as "lab"');
    const list = await cli(["credentials", "list"]);
    expect(list.stdout).toContain("lab (password)");
    expect(list.stdout + list.stderr).not.toContain("hunter2");
  });
});
