/**
 * Configuration errors never carry private-key material, and a broken key is reported as the key, not the
 * certificate. Every way a key can be wrong is tried; each error (message, hint, details, describe()) and the
 * stderr of the built `megaraptor mcp` refusing to start are scanned for any 16-character run of the key's body.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { encryptPrivateKey } from "../../components/pki/x509.js";
import { MegaraptorError } from "../../core/errors.js";
import { ConfigError, loadApiClientConfig, parseApiClientYaml } from "../../velociraptor/index.js";
import { createTestPki, type TestPki } from "../../test-server/index.js";
import { MAIN } from "../helpers/mcp.js";

let pki: TestPki;
let keyBody: string;
const WINDOW = 16;

/** Every 16-character run of the key's base64 body: finding any of them in a text means key bytes leaked. */
function leaks(text: string): string[] {
  const found = new Set<string>();
  const flat = text.replace(/\\n|\s/g, "");
  for (let i = 0; i + WINDOW <= keyBody.length; i++) {
    const w = keyBody.slice(i, i + WINDOW);
    if (flat.includes(w)) found.add(w);
  }
  return [...found];
}

function everything(err: unknown): string {
  const e = err as MegaraptorError;
  return [e.message, e.hint, JSON.stringify(e.details ?? {}), e.describe?.(), String(e.stack)].join("\n");
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    return err as ConfigError;
  }
  throw new Error("expected an error");
}

const base = () => ({
  ca_certificate: pki.ca.certificate,
  client_cert: pki.clients.admin.certificate,
  client_private_key: pki.clients.admin.privateKey,
  api_connection_string: "127.0.0.1:8001",
});

/** The key with its body damaged in the middle: the PEM lines are intact, the DER inside is not. */
function damagedKey(): string {
  const lines = pki.clients.admin.privateKey.split("\n");
  const mid = Math.floor(lines.length / 2);
  lines[mid] = lines[mid]!.split("").reverse().join("");
  lines.splice(mid + 1, 3);
  return lines.join("\n");
}

beforeAll(async () => {
  pki = await createTestPki();
  keyBody = pki.clients.admin.privateKey.replace(/-----[A-Z ]+-----/g, "").replace(/\s/g, "");
});

describe("a damaged private key", () => {
  it("is reported as client_private_key, not as client_cert", () => {
    const err = errorOf(() => parseApiClientYaml(stringify({ ...base(), client_private_key: damagedKey() }), "api.yaml", {}));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.field).toBe("client_private_key");
    expect(err.message).toMatch(/api\.yaml: client_private_key: is damaged or truncated/);
    expect(err.message).not.toMatch(/client_cert|cannot be read/);
    expect(leaks(everything(err))).toEqual([]);
  });

  it.each([
    ["cut short", () => pki.clients.admin.privateKey.replace(/\n[A-Za-z0-9+/=]+\n-----END/, "\n-----END")],
    ["damaged in the middle", damagedKey],
  ])("a key %s in VELOCIRAPTOR_CLIENT_KEY is named as the damaged key too", (_what, key) => {
    const err = errorOf(() => loadApiClientConfig({ env: { VELOCIRAPTOR_API_URL: "127.0.0.1:8001", VELOCIRAPTOR_CLIENT_CERT: pki.clients.admin.certificate, VELOCIRAPTOR_CA_CERT: pki.ca.certificate, VELOCIRAPTOR_CLIENT_KEY: key() } }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.field).toBe("client_private_key");
    expect(err.message).toMatch(/client_private_key: is damaged or truncated/);
    expect(leaks(everything(err))).toEqual([]);
  });

  it("a damaged certificate is still reported as client_cert", () => {
    const cert = pki.clients.admin.certificate.replace(/\n[A-Za-z0-9+/]{20}/, "\n" + "A".repeat(20));
    const err = errorOf(() => parseApiClientYaml(stringify({ ...base(), client_cert: cert }), "api.yaml", {}));
    expect(err.field).toBe("client_cert");
  });
});

describe("no key material in any configuration error", () => {
  const cases: [string, () => unknown][] = [
    ["header-less VELOCIRAPTOR_CLIENT_KEY", () => loadApiClientConfig({ env: { VELOCIRAPTOR_API_URL: "127.0.0.1:8001", VELOCIRAPTOR_CLIENT_CERT: pki.clients.admin.certificate, VELOCIRAPTOR_CA_CERT: pki.ca.certificate, VELOCIRAPTOR_CLIENT_KEY: keyBody } })],
    ["header-less VELOCIRAPTOR_CLIENT_KEY with \\n escapes", () => loadApiClientConfig({ env: { VELOCIRAPTOR_API_URL: "127.0.0.1:8001", VELOCIRAPTOR_CLIENT_CERT: pki.clients.admin.certificate, VELOCIRAPTOR_CA_CERT: pki.ca.certificate, VELOCIRAPTOR_CLIENT_KEY: keyBody.match(/.{1,64}/g)!.join("\\n") } })],
    ["a YAML error inside the key block", () => parseApiClientYaml(stringify(base()).replace(/(client_private_key: \|-?\n(?: {2}.*\n){5})/, "$1 " + keyBody.slice(100, 164) + ": x\n"), "api.yaml", {})],
    ["an unterminated quote in the key", () => parseApiClientYaml(`client_private_key: "${pki.clients.admin.privateKey.replace(/\n/g, "\\n")}\napi_connection_string: [\n`, "api.yaml", {})],
    ["a key without its header in the file", () => parseApiClientYaml(stringify({ ...base(), client_private_key: keyBody }), "api.yaml", {})],
    ["a damaged key", () => parseApiClientYaml(stringify({ ...base(), client_private_key: damagedKey() }), "api.yaml", {})],
    ["a key of another certificate", () => parseApiClientYaml(stringify({ ...base(), client_cert: pki.clients.reader.certificate }), "api.yaml", {})],
    ["an encrypted key without password", () => parseApiClientYaml(stringify({ ...base(), client_private_key: encryptPrivateKey(pki.clients.admin.privateKey, "pw") }), "api.yaml", {})],
    ["an encrypted key with the wrong password", () => parseApiClientYaml(stringify({ ...base(), client_private_key: encryptPrivateKey(pki.clients.admin.privateKey, "pw") }), "api.yaml", { VELOCIRAPTOR_KEY_PASSWORD: "nope" })],
  ];

  it.each(cases)("%s", (_name, fn) => {
    const err = errorOf(fn);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe("CONFIG_INVALID");
    expect(leaks(everything(err))).toEqual([]);
  });

  it("the header-less key names its variable and says the header is missing", () => {
    const err = errorOf(cases[0]![1]);
    expect(err.field).toBe("VELOCIRAPTOR_CLIENT_KEY");
    expect(err.message).toMatch(/without its -----BEGIN line \(the value is not shown\)/);
  });

  it("the YAML error names the field and the position, not the text", () => {
    const err = errorOf(cases[2]![1]);
    expect(err.field).toBe("client_private_key");
    expect(err.message).toMatch(/not valid YAML: .* at line \d+, column \d+$/);
  });
});

describe.skipIf(!existsSync(MAIN))(`the built server refusing to start${existsSync(MAIN) ? "" : " (skipped: run npm run build first)"}`, () => {
  it("prints no key material on stderr, even at debug level", () => {
    const home = mkdtempSync(join(tmpdir(), "mr-keyleak-"));
    const broken = join(home, "api.yaml");
    writeFileSync(broken, stringify(base()).replace(/(client_private_key: \|-?\n(?: {2}.*\n){5})/, "$1 " + keyBody.slice(100, 164) + ": x\n"));
    const env = { PATH: process.env.PATH ?? "", HOME: home, MEGARAPTOR_HOME: home, MEGARAPTOR_LOG_LEVEL: "debug" };
    const runs = [
      spawnSync(process.execPath, [MAIN, "mcp", "--config", broken], { env, input: "", timeout: 30_000 }),
      spawnSync(process.execPath, [MAIN, "mcp"], { env: { ...env, VELOCIRAPTOR_API_URL: "127.0.0.1:8001", VELOCIRAPTOR_CLIENT_CERT: pki.clients.admin.certificate, VELOCIRAPTOR_CA_CERT: pki.ca.certificate, VELOCIRAPTOR_CLIENT_KEY: keyBody }, input: "", timeout: 30_000 }),
    ];
    for (const r of runs) {
      const out = `${r.stdout}${r.stderr}`;
      expect(r.status).not.toBe(0);
      expect(out).toMatch(/CONFIG_INVALID|client_private_key|VELOCIRAPTOR_CLIENT_KEY/);
      expect(leaks(out)).toEqual([]);
    }
  });
});
