/**
 * `npm run test-server` by hand: it must write certificates, 0600 keys and a ready api_client.yaml, then answer
 * queries made with that file until it is interrupted.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { once } from "node:events";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VelociraptorClient } from "../../velociraptor/index.js";
import { packageRoot } from "../../core/paths.js";

let child: ChildProcess;
let dir: string;
let stderr = "";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "mr-test-server-"));
  child = spawn(process.execPath, ["--import", "tsx", join(packageRoot(), "test-server/cli.ts"), "--port", "0", "--out-dir", dir], {
    cwd: packageRoot(),
    stdio: ["ignore", "ignore", "pipe"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes("api_client.yaml (admin)")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`test-server exited with ${code}: ${stderr}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill("SIGINT");
    await once(child, "exit");
  }
});

describe("npm run test-server", () => {
  it("prints the address it listens on", () => {
    expect(stderr).toMatch(/listening on 127\.0\.0\.1:\d+/);
  });

  it("writes the CA, the server certificate and owner-only client keys", () => {
    expect(readFileSync(join(dir, "ca.pem"), "utf8")).toContain("BEGIN CERTIFICATE");
    expect(readFileSync(join(dir, "server.pem"), "utf8")).toContain("BEGIN CERTIFICATE");
    expect(statSync(join(dir, "admin.key.pem")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "api_client.yaml")).mode & 0o777).toBe(0o600);
  });

  it("writes an api_client.yaml that the project client can query with", async () => {
    const cfg = parse(readFileSync(join(dir, "api_client.yaml"), "utf8"));
    expect(cfg.name).toBe("admin");
    const client = VelociraptorClient.fromConfig(cfg);
    try {
      const { rows } = await client.queryAll("SELECT client_id FROM clients() LIMIT 1");
      expect(rows).toHaveLength(1);
    } finally {
      client.close();
    }
  });

  it("stops cleanly on SIGINT", async () => {
    child.kill("SIGINT");
    const [code] = await once(child, "exit");
    expect(code).toBe(0);
  });
});
