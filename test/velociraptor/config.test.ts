import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { encryptPrivateKey } from "../../components/pki/x509.js";
import { ConfigError, loadApiClientConfig, NotConfiguredError, parseApiClientYaml, tryLoadApiClientConfig } from "../../velociraptor/index.js";
import { createTestPki, type TestPki } from "../../test-server/index.js";

let pki: TestPki;
let dir: string;
const base = () => ({
  ca_certificate: pki.ca.certificate,
  client_cert: pki.clients.admin.certificate,
  client_private_key: pki.clients.admin.privateKey,
  api_connection_string: "127.0.0.1:8001",
  name: "admin",
});

beforeAll(async () => {
  pki = await createTestPki();
  dir = mkdtempSync(join(tmpdir(), "mr-config-"));
});

describe("parseApiClientYaml", () => {
  it("reads the fields of an api_client.yaml", () => {
    const cfg = parseApiClientYaml(stringify({ ...base(), pinned_server_name: "vr.example", max_grpc_recv_size: 1048576 }), "api.yaml", {});
    expect(cfg.api_connection_string).toBe("127.0.0.1:8001");
    expect(cfg.pinned_server_name).toBe("vr.example");
    expect(cfg.max_grpc_recv_size).toBe(1048576);
  });

  it("names the missing field and says where to get it", () => {
    const { client_cert: _omit, ...rest } = base();
    const err = (() => {
      try {
        parseApiClientYaml(stringify(rest), "api.yaml", {});
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.field).toBe("client_cert");
    expect(err!.message).toMatch(/api\.yaml: client_cert: required/);
    expect(err!.code).toBe("CONFIG_INVALID");
  });

  it("rejects a certificate field holding something that is not PEM", () => {
    expect(() => parseApiClientYaml(stringify({ ...base(), ca_certificate: "hello" }), "api.yaml", {})).toThrow(/ca_certificate: ca_certificate is not a PEM certificate/);
  });

  it("rejects an api_connection_string without a port", () => {
    expect(() => parseApiClientYaml(stringify({ ...base(), api_connection_string: "localhost" }), "api.yaml", {})).toThrow(/api_connection_string: expected host:port/);
  });

  it("rejects a key that does not belong to the certificate", () => {
    expect(() => parseApiClientYaml(stringify({ ...base(), client_private_key: pki.clients.reader.privateKey }), "api.yaml", {})).toThrow(/client_private_key: does not belong to client_cert/);
  });

  it("decrypts a password-protected key with VELOCIRAPTOR_KEY_PASSWORD and refuses without it", () => {
    const text = stringify({ ...base(), client_private_key: encryptPrivateKey(pki.clients.admin.privateKey, "s3cret!") });
    expect(() => parseApiClientYaml(text, "api.yaml", {})).toThrow(/password-protected/);
    expect(() => parseApiClientYaml(text, "api.yaml", { VELOCIRAPTOR_KEY_PASSWORD: "wrong" })).toThrow(/cannot decrypt/);
    const cfg = parseApiClientYaml(text, "api.yaml", { VELOCIRAPTOR_KEY_PASSWORD: "s3cret!" });
    expect(cfg.client_private_key).toMatch(/BEGIN PRIVATE KEY/);
    expect(cfg.client_private_key).not.toMatch(/ENCRYPTED/);
  });

  it("reports YAML that is not a mapping", () => {
    expect(() => parseApiClientYaml("just a string", "api.yaml", {})).toThrow(/not a YAML mapping/);
  });
});

describe("loadApiClientConfig lookup order", () => {
  it("prefers the explicit path, then VELOCIRAPTOR_CONFIG_PATH, then VELOCIRAPTOR_API_FILE", () => {
    const a = join(dir, "a.yaml");
    const b = join(dir, "b.yaml");
    writeFileSync(a, stringify({ ...base(), api_connection_string: "a.example:1" }));
    writeFileSync(b, stringify({ ...base(), api_connection_string: "b.example:2" }));
    expect(loadApiClientConfig({ path: a, env: { VELOCIRAPTOR_CONFIG_PATH: b } }).api_connection_string).toBe("a.example:1");
    expect(loadApiClientConfig({ env: { VELOCIRAPTOR_CONFIG_PATH: b, VELOCIRAPTOR_API_FILE: a } }).api_connection_string).toBe("b.example:2");
    expect(loadApiClientConfig({ env: { VELOCIRAPTOR_API_FILE: a } }).api_connection_string).toBe("a.example:1");
  });

  it("builds the config from the four environment variables, each a path or inline PEM", () => {
    const certPath = join(dir, "client.pem");
    writeFileSync(certPath, pki.clients.admin.certificate);
    const cfg = loadApiClientConfig({
      env: {
        VELOCIRAPTOR_API_URL: "grpcs://vr.example.com:8001",
        VELOCIRAPTOR_CLIENT_CERT: certPath,
        VELOCIRAPTOR_CLIENT_KEY: pki.clients.admin.privateKey,
        VELOCIRAPTOR_CA_CERT: pki.ca.certificate,
      },
    });
    expect(cfg.api_connection_string).toBe("vr.example.com:8001");
    expect(cfg.name).toBe("admin");
  });

  it("names the variable that is missing", () => {
    expect(() => loadApiClientConfig({ env: { VELOCIRAPTOR_API_URL: "h:1" } })).toThrow(/VELOCIRAPTOR_CLIENT_CERT: is not set/);
  });

  it("says how to configure when nothing is set, and tryLoad turns that into a value", () => {
    expect(() => loadApiClientConfig({ env: {} })).toThrow(NotConfiguredError);
    const r = tryLoadApiClientConfig({ env: {} });
    expect("missing" in r && r.hint).toMatch(/config api_client/);
  });

  it("reports a config path that does not exist", () => {
    expect(() => loadApiClientConfig({ path: join(dir, "nope.yaml"), env: {} })).toThrow(/does not exist/);
  });
});
