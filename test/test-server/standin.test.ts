/**
 * The Velociraptor stand-in, as the one-file bundle a test host installs as /usr/local/bin/velociraptor, driven by
 * a server.config.yaml rendered by components/config/render.ts: its commands write the users and roles the API then
 * enforces, and it refuses what Velociraptor 0.77.2 refuses, with Velociraptor's messages (docs/velociraptor-rules.md).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { userBootstrapScript } from "../../components/common/users.js";
import { renderServerConfig } from "../../components/config/render.js";
import { generatePki, type PkiOutputs } from "../../components/pki/provider.js";
import { loadProfile } from "../../profiles/index.js";
import { buildStandIn } from "../../test-server/build-standin.js";
import { parseApiClientYaml, UserNotFoundError, VelociraptorClient } from "../../velociraptor/index.js";
import { freePort } from "../helpers/ports.js";

let dir: string;
let bin: string;
let configPath: string;
let datastore: string;
let pki: PkiOutputs;
const ports = { api: 0, frontend: 0, gui: 0, monitoring: 0 };

/** Runs one stand-in command to completion. */
function vr(args: string[], config = configPath) {
  const r = spawnSync(process.execPath, [bin, "--config", config, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `frontend`; resolves once it listens. */
async function frontend(config = configPath): Promise<ChildProcess> {
  const child = spawn(process.execPath, [bin, "--config", config, "frontend"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("gRPC API on")) resolve();
    });
    child.on("exit", (code) => reject(new Error(`frontend exited ${code}: ${err}`)));
  });
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill("SIGTERM");
  await once(child, "exit");
}

function httpsGet(port: number, path: string, auth?: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, rejectUnauthorized: false, headers: auth ? { Authorization: `Basic ${Buffer.from(auth).toString("base64")}` } : {} }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function queryAs(apiYaml: string, vql: string) {
  const client = VelociraptorClient.fromConfig(parseApiClientYaml(readFileSync(apiYaml, "utf8"), apiYaml), { retry: { retries: 0 } });
  try {
    return await client.queryAll(vql, { failOnVqlError: false });
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "vr-standin-"));
  bin = await buildStandIn(join(dir, "velociraptor"));
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  pki = await generatePki({ dnsNames: ["localhost"], ipAddresses: [], validityDays: 30, apiUsers: [{ name: "megaraptor", roles: ["api", "investigator"] }], rotation: 0 });
  datastore = join(dir, "datastore");
  configPath = join(dir, "server.config.yaml");
  writeFileSync(configPath, renderServerConfig({ profile: loadProfile("minimal", { ports }), version: "0.77.2", hostname: "localhost", pki, datastorePath: datastore }), { mode: 0o600 });
}, 120_000);

describe("the bundle", () => {
  it("is one executable file a plain node runs, and says it is the stand-in", () => {
    expect(statSync(bin).mode & 0o111).not.toBe(0);
    expect(readFileSync(bin, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
    const v = parse(vr(["version"]).stdout);
    expect(v).toMatchObject({ name: "velociraptor", version: "0.77.2" });
    expect(v.description).toMatch(/Velociraptor stand-in/);
  });

  it("answers usage errors as kingpin does", () => {
    expect(vr(["user", "add", "bob"])).toMatchObject({ status: 1, stderr: "velociraptor: error: required flag --role not provided, try --help\n" });
    expect(vr(["config", "api_client", "out.yaml"])).toMatchObject({ status: 1, stderr: "velociraptor: error: required flag --name not provided, try --help\n" });
    expect(vr(["frobnicate"]).stderr).toBe('velociraptor: error: expected command but got "frobnicate", try --help\n');
  });
});

describe("config refusals (config/loader.go, config/validate.go)", () => {
  const variant = (edit: (cfg: Record<string, any>) => void) => {
    const cfg = parse(readFileSync(configPath, "utf8")) as Record<string, any>;
    edit(cfg);
    const path = join(dir, `variant-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(path, stringify(cfg, { lineWidth: 0 }));
    return path;
  };

  it("refuses an unknown key, naming its line and the message type (yaml.UnmarshalStrict)", () => {
    const r = vr(["frontend"], variant((c) => (c.API.bind_adress = "0.0.0.0")));
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^velociraptor: error: frontend: loading config file: FileLoader: yaml: unmarshal errors:\n {2}line \d+: field bind_adress not found in type proto\.APIConfig\n$/);
  });

  it("refuses a frontend config without its certificate, and a missing file", () => {
    expect(vr(["frontend"], variant((c) => delete c.Frontend.certificate)).stderr).toBe("velociraptor: error: frontend: loading config file: No Frontend.certificate config\n");
    expect(vr(["frontend"], join(dir, "nope.yaml")).stderr).toBe(`velociraptor: error: frontend: loading config file: FileLoader: open ${join(dir, "nope.yaml")}: no such file or directory\n`);
  });

  it("refuses config api_client without the CA key", () => {
    expect(vr(["config", "api_client", "--name", "x", join(dir, "x.yaml")], variant((c) => delete c.CA)).stderr).toBe("velociraptor: error: config api_client: Config with valid CA is required\n");
  });

  it("accepts the rendered config of every profile (no key Velociraptor would refuse)", () => {
    for (const name of ["minimal", "standard", "enterprise"]) {
      const path = join(dir, `${name}.yaml`);
      writeFileSync(path, renderServerConfig({ profile: loadProfile(name), version: "0.77.2", hostname: "vr.example.com", pki, datastorePath: datastore, minionHostnames: name === "enterprise" ? ["m1"] : undefined }));
      expect(vr(["user", "show", "nobody"], path).stderr).toBe("velociraptor: error: user show: User not found: nobody\n");
    }
  });
});

describe("users and roles, written by the commands and enforced by the frontend", () => {
  let running: ChildProcess | undefined;
  afterAll(async () => {
    if (running) await stop(running);
  });

  it("config api_client without --role writes a usable file but no user: the API answers 'User not found'", async () => {
    const out = join(dir, "api_client.yaml");
    const r = vr(["config", "api_client", "--name", "megaraptor", out]);
    expect(r).toMatchObject({ status: 0, stdout: `Creating API client file on ${out}.\nNo role added to user megaraptor. You will need to do this later using the 'acl grant' command.` });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(parseApiClientYaml(readFileSync(out, "utf8"), out).api_connection_string).toBe(`127.0.0.1:${ports.api}`);
    running = await frontend();
    const err = await queryAs(out, "SELECT * FROM scope()").catch((e) => e);
    expect(err).toBeInstanceOf(UserNotFoundError);
    expect(err.message).toBe("User not found: megaraptor");
  });

  it("with --role the user exists after a restart of the frontend (the running one reloads users only every 300 s)", async () => {
    const out = join(dir, "api_client.yaml");
    expect(vr(["config", "api_client", "--name", "megaraptor", "--role", "api,investigator", out]).status).toBe(0);
    expect(JSON.parse(readFileSync(join(datastore, "acl", "megaraptor.json.db"), "utf8"))).toEqual({ roles: ["api", "investigator"] });
    expect((await queryAs(out, "SELECT * FROM scope()").catch((e) => e)).message).toBe("User not found: megaraptor");
    await stop(running!);
    running = await frontend();
    expect((await queryAs(out, "SELECT whoami() AS U FROM scope()")).rows).toEqual([{ U: "megaraptor" }]);
  });

  it("refuses an unknown role after writing the file, as Velociraptor does", () => {
    const out = join(dir, "typo.yaml");
    expect(vr(["config", "api_client", "--name", "typo", "--role", "investigtor", out])).toMatchObject({ status: 1, stderr: "velociraptor: error: config api_client: Unable to set role ACL: Invalid role investigtor\n" });
    expect(statSync(out).isFile()).toBe(true);
  });

  it("acl grant needs an existing user; user add needs a password without a terminal", () => {
    expect(vr(["acl", "grant", "nobody", "--role", "api"]).stderr).toBe("velociraptor: error: acl grant: User not found: nobody\n");
    expect(vr(["user", "add", "alice", "--role", "reader"]).stderr).toBe("velociraptor: error: user add: Unable to read password from terminal: inappropriate ioctl for device\n");
  });

  it("serves /healthz on the frontend port and Basic-authenticated GUI users from `user add`", async () => {
    expect(vr(["user", "add", "analyst1", "pw-1_AbC", "--role", "analyst"]).status).toBe(0);
    await stop(running!);
    running = await frontend();
    expect((await httpsGet(ports.frontend, "/healthz")).status).toBe(200);
    expect((await httpsGet(ports.frontend, "/server.pem")).body).toBe(pki.serverCertificate);
    expect((await httpsGet(ports.gui, "/")).status).toBe(307);
    const denied = await httpsGet(ports.gui, "/app/index.html");
    expect([denied.status, denied.headers["www-authenticate"]]).toEqual([401, 'Basic realm="Restricted"']);
    expect((await httpsGet(ports.gui, "/app/index.html", "analyst1:wrong")).status).toBe(401);
    expect((await httpsGet(ports.gui, "/app/index.html", "analyst1:pw-1_AbC")).status).toBe(200);
  });
});

describe("the deployment's user bootstrap script against the stand-in", () => {
  it("makes the API user and the GUI user exist with their roles, and is idempotent", () => {
    const script = join(dir, "bootstrap-users.sh");
    writeFileSync(script, userBootstrapScript({ binary: bin, config: configPath, apiUsers: [{ name: "svc-api", roles: ["api", "investigator"] }], guiUsers: [{ name: "admin", roles: ["administrator"], password: "pw-2_XyZ" }], datastore }));
    for (let i = 0; i < 2; i++) expect(spawnSync("sh", [script], { encoding: "utf8" })).toMatchObject({ status: 0, stderr: "" });
    expect(JSON.parse(vr(["acl", "show", "svc-api"]).stdout)).toEqual({ roles: ["api", "investigator"] });
    expect(JSON.parse(vr(["acl", "show", "admin", "--effective"]).stdout)).toMatchObject({ any_query: true, server_admin: true, org_admin: true });
    expect(JSON.parse(vr(["user", "show", "admin"]).stdout)).toEqual({ name: "admin" });
  });
});
