/**
 * A Pulumi dynamic provider that generates Velociraptor's PKI once and keeps it in state (as secrets), so
 * certificates are stable across `pulumi up` runs and change only when an input changes (e.g. `rotation`).
 *
 * Dynamic providers are serialised into state and run by the Node.js dynamic-provider host, a plain `node` in the
 * program's directory. The serialised functions therefore only load this module by absolute path at run time (from
 * dist/ as .js, from the sources through tsx: ../common/dynamic-module.ts) — this works on the machine that runs
 * `pulumi up` with this package installed, from any working directory, which is how Megaraptor is used.
 */
import type * as pulumi from "@pulumi/pulumi";
import { randomBytes } from "node:crypto";
import { dynamicModule, LOAD_DYNAMIC_MODULE } from "../common/dynamic-module.js";
import * as x509 from "./x509.js";

export interface PkiInputs {
  dnsNames: string[];
  ipAddresses: string[];
  validityDays: number;
  apiUsers: { name: string; roles: string[] }[];
  /** Change to re-issue every leaf certificate (server, gateway, API clients) under the same CA. */
  rotation: number;
  /** Change to make a new CA and client nonce (enrolled clients must then get a new client config). */
  caRotation?: number;
  /** GUI users who get a generated password (Basic authentication). */
  guiUsers?: string[];
}

export interface PkiOutputs extends PkiInputs {
  caCertificate: string;
  caPrivateKey: string;
  serverCertificate: string;
  serverPrivateKey: string;
  gatewayCertificate: string;
  gatewayPrivateKey: string;
  clientNonce: string;
  obfuscationNonce: string;
  apiClients: Record<string, { certificate: string; privateKey: string; roles: string[] }>;
  /** GUI user name -> password; generated once per user and kept across updates. */
  guiPasswords?: Record<string, string>;
  notAfter: string;
}

type X509 = typeof import("./x509.js");
type Leaf = { certificate: string; privateKey: string };

/** 24 random bytes, base64url: shell-safe (no quotes or spaces) and ~143 bits. */
function newPassword(randomBytes: (n: number) => Buffer): string {
  return randomBytes(24).toString("base64url");
}

async function issueLeaves(
  x: X509,
  ca: Leaf,
  inputs: PkiInputs,
  keep: { server?: Leaf & { notAfter: string }; gateway?: Leaf; apiClients?: PkiOutputs["apiClients"] } = {},
): Promise<Pick<PkiOutputs, "serverCertificate" | "serverPrivateKey" | "gatewayCertificate" | "gatewayPrivateKey" | "apiClients" | "notAfter">> {
  let server: Leaf & { notAfter: string };
  if (keep.server) server = keep.server;
  else {
    const c = await x.issueServerCertificate(ca, { validityDays: inputs.validityDays, dnsNames: inputs.dnsNames, ipAddresses: inputs.ipAddresses });
    server = { certificate: c.certificate, privateKey: c.privateKey, notAfter: c.notAfter.toISOString() };
  }
  const gateway = keep.gateway ?? (await x.issueGatewayCertificate(ca, { validityDays: inputs.validityDays }));
  const apiClients: PkiOutputs["apiClients"] = {};
  for (const u of inputs.apiUsers) {
    const kept = keep.apiClients?.[u.name];
    const c = kept ?? (await x.issueApiClientCertificate(ca, { name: u.name, validityDays: inputs.validityDays }));
    apiClients[u.name] = { certificate: c.certificate, privateKey: c.privateKey, roles: u.roles };
  }
  return {
    serverCertificate: server.certificate,
    serverPrivateKey: server.privateKey,
    gatewayCertificate: gateway.certificate,
    gatewayPrivateKey: gateway.privateKey,
    apiClients,
    notAfter: server.notAfter,
  };
}

function guiPasswords(users: string[] | undefined, old: Record<string, string> | undefined, randomBytes: (n: number) => Buffer): Record<string, string> {
  return Object.fromEntries((users ?? []).map((u) => [u, old?.[u] ?? newPassword(randomBytes)]));
}

/** Generates everything; exported so tests (and mocks) run exactly what the provider runs. */
export async function generatePki(inputs: PkiInputs): Promise<PkiOutputs> {
  const ca = await x509.generateCa({ commonName: "Velociraptor_ca", validityDays: Math.max(3650, inputs.validityDays) });
  return {
    ...inputs,
    caCertificate: ca.certificate,
    caPrivateKey: ca.privateKey,
    ...(await issueLeaves(x509, ca, inputs)),
    clientNonce: randomBytes(12).toString("base64"),
    obfuscationNonce: randomBytes(12).toString("base64"),
    guiPasswords: guiPasswords(inputs.guiUsers, undefined, randomBytes),
  };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * A day-2 change in place. Velociraptor clients pin Client.ca_certificate and Client.nonce, and Velociraptor's own
 * `config rotate_keys` keeps the CA (bin/config.go:240-265 @ v0.77.2), so the CA and both nonces survive every
 * change except an explicit `caRotation`. Leaves are re-issued only when what they certify changed: the server
 * certificate on new names, everything on `rotation` or a new validity; API users keep their certificates unless
 * added (new certificate) or removed (dropped); GUI passwords are kept per user.
 */
export async function updatePki(olds: PkiOutputs, news: PkiInputs): Promise<PkiOutputs> {
  if ((olds.caRotation ?? 0) !== (news.caRotation ?? 0)) {
    const fresh = await generatePki(news);
    return { ...fresh, guiPasswords: guiPasswords(news.guiUsers, olds.guiPasswords, randomBytes) };
  }
  const ca = { certificate: olds.caCertificate, privateKey: olds.caPrivateKey };
  const all = olds.rotation !== news.rotation || olds.validityDays !== news.validityDays;
  const names = !same(olds.dnsNames, news.dnsNames) || !same(olds.ipAddresses, news.ipAddresses);
  const leaves = await issueLeaves(x509, ca, news, {
    server: all || names ? undefined : { certificate: olds.serverCertificate, privateKey: olds.serverPrivateKey, notAfter: olds.notAfter },
    gateway: all ? undefined : { certificate: olds.gatewayCertificate, privateKey: olds.gatewayPrivateKey },
    apiClients: all ? undefined : olds.apiClients,
  });
  return {
    ...news,
    caCertificate: olds.caCertificate,
    caPrivateKey: olds.caPrivateKey,
    clientNonce: olds.clientNonce,
    obfuscationNonce: olds.obfuscationNonce,
    ...leaves,
    guiPasswords: guiPasswords(news.guiUsers, olds.guiPasswords, randomBytes),
  };
}

export function pkiProvider(): pulumi.dynamic.ResourceProvider {
  const spec = dynamicModule(import.meta.url, "provider");
  const loader = LOAD_DYNAMIC_MODULE;
  const load = () => new Function("spec", loader)(spec) as Promise<typeof import("./provider.js")>;
  return {
    async create(inputs: PkiInputs) {
      const outs = await (await load()).generatePki(inputs);
      return { id: `pki-${Date.now().toString(36)}`, outs };
    },
    async update(_id: string, olds: PkiOutputs, news: PkiInputs) {
      return { outs: await (await load()).updatePki(olds, news) };
    },
    async diff(_id: string, olds: PkiOutputs, news: PkiInputs) {
      // Self-contained: Pulumi serialises this function's source into state. Missing fields (state written before
      // caRotation/guiUsers existed) count as their defaults, so an upgrade alone changes nothing.
      const defaults: Record<string, unknown> = { caRotation: 0, guiUsers: [] };
      const keys = ["dnsNames", "ipAddresses", "validityDays", "apiUsers", "rotation", "caRotation", "guiUsers"] as const;
      const norm = (o: Record<string, unknown>, k: string) => JSON.stringify(o[k] ?? defaults[k] ?? null);
      const changed = keys.filter((k) => norm(olds as unknown as Record<string, unknown>, k) !== norm(news as unknown as Record<string, unknown>, k));
      // Always an in-place update: a replacement would run create() and mint a new CA and nonce, orphaning every
      // enrolled client. updatePki decides which certificates to re-issue.
      return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    },
  };
}
