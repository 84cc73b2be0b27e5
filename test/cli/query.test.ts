/** The `megaraptor query` command end to end: a child process against the test server. */
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_MAIN, CLI_NOT_BUILT, cliTitle } from "../helpers/cli.js";
import { startTestServer, type TestServer } from "../../test-server/index.js";
import { VelociraptorClient } from "../../velociraptor/client.js";
import { parseApiClientYaml } from "../../velociraptor/config.js";
import { readFileSync } from "node:fs";

const run = promisify(execFile);
let server: TestServer;
let config: string;

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(process.execPath, [CLI_MAIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    maxBuffer: 64 * 1024 * 1024,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

beforeAll(async () => {
  if (CLI_NOT_BUILT) return console.warn(`CLI tests skipped: ${CLI_NOT_BUILT}`);
  server = await startTestServer();
  config = server.writeApiClientYaml(mkdtempSync(join(tmpdir(), "mr-cli-")));
});
afterAll(() => server?.stop());

describe.skipIf(!!CLI_NOT_BUILT)(cliTitle("megaraptor query"), () => {
  it("prints one JSON object per row on stdout and logs on stderr", async () => {
    const r = await cli(["query", "--config", config, "--env", "T=label:server", "SELECT client_id FROM clients(search=T)"]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.map((x) => x.client_id).sort()).toEqual(["C.1a2b3c4d5e6f7a03", "C.2b3c4d5e6f7a8b01", "C.2b3c4d5e6f7a8b02"]);
    expect(r.stderr).toContain("Starting query execution.");
  });

  it("--format jsonl writes the same lines as JSON.stringify of each row, across batches, and stops at --max-rows", async () => {
    const vql = "SELECT * FROM source(client_id='C.2b3c4d5e6f7a8b01', flow_id='F.BIGSTREAM01')";
    const r = await cli(["query", "--config", config, "--max-rows", "2500", vql]);
    expect(r.code, r.stderr).toBe(0);
    const client = VelociraptorClient.fromConfig(parseApiClientYaml(readFileSync(config, "utf8"), config));
    try {
      const { rows } = await client.queryAll(vql, { maxRows: 2500 });
      expect(rows).toHaveLength(2500);
      expect(r.stdout).toBe(rows.map((row) => JSON.stringify(row) + "\n").join(""));
    } finally {
      client.close();
    }
    expect(r.stderr).toContain("stopped after 2500 rows");
  });

  it("exits non-zero with the server's message and the next step on a VQL error", async () => {
    const r = await cli(["query", "--config", config, "SELECT hunt_update(hunt_id='H.1', state='PAUSED') FROM scope()"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("hunt_update: Unexpected arg state");
    expect(r.stderr).toContain("Next step:");
  });

  it("says how to configure when no configuration exists", async () => {
    const r = await cli(["query", "SELECT 1 FROM scope()"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("VELOCIRAPTOR_CONFIG_PATH");
  });

  it("rejects a malformed --env with exit code 1 and the expected form", async () => {
    const r = await cli(["query", "--config", config, "--env", "novalue", "SELECT 1 FROM scope()"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("expected NAME=value");
  });

  it("--help lists the subcommands", async () => {
    const r = await cli(["--help"]);
    expect(r.stdout).toMatch(/query/);
    expect(r.stdout).toMatch(/check/);
  });
});
