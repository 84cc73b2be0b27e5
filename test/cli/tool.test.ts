/** Analysis and response from a shell: `megaraptor tool`, `megaraptor iocs`, against the test server's incident data. */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_MAIN, CLI_NOT_BUILT, cliTitle } from "../helpers/cli.js";
import { packageRoot } from "../../core/paths.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";

const home = mkdtempSync(join(tmpdir(), "mr-cli-tool-"));
let vr: TestServer;
let config: string;

function cli(args: string[], input?: string) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [CLI_MAIN, ...args], { env: { PATH: "/usr/bin:/bin", HOME: home, MEGARAPTOR_HOME: home } }, (err, stdout, stderr) =>
      resolve({ code: (err as { code?: number } | null)?.code ?? 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? "");
  });
}

beforeAll(async () => {
  if (CLI_NOT_BUILT) return console.warn(`CLI tests skipped: ${CLI_NOT_BUILT}`);
  vr = await startTestServer({ fixture: join(packageRoot(), "test", "fixtures", "incident.json"), flowCompletionMs: 100 });
  config = vr.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-cli-tool-cfg-")));
});
afterAll(() => vr?.stop());

describe.skipIf(!!CLI_NOT_BUILT)(cliTitle("megaraptor tool / iocs"), () => {
  it("runs generate_timeline with JSON arguments and prints the structured result", async () => {
    const r = await cli(["tool", "generate_timeline", "--config", config, "--args", JSON.stringify({ client_id: "C.2b3c4d5e6f7a8b01", limit: 3 })]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.events).toHaveLength(3);
    expect(out.page.has_more).toBe(true);
  });

  it("extracts indicators from stdin", async () => {
    const r = await cli(["iocs"], "beacon hxxps://update-check[.]biz/api from 185.220.101[.]4\n");
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).indicators.map((i: { value: string }) => i.value).sort()).toEqual(["185.220.101.4", "https://update-check.biz/api", "update-check.biz"]);
    const quiet = await cli(["iocs"], "from 10.0.0.5 and 192.0.2.7 to 185.220.101.4\n");
    expect(JSON.parse(quiet.stdout).suppressed_values).toEqual({ "non-public address": ["10.0.0.5"], "documentation range (RFC 5737)": ["192.0.2.7"] });
  });

  it("streams a multi-megabyte file in chunks and writes STIX to stdout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mr-cli-iocs-"));
    const file = join(dir, "big.log");
    const filler = "2026-11-20T08:14:03Z INFO nothing to see here pid=5012 version 10.0.19041.1\n".repeat(40_000);
    writeFileSync(file, `${filler}C2 45.77.12.9 and evil[.]biz\n${filler}again 45.77.12.9 from 10.0.0.1\n`);
    const r = await cli(["iocs", file, "--format", "stix", "--case", "IR-9"]);
    expect(r.code).toBe(0);
    const bundle = JSON.parse(r.stdout);
    expect(bundle.objects.filter((x: { type: string }) => x.type === "indicator").map((x: { pattern: string }) => x.pattern).sort()).toEqual(["[domain-name:value = 'evil.biz']", "[ipv4-addr:value = '45.77.12.9']"]);
    expect(r.stderr).toMatch(/2 indicators from [\d,]+ characters; 1 suppressed/);
    expect(r.stderr).toContain("  suppressed (non-public address): 1: 10.0.0.1");
    expect((await cli(["iocs", file, "--format", "pdf"])).stderr).toMatch(/--format: unknown format "pdf"/);
  });

  it("reads a case-wide scope: several clients, or every client with a label", async () => {
    const both = await cli(["iocs", "--config", config, "--client", "C.2b3c4d5e6f7a8b01", "C.1a2b3c4d5e6f7a01"]);
    expect(both.code, both.stderr).toBe(0);
    const out = JSON.parse(both.stdout) as { indicators: { hosts: string[] }[]; scope: { clients: { client_id: string }[] } };
    expect(out.scope.clients.map((c) => c.client_id).sort()).toEqual(["C.1a2b3c4d5e6f7a01", "C.2b3c4d5e6f7a8b01"]);
    const hosts = new Set(out.indicators.flatMap((i) => i.hosts));
    expect(hosts.has("web-prod-01") && hosts.has("WKS-FIN-01")).toBe(true);
    const label = await cli(["iocs", "--config", config, "--label", "webserver"]);
    expect(label.code, label.stderr).toBe(0);
    expect((JSON.parse(label.stdout) as typeof out).scope.clients.map((c) => c.client_id)).toEqual(["C.2b3c4d5e6f7a8b01"]);
    expect((await cli(["iocs", "x.log", "--config", config, "--label", "webserver"])).stderr).toMatch(/files: cannot be combined with --client, --label or --hunt/);
  });

  it("prints the plan of a remediation without --yes, refuses --yes without a reason, then records a confirmed one", async () => {
    const args = { client_id: "C.2b3c4d5e6f7a8b01", pid: 23044, case_id: "CLI-1" };
    const refused = await cli(["tool", "kill_process", "--config", config, "--args", JSON.stringify(args)]);
    expect(refused.code).not.toBe(0);
    expect(JSON.parse(refused.stdout)).toMatchObject({ plan: { summary: "kill pid 23044 on web-prod-01 (C.2b3c4d5e6f7a8b01)" }, reason_required: true });
    expect(refused.stderr).toMatch(/Confirmation required: kill pid 23044 on web-prod-01.*\n.*--yes and --reason/);
    const noReason = await cli(["tool", "kill_process", "--config", config, "--args", JSON.stringify(args), "--yes"]);
    expect(noReason.stderr).toMatch(/needs a reason/);
    const ok = await cli(["tool", "kill_process", "--config", config, "--args", JSON.stringify(args), "--yes", "--reason", "miner"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).ledger[0]).toMatchObject({ seq: 1, action: "kill_process", result: "ok" });
    const ledger = readFileSync(join(home, "cases", "CLI-1", "ledger.jsonl"), "utf8").trim().split("\n");
    expect(ledger).toHaveLength(1);
    expect(JSON.parse(ledger[0]!)).toMatchObject({ reason: "miner" });
    const changes = await cli(["tool", "list_changes", "--args", '{"case_id":"CLI-1"}', "--text"]);
    expect(changes.stdout).toMatch(/#1 .* kill_process C.2b3c4d5e6f7a8b01 kworker pid 23044 → ok/);
  });

  it("names an unknown tool with a suggestion and bad JSON with an example", async () => {
    expect((await cli(["tool", "extract_ioc"])).stderr).toMatch(/Did you mean extract_iocs/);
    expect((await cli(["tool", "extract_iocs", "--args", "{nope"])).stderr).toMatch(/--args: is not a JSON object/);
  });
});
