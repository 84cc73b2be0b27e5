import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { generatePki, type PkiOutputs } from "../../components/pki/provider.js";
import { renderApiClientYaml, renderClientConfig, renderServerConfig, serverUrl } from "../../components/config/render.js";
import { loadProfile } from "../../profiles/index.js";
import { parseApiClientYaml } from "../../velociraptor/config.js";

let pki: PkiOutputs;
beforeAll(async () => {
  pki = await generatePki({ dnsNames: ["vr.example.com"], ipAddresses: [], validityDays: 30, apiUsers: [{ name: "megaraptor", roles: ["api"] }], rotation: 0 });
});

const input = (profile = loadProfile("standard"), extra = {}) => ({ profile, version: "0.77.2", hostname: "vr.example.com", pki, datastorePath: "/var/lib/velociraptor", ...extra });

describe("renderServerConfig", () => {
  it("uses Velociraptor's section and key names", () => {
    const cfg = parse(renderServerConfig(input()));
    expect(Object.keys(cfg)).toEqual(expect.arrayContaining(["version", "Client", "API", "GUI", "CA", "Frontend", "Datastore", "Logging", "Monitoring", "defaults", "obfuscation_nonce"]));
    expect(cfg.Client.server_urls).toEqual(["https://vr.example.com:8000/"]);
    expect(cfg.Client.ca_certificate).toBe(pki.caCertificate);
    expect(cfg.API).toMatchObject({ bind_address: "127.0.0.1", bind_port: 8001, bind_scheme: "tcp" });
    expect(cfg.GUI).toMatchObject({ bind_address: "127.0.0.1", bind_port: 8889, public_url: "https://vr.example.com:8889/app/index.html" });
    expect(cfg.Frontend).toMatchObject({ hostname: "vr.example.com", bind_address: "0.0.0.0", bind_port: 8000, certificate: pki.serverCertificate });
    expect(cfg.Datastore).toEqual({ implementation: "FileBaseDataStore", location: "/var/lib/velociraptor", filestore_directory: "/var/lib/velociraptor" });
    expect(cfg.CA.private_key).toBe(pki.caPrivateKey);
  });

  // A7: the GUI's gRPC gateway and minions dial API.hostname:bind_port unless bind_address is 127.0.0.1
  // (grpc_client/grpc.go:310-332 GetAPIHostname @ v0.77.2), so it must name the server as seen from itself.
  it("API.hostname is the name the server itself dials (default localhost), not the public name", () => {
    expect(parse(renderServerConfig(input(loadProfile("rapid")))).API.hostname).toBe("localhost");
    expect(parse(renderServerConfig(input(loadProfile("rapid"), { apiHostname: "velociraptor-api.ns.svc" }))).API.hostname).toBe("velociraptor-api.ns.svc");
  });

  it("follows the profile: minimal has no Monitoring section, rapid binds the API to all interfaces", () => {
    expect(parse(renderServerConfig(input(loadProfile("minimal")))).Monitoring).toBeUndefined();
    expect(parse(renderServerConfig(input(loadProfile("rapid")))).API.bind_address).toBe("0.0.0.0");
  });

  it("adds ExtraFrontends for minions", () => {
    const cfg = parse(renderServerConfig(input(loadProfile("enterprise"), { minionHostnames: ["minion-0.vr", "minion-1.vr"] })));
    expect(cfg.ExtraFrontends).toEqual([
      { hostname: "minion-0.vr", bind_address: "0.0.0.0", bind_port: 8000 },
      { hostname: "minion-1.vr", bind_address: "0.0.0.0", bind_port: 8000 },
    ]);
  });

  it("produces valid server_urls for names, IPv4 and IPv6", () => {
    expect(serverUrl("10.0.0.5", 8000)).toBe("https://10.0.0.5:8000/");
    expect(serverUrl("2001:db8::1", 8000)).toBe("https://[2001:db8::1]:8000/");
    for (const u of [serverUrl("vr.example.com", 443), serverUrl("2001:db8::1", 8000)]) expect(() => new URL(u)).not.toThrow();
  });
});

describe("renderClientConfig", () => {
  it("shares the server's CA, nonce and URLs, and carries no server secrets", () => {
    const server = parse(renderServerConfig(input()));
    const text = renderClientConfig(input());
    const client = parse(text);
    expect(client.Client.nonce).toBe(server.Client.nonce);
    expect(client.Client.ca_certificate).toBe(server.Client.ca_certificate);
    expect(client.Client.server_urls).toEqual(server.Client.server_urls);
    expect(text).not.toContain("PRIVATE KEY");
  });
});

describe("renderApiClientYaml", () => {
  it("is readable by the project's own client loader", () => {
    const c = pki.apiClients.megaraptor!;
    const yaml = renderApiClientYaml({ caCertificate: pki.caCertificate, certificate: c.certificate, privateKey: c.privateKey, apiConnectionString: "vr.example.com:8001", name: "megaraptor" });
    const cfg = parseApiClientYaml(yaml, "rendered", {});
    expect(cfg).toMatchObject({ api_connection_string: "vr.example.com:8001", name: "megaraptor" });
  });
});
