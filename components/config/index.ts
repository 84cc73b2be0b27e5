/** Pulumi wrappers around the renderers: the inputs are outputs (PKI), the results are secrets. */
import * as pulumi from "@pulumi/pulumi";
import type { Profile } from "../../profiles/schema.js";
import type { VelociraptorPki } from "../pki/index.js";
import { renderApiClientYaml, renderClientConfig, renderServerConfig, renderToolConfig, type ServerConfigInput } from "./render.js";

export * from "./render.js";

export interface ConfigOutputs {
  serverConfigYaml: pulumi.Output<string>;
  /** The config offline tool commands use (differs only on a multi-frontend master; see renderToolConfig). */
  toolConfigYaml: pulumi.Output<string>;
  clientConfigYaml: pulumi.Output<string>;
  /** api_client.yaml per API user. */
  apiClientYamls: pulumi.Output<Record<string, string>>;
}

export function velociraptorConfigs(o: {
  pki: VelociraptorPki;
  profile: Profile;
  version: string;
  hostname: pulumi.Input<string>;
  datastorePath: string;
  bindAllInContainer?: boolean;
  apiConnectionString: pulumi.Input<string>;
  minionHostnames?: string[];
  publicFrontendPort?: number;
  apiHostname?: string;
}): ConfigOutputs {
  const p = o.pki;
  const input = pulumi
    .all([o.hostname, p.caCertificate, p.caPrivateKey, p.serverCertificate, p.serverPrivateKey, p.gatewayCertificate, p.gatewayPrivateKey, p.clientNonce, p.obfuscationNonce])
    .apply(([hostname, caCertificate, caPrivateKey, serverCertificate, serverPrivateKey, gatewayCertificate, gatewayPrivateKey, clientNonce, obfuscationNonce]): ServerConfigInput => ({
      profile: o.profile,
      version: o.version,
      hostname,
      datastorePath: o.datastorePath,
      bindAllInContainer: o.bindAllInContainer,
      minionHostnames: o.minionHostnames,
      apiHostname: o.apiHostname,
      publicFrontendPort: o.publicFrontendPort,
      pki: { caCertificate, caPrivateKey, serverCertificate, serverPrivateKey, gatewayCertificate, gatewayPrivateKey, clientNonce, obfuscationNonce },
    }));
  return {
    serverConfigYaml: pulumi.secret(input.apply(renderServerConfig)),
    toolConfigYaml: pulumi.secret(input.apply(renderToolConfig)),
    clientConfigYaml: pulumi.secret(input.apply(renderClientConfig)),
    apiClientYamls: pulumi.secret(
      pulumi.all([p.apiClients, p.caCertificate, o.apiConnectionString]).apply(([clients, ca, address]) =>
        Object.fromEntries(Object.entries(clients).map(([name, c]) => [name, renderApiClientYaml({ caCertificate: ca, certificate: c.certificate, privateKey: c.privateKey, apiConnectionString: address, name })])),
      ),
    ),
  };
}
