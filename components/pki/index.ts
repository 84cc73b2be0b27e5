/**
 * VelociraptorPki: the CA, the frontend/API certificate (CN and SAN VelociraptorServer plus the deployment's names),
 * the gRPC gateway certificate, API-client certificates, the enrolment nonces and generated GUI passwords. Keys are
 * secrets from birth. Day-2 changes update in place (see updatePki): the CA and client nonce change only on caRotation.
 */
import * as pulumi from "@pulumi/pulumi";
import { pkiProvider, type PkiInputs, type PkiOutputs } from "./provider.js";

export interface VelociraptorPkiArgs {
  dnsNames?: pulumi.Input<pulumi.Input<string>[]>;
  ipAddresses?: pulumi.Input<pulumi.Input<string>[]>;
  validityDays?: pulumi.Input<number>;
  apiUsers?: pulumi.Input<{ name: string; roles: string[] }[]>;
  /** Change (e.g. increment) to re-issue every leaf certificate under the same CA. */
  rotation?: pulumi.Input<number>;
  /** Change to make a new CA and client nonce: enrolled clients then need the new client config. */
  caRotation?: pulumi.Input<number>;
  /** GUI users (Basic authentication) who get a generated password. */
  guiUsers?: pulumi.Input<string[]>;
}

const SECRET_OUTPUTS = ["caPrivateKey", "serverPrivateKey", "gatewayPrivateKey", "apiClients", "clientNonce", "obfuscationNonce", "guiPasswords"];

class PkiResource extends pulumi.dynamic.Resource {
  declare readonly caCertificate: pulumi.Output<string>;
  declare readonly caPrivateKey: pulumi.Output<string>;
  declare readonly serverCertificate: pulumi.Output<string>;
  declare readonly serverPrivateKey: pulumi.Output<string>;
  declare readonly gatewayCertificate: pulumi.Output<string>;
  declare readonly gatewayPrivateKey: pulumi.Output<string>;
  declare readonly clientNonce: pulumi.Output<string>;
  declare readonly obfuscationNonce: pulumi.Output<string>;
  declare readonly apiClients: pulumi.Output<PkiOutputs["apiClients"]>;
  declare readonly guiPasswords: pulumi.Output<Record<string, string> | undefined>;
  declare readonly notAfter: pulumi.Output<string>;

  constructor(name: string, args: { [K in keyof PkiInputs]: pulumi.Input<PkiInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    const outs = Object.fromEntries(["caCertificate", "serverCertificate", "gatewayCertificate", "notAfter", ...SECRET_OUTPUTS].map((k) => [k, undefined]));
    super(pkiProvider(), name, { ...args, ...outs }, { ...opts, additionalSecretOutputs: SECRET_OUTPUTS });
  }
}

export class VelociraptorPki extends pulumi.ComponentResource {
  readonly caCertificate: pulumi.Output<string>;
  readonly caPrivateKey: pulumi.Output<string>;
  readonly serverCertificate: pulumi.Output<string>;
  readonly serverPrivateKey: pulumi.Output<string>;
  readonly gatewayCertificate: pulumi.Output<string>;
  readonly gatewayPrivateKey: pulumi.Output<string>;
  readonly clientNonce: pulumi.Output<string>;
  readonly obfuscationNonce: pulumi.Output<string>;
  readonly apiClients: pulumi.Output<PkiOutputs["apiClients"]>;
  /** GUI user name -> generated password (secret). */
  readonly guiPasswords: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: VelociraptorPkiArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super("megaraptor:index:VelociraptorPki", name, {}, opts);
    const r = new PkiResource(
      `${name}-pki`,
      { dnsNames: pulumi.output(args.dnsNames ?? []), ipAddresses: pulumi.output(args.ipAddresses ?? []), validityDays: args.validityDays ?? 365, apiUsers: args.apiUsers ?? [], rotation: args.rotation ?? 0, caRotation: args.caRotation ?? 0, guiUsers: args.guiUsers ?? [] },
      { parent: this },
    );
    this.caCertificate = r.caCertificate;
    this.serverCertificate = r.serverCertificate;
    this.gatewayCertificate = r.gatewayCertificate;
    // Wrap again so secretness holds even where a provider forgets additionalSecretOutputs (e.g. under mocks).
    this.caPrivateKey = pulumi.secret(r.caPrivateKey);
    this.serverPrivateKey = pulumi.secret(r.serverPrivateKey);
    this.gatewayPrivateKey = pulumi.secret(r.gatewayPrivateKey);
    this.clientNonce = pulumi.secret(r.clientNonce);
    this.obfuscationNonce = pulumi.secret(r.obfuscationNonce);
    this.apiClients = pulumi.secret(r.apiClients);
    this.guiPasswords = pulumi.secret(r.guiPasswords.apply((p) => p ?? {}));
    this.registerOutputs({ caCertificate: this.caCertificate, serverCertificate: this.serverCertificate, gatewayCertificate: this.gatewayCertificate, caPrivateKey: this.caPrivateKey, apiClients: this.apiClients });
  }
}
