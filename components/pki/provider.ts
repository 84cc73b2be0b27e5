/**
 * A Pulumi dynamic provider that generates Velociraptor's PKI once and keeps it in state (as secrets), so
 * certificates are stable across `pulumi up` runs and change only when an input changes (e.g. `rotation`).
 *
 * Trade-off: dynamic providers are serialised into state and run by the Node.js dynamic-provider host. The
 * provider therefore loads the X.509 module by absolute path at run time instead of capturing it — this works on
 * the machine that runs `pulumi up` with this package installed, which is how Megaraptor is used.
 */
import type * as pulumi from "@pulumi/pulumi";
import { fileURLToPath } from "node:url";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

export interface PkiInputs {
  dnsNames: string[];
  ipAddresses: string[];
  validityDays: number;
  apiUsers: { name: string; roles: string[] }[];
  rotation: number;
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
  notAfter: string;
}

const here = fileURLToPath(import.meta.url);
const ext = here.endsWith(".ts") && !existsSync(here.replace(/\.ts$/, ".js")) ? ".ts" : ".js";
const X509_MODULE = join(dirname(here), `x509${ext}`);

/** Generates everything; exported so tests (and mocks) run exactly what the provider runs. */
export async function generatePki(inputs: PkiInputs, modulePath: string = X509_MODULE): Promise<PkiOutputs> {
  const x = (await import(modulePath)) as typeof import("./x509.js");
  const { randomBytes } = await import("node:crypto");
  const ca = await x.generateCa({ commonName: "Velociraptor_ca", validityDays: Math.max(3650, inputs.validityDays) });
  const server = await x.issueServerCertificate(ca, { validityDays: inputs.validityDays, dnsNames: inputs.dnsNames, ipAddresses: inputs.ipAddresses });
  const gateway = await x.issueGatewayCertificate(ca, { validityDays: inputs.validityDays });
  const apiClients: PkiOutputs["apiClients"] = {};
  for (const u of inputs.apiUsers) {
    const c = await x.issueApiClientCertificate(ca, { name: u.name, validityDays: inputs.validityDays });
    apiClients[u.name] = { certificate: c.certificate, privateKey: c.privateKey, roles: u.roles };
  }
  return {
    ...inputs,
    caCertificate: ca.certificate,
    caPrivateKey: ca.privateKey,
    serverCertificate: server.certificate,
    serverPrivateKey: server.privateKey,
    gatewayCertificate: gateway.certificate,
    gatewayPrivateKey: gateway.privateKey,
    clientNonce: randomBytes(12).toString("base64"),
    obfuscationNonce: randomBytes(12).toString("base64"),
    apiClients,
    notAfter: server.notAfter.toISOString(),
  };
}

export function pkiProvider(): pulumi.dynamic.ResourceProvider {
  const modulePath = X509_MODULE;
  const providerModule = join(dirname(here), `provider${ext}`);
  return {
    async create(inputs: PkiInputs) {
      // A native dynamic import built at run time: the function is serialised as source, and bundlers/test
      // runners must not rewrite this import into a helper that cannot be serialised.
      const load = new Function("p", "return import(p)") as (p: string) => Promise<typeof import("./provider.js")>;
      const { generatePki: gen } = await load(providerModule);
      const outs = await gen(inputs, modulePath);
      return { id: `pki-${Date.now().toString(36)}`, outs };
    },
    async diff(_id: string, olds: PkiOutputs, news: PkiInputs) {
      const keys: (keyof PkiInputs)[] = ["dnsNames", "ipAddresses", "validityDays", "apiUsers", "rotation"];
      const changed = keys.filter((k) => JSON.stringify(olds[k]) !== JSON.stringify(news[k]));
      // Any change re-issues the whole PKI: certificates chain to the CA, so partial rotation would strand clients.
      return { changes: changed.length > 0, replaces: changed, deleteBeforeReplace: false };
    },
  };
}
