/**
 * Certificates as Velociraptor's crypto.GenerateServerCert issues them (crypto/ca.go 114–210) — for the frontend,
 * the gateway and every `config api_client` certificate: CN = the name, O = Velociraptor, the name again as a DNS SAN
 * (an IP SAN when it parses as an IP), serverAuth + clientAuth. Both usages matter: the API's TLS handshake wants
 * clientAuth, and its identity check wants serverAuth (docs/velociraptor-rules.md §1).
 */
import { isIP } from "node:net";
import { issueCertificate, type IssuedCert, type Validity } from "../components/pki/x509.js";

export function generateServerCert(ca: Pick<IssuedCert, "certificate" | "privateKey">, name: string, validity: Validity = {}): Promise<IssuedCert> {
  return issueCertificate(ca, {
    ...validity,
    commonName: name,
    organization: "Velociraptor",
    ...(isIP(name) ? { ipAddresses: [name] } : { dnsNames: [name] }),
    usage: "both",
  });
}
