/**
 * Certificates for the test server: a CA, the server certificate for VelociraptorServer, and client certificates
 * for each fixture user plus the failure cases (unknown user, foreign CA, expired, clientAuth only, the gateway).
 * Client certificates are issued as Velociraptor's `config api_client` issues them (serverAuth + clientAuth, see
 * ./velociraptor-certs.ts). Generated once per process.
 */
import { generateCa, issueCertificate, issueServerCertificate, type IssuedCert } from "../components/pki/x509.js";
import { generateServerCert } from "./velociraptor-certs.js";

export interface TestPki {
  ca: IssuedCert;
  foreignCa: IssuedCert;
  server: IssuedCert;
  clients: {
    admin: IssuedCert;
    reader: IssuedCert;
    investigator: IssuedCert;
    noPermissions: IssuedCert;
    unknownUser: IssuedCert;
    foreignCa: IssuedCert;
    expired: IssuedCert;
    /** CN admin, but only the clientAuth usage: passes the TLS handshake, fails Velociraptor's identity check. */
    clientAuthOnly: IssuedCert;
    /** CN GRPC_GW: the GUI gateway's identity, which may name the user it acts for in metadata. */
    gateway: IssuedCert;
  };
}

export type ClientName = keyof TestPki["clients"];

let cached: Promise<TestPki> | undefined;

async function build(): Promise<TestPki> {
  const ca = await generateCa({ commonName: "Velociraptor_ca" });
  const foreignCa = await generateCa({ commonName: "Some other CA" });
  const [server, admin, reader, investigator, noPermissions, unknownUser, foreign, expired, clientAuthOnly, gateway] = await Promise.all([
    issueServerCertificate(ca),
    generateServerCert(ca, "admin"),
    generateServerCert(ca, "reader"),
    generateServerCert(ca, "investigator"),
    generateServerCert(ca, "noperm"),
    generateServerCert(ca, "mallory"),
    generateServerCert(foreignCa, "admin"),
    generateServerCert(ca, "admin", { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }),
    issueCertificate(ca, { commonName: "admin", dnsNames: ["admin"], usage: "client" }),
    generateServerCert(ca, "GRPC_GW"),
  ]);
  return { ca, foreignCa, server, clients: { admin, reader, investigator, noPermissions, unknownUser, foreignCa: foreign, expired, clientAuthOnly, gateway } };
}

/** The shared PKI (cached per process: RSA key generation is the slow part of starting a server). */
export function createTestPki(): Promise<TestPki> {
  cached ??= build();
  return cached;
}

/** Server certificates that make a TLS handshake fail in each documented way. */
export async function badServerCertificates(pki: TestPki) {
  const day = 86_400_000;
  return {
    expired: await issueServerCertificate(pki.ca, { notBefore: new Date(Date.now() - 10 * day), notAfter: new Date(Date.now() - day) }),
    notYetValid: await issueServerCertificate(pki.ca, { notBefore: new Date(Date.now() + day), notAfter: new Date(Date.now() + 10 * day) }),
    wrongName: await issueCertificate(pki.ca, { commonName: "some.other.host", dnsNames: ["some.other.host"], usage: "both" }),
    foreignCa: await issueServerCertificate(pki.foreignCa),
  };
}
