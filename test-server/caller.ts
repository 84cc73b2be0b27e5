/**
 * Who is calling: services/users/grpc.go GetGRPCUserInfo (docs/velociraptor-rules.md §1). The TLS layer has already
 * checked the chain to the CA and the clientAuth usage; Velociraptor then re-verifies the certificate with Go's
 * default `x509.VerifyOptions`, whose empty KeyUsages means serverAuth — so a clientAuth-only certificate connects but
 * stays nameless. The name is the CommonName (else the first DNS SAN, else the first IP SAN). The gateway certificate
 * may name the user it acts for in the `USER` metadata.
 */
import { X509Certificate } from "node:crypto";
import type { Metadata } from "@grpc/grpc-js";

const EKU_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const EKU_ANY = "2.5.29.37.0";
// Go's checkChainForKeyUsage accepts the old Netscape and Microsoft "server gated crypto" OIDs as serverAuth.
const EKU_SGC = ["2.16.840.1.113730.4.1", "1.3.6.1.4.1.311.10.3.3"];

/** The fields grpc-js's `getAuthContext().sslPeerCertificate` carries (Node's PeerCertificate). */
export interface PeerCertificateLike {
  raw?: Buffer;
}

/** Go's checkChainForKeyUsage for KeyUsages=[serverAuth] on one certificate: no EKU extension means any usage. */
export function allowsServerAuth(ekus: readonly string[] | undefined): boolean {
  if (!ekus || ekus.length === 0) return true;
  return ekus.some((oid) => oid === EKU_SERVER_AUTH || oid === EKU_ANY || EKU_SGC.includes(oid));
}

/** crypto/utils GetSubjectName. */
export function subjectName(cert: X509Certificate): string {
  const cn = cert.subject
    .split("\n")
    .filter((l) => l.startsWith("CN="))
    .map((l) => l.slice(3))
    .at(-1);
  if (cn) return cn;
  const sans = (cert.subjectAltName ?? "").split(/,\s*/);
  const dns = sans.find((s) => s.startsWith("DNS:"));
  if (dns) return dns.slice(4);
  const ip = sans.find((s) => s.startsWith("IP Address:"));
  return ip ? ip.slice("IP Address:".length) : "";
}

export interface Caller {
  /** "" when the certificate did not verify as Velociraptor verifies it. */
  name: string;
  /** The org the gateway asked for (metadata OrgId); undefined = root. */
  currentOrg?: string;
}

export interface CallerRules {
  /** The CA certificate (PEM): its EKU, if any, is part of the chain Go checks. */
  caCertificate: string;
  /** API.pinned_gw_name, default GRPC_GW. */
  gatewayName: string;
}

function caAllowsServerAuth(caPem: string): boolean {
  try {
    return allowsServerAuth(new X509Certificate(caPem).keyUsage);
  } catch {
    return false;
  }
}

function unquote(v: string): string {
  if (!v.startsWith('"')) return v;
  try {
    return String(JSON.parse(v));
  } catch {
    return v;
  }
}

/** GetGRPCUserInfo for a peer that passed the TLS handshake. */
export function identifyCaller(peer: PeerCertificateLike | undefined, metadata: Metadata | undefined, rules: CallerRules): Caller {
  if (!peer?.raw?.length) return { name: "" };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(peer.raw);
  } catch {
    return { name: "" };
  }
  if (!allowsServerAuth(cert.keyUsage) || !caAllowsServerAuth(rules.caCertificate)) return { name: "" };
  const caller: Caller = { name: subjectName(cert) };
  if (caller.name === rules.gatewayName && metadata) {
    const user = metadata.get("USER");
    if (user.length === 1) {
      try {
        const record = JSON.parse(unquote(String(user[0]))) as { name?: unknown };
        caller.name = typeof record.name === "string" ? record.name : "";
      } catch {
        caller.name = "";
      }
    }
    const org = metadata.get("OrgId");
    if (org.length === 1) {
      const id = String(org[0]);
      caller.currentOrg = id === "" || id === "root" ? undefined : id;
    }
  }
  return caller;
}
