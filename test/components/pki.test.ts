import { X509Certificate } from "node:crypto";
import { once } from "node:events";
import { createServer, connect } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import { generatePki, pkiProvider, updatePki, type PkiInputs, type PkiOutputs } from "../../components/pki/provider.js";
import { installMocks, isSecret, ofType, value } from "../helpers/pulumi-mocks.js";

let VelociraptorPki: typeof import("../../components/pki/index.js").VelociraptorPki;

beforeAll(async () => {
  await installMocks();
  ({ VelociraptorPki } = await import("../../components/pki/index.js"));
});

describe("VelociraptorPki", () => {
  it("issues a CA, a VelociraptorServer certificate with the deployment's names, a gateway and API-client certificates", async () => {
    const pki = new VelociraptorPki("t1", { dnsNames: ["vr.example.com"], ipAddresses: ["10.0.0.5"], validityDays: 30, apiUsers: [{ name: "megaraptor", roles: ["api", "investigator"] }] });
    const ca = new X509Certificate(await value(pki.caCertificate));
    const server = new X509Certificate(await value(pki.serverCertificate));
    const gw = new X509Certificate(await value(pki.gatewayCertificate));
    expect(ca.ca).toBe(true);
    expect(server.subject).toContain("CN=VelociraptorServer");
    expect(server.subjectAltName).toContain("DNS:VelociraptorServer");
    expect(server.subjectAltName).toContain("DNS:vr.example.com");
    expect(server.subjectAltName).toContain("IP Address:10.0.0.5");
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(gw.subject).toContain("CN=GRPC_GW");
    const days = (Date.parse(server.validTo) - Date.parse(server.validFrom)) / 86_400_000;
    expect(Math.round(days)).toBe(30);
    const clients = await value(pki.apiClients);
    expect(new X509Certificate(clients.megaraptor!.certificate).subject).toContain("CN=megaraptor");
    expect(clients.megaraptor!.roles).toEqual(["api", "investigator"]);
    expect(ofType("megaraptor:index:VelociraptorPki")).toHaveLength(1);
  });

  // Velociraptor identifies a gRPC caller only if its certificate passes Go's x509 Verify with default options, which
  // require the serverAuth EKU (crypto/x509 verify.go: empty KeyUsages means ExtKeyUsageServerAuth;
  // services/users/grpc.go GetGRPCUserInfo). Its own GenerateServerCert issues the gateway, frontend and api_client
  // certificates with serverAuth + clientAuth (crypto/ca.go:150-153, bin/config.go:250,260,391 @ v0.77.2).
  it("issues gateway and API-client certificates with serverAuth + clientAuth, like GenerateServerCert", async () => {
    const pki = new VelociraptorPki("t-eku", { apiUsers: [{ name: "megaraptor", roles: ["api"] }] });
    const [gw, server, clients] = await Promise.all([value(pki.gatewayCertificate), value(pki.serverCertificate), value(pki.apiClients)]);
    const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    for (const [what, pem] of [["gateway", gw], ["frontend", server], ["api client", clients.megaraptor!.certificate]] as const) {
      const eku = new X509Certificate(pem).keyUsage ?? [];
      expect([...eku].sort(), what).toEqual([SERVER_AUTH, CLIENT_AUTH].sort());
    }
  });

  it("keeps every private key and nonce secret", async () => {
    const pki = new VelociraptorPki("t2");
    for (const o of [pki.caPrivateKey, pki.serverPrivateKey, pki.gatewayPrivateKey, pki.apiClients, pki.clientNonce, pki.obfuscationNonce]) expect(await isSecret(o)).toBe(true);
    expect(await isSecret(pki.caCertificate)).toBe(false);
  });

  it("the certificates complete a real mutual-TLS handshake, and a foreign client is refused", async () => {
    const pki = new VelociraptorPki("t3", { apiUsers: [{ name: "alice", roles: ["api"] }] });
    const [ca, cert, key, clients] = await Promise.all([value(pki.caCertificate), value(pki.serverCertificate), value(pki.serverPrivateKey), value(pki.apiClients)]);
    const server = createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: true }, (s) => s.end(`hello ${s.getPeerCertificate().subject.CN}`));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as { port: number }).port;
    const talk = (c: { certificate: string; privateKey: string }) =>
      new Promise<string>((resolve, reject) => {
        const s = connect({ host: "127.0.0.1", port, ca, cert: c.certificate, key: c.privateKey, servername: "VelociraptorServer" }, () => undefined);
        let data = "";
        s.on("data", (d) => (data += d));
        s.on("end", () => resolve(data));
        s.on("error", reject);
        s.on("close", () => resolve(data));
      });
    try {
      expect(await talk(clients.alice!)).toBe("hello alice");
      const other = await value(new VelociraptorPki("t4", { apiUsers: [{ name: "mallory", roles: [] }] }).apiClients);
      expect(await talk(other.mallory!).catch(() => "")).toBe("");
    } finally {
      server.close();
    }
  });
});

// A11: Velociraptor keeps the CA when it rotates server certificates (`config rotate_keys`, bin/config.go:240-265 @
// v0.77.2) and clients pin Client.ca_certificate and Client.nonce, so the provider must update leaves in place and
// re-create the CA and nonce only on an explicit CA rotation.
describe("PKI provider day-2 changes", () => {
  const base: PkiInputs = { dnsNames: ["vr.example.com"], ipAddresses: [], validityDays: 30, apiUsers: [{ name: "megaraptor", roles: ["api"] }], rotation: 0 };
  let first: PkiOutputs;
  beforeAll(async () => {
    first = await generatePki(base);
  });
  const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;
  const chains = (leaf: string, ca: string) => new X509Certificate(leaf).verify(new X509Certificate(ca).publicKey);

  it("never asks Pulumi to replace the resource (a replacement would mint a new CA)", async () => {
    const d = await pkiProvider().diff!("id", first, { ...base, apiUsers: [...base.apiUsers, { name: "bob", roles: ["reader"] }], dnsNames: ["other.example.com"], rotation: 1 });
    expect(d.changes).toBe(true);
    expect(d.replaces ?? []).toEqual([]);
    const same = await pkiProvider().diff!("id", first, { ...base });
    expect(same.changes).toBe(false);
  });

  it("a new API user keeps the CA, nonces and every existing certificate, and gets a certificate from the same CA", async () => {
    const next = await updatePki(first, { ...base, apiUsers: [...base.apiUsers, { name: "bob", roles: ["reader"] }] });
    for (const k of ["caCertificate", "caPrivateKey", "clientNonce", "obfuscationNonce", "serverCertificate", "gatewayCertificate"] as const) expect(next[k], k).toBe(first[k]);
    expect(next.apiClients.megaraptor!.certificate).toBe(first.apiClients.megaraptor!.certificate);
    expect(chains(next.apiClients.bob!.certificate, first.caCertificate)).toBe(true);
    expect(next.apiClients.bob!.roles).toEqual(["reader"]);
  });

  it("a removed API user loses its certificate; a role change keeps the certificate", async () => {
    const next = await updatePki(first, { ...base, apiUsers: [{ name: "megaraptor", roles: ["api", "investigator"] }] });
    expect(next.apiClients.megaraptor!.certificate).toBe(first.apiClients.megaraptor!.certificate);
    expect(next.apiClients.megaraptor!.roles).toEqual(["api", "investigator"]);
    const none = await updatePki(first, { ...base, apiUsers: [] });
    expect(Object.keys(none.apiClients)).toEqual([]);
  });

  it("certificate rotation and name changes re-issue the leaves under the same CA and keep the nonce", async () => {
    const rotated = await updatePki(first, { ...base, rotation: 1 });
    expect(rotated.caCertificate).toBe(first.caCertificate);
    expect(rotated.clientNonce).toBe(first.clientNonce);
    for (const [k, a, b] of [["server", rotated.serverCertificate, first.serverCertificate], ["gateway", rotated.gatewayCertificate, first.gatewayCertificate], ["api", rotated.apiClients.megaraptor!.certificate, first.apiClients.megaraptor!.certificate]] as const) {
      expect(serialOf(a), k).not.toBe(serialOf(b));
      expect(chains(a, first.caCertificate), k).toBe(true);
    }
    const renamed = await updatePki(first, { ...base, dnsNames: ["new.example.com"] });
    expect(renamed.caCertificate).toBe(first.caCertificate);
    expect(new X509Certificate(renamed.serverCertificate).subjectAltName).toContain("DNS:new.example.com");
    expect(renamed.apiClients.megaraptor!.certificate).toBe(first.apiClients.megaraptor!.certificate);
  });

  it("only an explicit CA rotation makes a new CA and client nonce", async () => {
    const next = await updatePki(first, { ...base, caRotation: 1 });
    expect(next.caCertificate).not.toBe(first.caCertificate);
    expect(next.clientNonce).not.toBe(first.clientNonce);
    expect(chains(next.serverCertificate, next.caCertificate)).toBe(true);
    expect(chains(next.apiClients.megaraptor!.certificate, next.caCertificate)).toBe(true);
  });

  it("state written before caRotation/guiUsers existed updates without a new CA", async () => {
    const { caRotation: _c, guiUsers: _g, guiPasswords: _p, ...legacy } = first as PkiOutputs & Record<string, unknown>;
    const next = await updatePki(legacy as PkiOutputs, { ...base, caRotation: 0, guiUsers: ["admin"] });
    expect(next.caCertificate).toBe(first.caCertificate);
    expect(next.guiPasswords?.admin).toMatch(/^[A-Za-z0-9_-]{24,}$/);
  });

  it("GUI users get a generated password that stays the same across updates", async () => {
    const a = await generatePki({ ...base, guiUsers: ["admin", "analyst1"] });
    expect(a.guiPasswords!.admin).not.toBe(a.guiPasswords!.analyst1);
    const b = await updatePki(a, { ...base, guiUsers: ["admin"], rotation: 1 });
    expect(b.guiPasswords).toEqual({ admin: a.guiPasswords!.admin });
  });
});
