/**
 * Plain-function X.509 for Velociraptor's PKI: an RSA-2048 CA, the frontend/server certificate (CN and SAN
 * `VelociraptorServer`), the gRPC gateway certificate and API-client certificates (CN = user name).
 * Keys come from Node's crypto; certificates are built with @peculiar/x509 — no openssl subprocess.
 * The PKI Pulumi component and the Velociraptor API test server both build on these functions.
 */
import "reflect-metadata"; // @peculiar/x509 uses tsyringe, which needs the Reflect polyfill loaded first
import * as x509 from "@peculiar/x509";
import { createPrivateKey, generateKeyPair, randomBytes, webcrypto } from "node:crypto";
import { promisify } from "node:util";

type CryptoKey = webcrypto.CryptoKey;

// @peculiar/x509 is typed against the DOM Crypto; Node's webcrypto is the same API.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const generateKeyPairAsync = promisify(generateKeyPair);
const SIGNING = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } as const;
const DAY_MS = 86_400_000;

/** Velociraptor's pinned server name: the API and frontend certificates are issued for it, not for a host name. */
export const PINNED_SERVER_NAME = "VelociraptorServer";
export const GATEWAY_NAME = "GRPC_GW";

export interface IssuedCert {
  /** PEM certificate. */
  certificate: string;
  /** PEM private key, PKCS#1 (`BEGIN RSA PRIVATE KEY`) as Velociraptor writes it. */
  privateKey: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}

export interface Validity {
  /** Days from `notBefore`; ignored when `notAfter` is given. */
  validityDays?: number;
  /** Defaults to now minus five minutes, to absorb clock skew. */
  notBefore?: Date;
  notAfter?: Date;
}

interface SigningMaterial {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

function window(v: Validity, defaultDays: number): { notBefore: Date; notAfter: Date } {
  const notBefore = v.notBefore ?? new Date(Date.now() - 5 * 60_000);
  const notAfter = v.notAfter ?? new Date(notBefore.getTime() + (v.validityDays ?? defaultDays) * DAY_MS);
  if (notAfter <= notBefore) throw new Error("certificate notAfter must be later than notBefore");
  return { notBefore, notAfter };
}

function serial(): string {
  // Positive 128-bit serial: clear the top bit so DER does not read it as negative.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString("hex");
}

async function newRsaKey(): Promise<{ pem: string; key: CryptoKey; publicKey: CryptoKey }> {
  const { privateKey } = await generateKeyPairAsync("rsa", { modulusLength: 2048, publicExponent: 0x10001 });
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
  const key = await webcrypto.subtle.importKey("pkcs8", pkcs8, SIGNING, true, ["sign"]);
  const jwk = await webcrypto.subtle.exportKey("jwk", key);
  const publicKey = await webcrypto.subtle.importKey("jwk", { kty: jwk.kty, n: jwk.n, e: jwk.e }, SIGNING, true, ["verify"]);
  return { pem: privateKey.export({ type: "pkcs1", format: "pem" }) as string, key: key as CryptoKey, publicKey: publicKey as CryptoKey };
}

async function signingMaterial(ca: Pick<IssuedCert, "certificate" | "privateKey">): Promise<SigningMaterial> {
  const der = createPrivateKey(ca.privateKey).export({ type: "pkcs8", format: "der" });
  const key = await webcrypto.subtle.importKey("pkcs8", der, SIGNING, false, ["sign"]);
  return { cert: new x509.X509Certificate(ca.certificate), key: key as CryptoKey };
}

function result(cert: x509.X509Certificate, privateKey: string): IssuedCert {
  return { certificate: cert.toString("pem"), privateKey, serialNumber: cert.serialNumber, notBefore: cert.notBefore, notAfter: cert.notAfter };
}

export interface CaOptions extends Validity {
  commonName?: string;
  organization?: string;
}

/** A self-signed RSA-2048 CA, ten years by default (Velociraptor's own `config generate` does the same). */
export async function generateCa(opts: CaOptions = {}): Promise<IssuedCert> {
  const { notBefore, notAfter } = window(opts, 3650);
  const k = await newRsaKey();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${opts.commonName ?? "Velociraptor CA"}, O=${opts.organization ?? "Velociraptor"}`,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    keys: { privateKey: k.key, publicKey: k.publicKey },
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(k.publicKey),
    ],
  });
  return result(cert, k.pem);
}

export interface LeafOptions extends Validity {
  commonName: string;
  organization?: string;
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: "server" | "client" | "both";
}

/** Issues a leaf certificate signed by `ca`. */
export async function issueCertificate(ca: Pick<IssuedCert, "certificate" | "privateKey">, opts: LeafOptions): Promise<IssuedCert> {
  const { notBefore, notAfter } = window(opts, 365);
  const signer = await signingMaterial(ca);
  const k = await newRsaKey();
  const eku =
    opts.usage === "server" ? [x509.ExtendedKeyUsage.serverAuth]
    : opts.usage === "client" ? [x509.ExtendedKeyUsage.clientAuth]
    : [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth];
  const san = [
    ...(opts.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(opts.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.commonName}, O=${opts.organization ?? "Velociraptor"}`,
    issuer: signer.cert.subject,
    notBefore,
    notAfter,
    signingAlgorithm: SIGNING,
    publicKey: k.publicKey,
    signingKey: signer.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(eku),
      ...(san.length ? [new x509.SubjectAlternativeNameExtension(san)] : []),
      await x509.SubjectKeyIdentifierExtension.create(k.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(signer.cert),
    ],
  });
  return result(cert, k.pem);
}

/**
 * The frontend certificate: Velociraptor serves both the client frontend and the gRPC API with it, so it is
 * valid for server and client auth, with CN and SAN = the pinned name plus any extra DNS names / IPs.
 */
export function issueServerCertificate(
  ca: Pick<IssuedCert, "certificate" | "privateKey">,
  opts: Validity & { pinnedName?: string; dnsNames?: string[]; ipAddresses?: string[] } = {},
): Promise<IssuedCert> {
  const pinned = opts.pinnedName ?? PINNED_SERVER_NAME;
  return issueCertificate(ca, {
    ...opts,
    commonName: pinned,
    dnsNames: [pinned, ...(opts.dnsNames ?? []).filter((d) => d !== pinned)],
    usage: "both",
  });
}

/**
 * The gRPC gateway certificate (CN `GRPC_GW`), used by the GUI's gateway to call the API. serverAuth + clientAuth:
 * Velociraptor identifies a gRPC caller only when its certificate passes Go's default x509 verification, which
 * demands serverAuth (services/users/grpc.go GetGRPCUserInfo; crypto/x509 verify.go), and its own
 * GenerateServerCert sets both usages (crypto/ca.go:150-153, used for GRPC_GW in bin/config.go:260 @ v0.77.2).
 */
export function issueGatewayCertificate(ca: Pick<IssuedCert, "certificate" | "privateKey">, opts: Validity = {}): Promise<IssuedCert> {
  return issueCertificate(ca, { ...opts, commonName: GATEWAY_NAME, usage: "both" });
}

/**
 * An API-client certificate; Velociraptor takes the caller's user name from the CN. serverAuth + clientAuth for the
 * same reason as the gateway: `config api_client` issues it with GenerateServerCert (bin/config.go:391 @ v0.77.2).
 */
export function issueApiClientCertificate(
  ca: Pick<IssuedCert, "certificate" | "privateKey">,
  opts: Validity & { name: string },
): Promise<IssuedCert> {
  if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(opts.name)) {
    throw new Error(`API client name "${opts.name}" is not a valid Velociraptor user name (letters, digits, _ . @ -)`);
  }
  return issueCertificate(ca, { ...opts, commonName: opts.name, usage: "both" });
}

/** Encrypts a PEM key the way `config api_client --password` does: legacy OpenSSL PEM, AES-256-CBC. */
export function encryptPrivateKey(pem: string, passphrase: string): string {
  return createPrivateKey(pem).export({ type: "pkcs1", format: "pem", cipher: "aes-256-cbc", passphrase }) as string;
}
