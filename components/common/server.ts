/** The outputs every Velociraptor server component exposes, set once through `publish`. */
import * as pulumi from "@pulumi/pulumi";

export interface ServerOutputs {
  serverUrl: pulumi.Output<string>;
  guiUrl: pulumi.Output<string>;
  apiAddress: pulumi.Output<string>;
  /** api_client.yaml of the first API user (secret). */
  apiClientYaml: pulumi.Output<string>;
  /** client.config.yaml for enrolling endpoints (secret). */
  clientConfigYaml: pulumi.Output<string>;
}

export abstract class VelociraptorServerComponent extends pulumi.ComponentResource implements ServerOutputs {
  declare readonly serverUrl: pulumi.Output<string>;
  declare readonly guiUrl: pulumi.Output<string>;
  declare readonly apiAddress: pulumi.Output<string>;
  declare readonly apiClientYaml: pulumi.Output<string>;
  declare readonly clientConfigYaml: pulumi.Output<string>;

  /** The full server.config.yaml (secret: it holds the CA and server keys). */
  declare readonly serverConfigYaml: pulumi.Output<string>;
  /** api_client.yaml per API user (secret). */
  declare readonly apiClientYamls: pulumi.Output<Record<string, string>>;
  /** GUI user -> generated password for the Basic-auth GUI (secret). */
  declare readonly guiPasswords: pulumi.Output<Record<string, string>>;

  /** Sets the common outputs (plus the configs and target-specific ones) and registers them. */
  protected publish(
    outputs: ServerOutputs,
    extra: { serverConfigYaml: pulumi.Output<string>; apiClientYamls: pulumi.Output<Record<string, string>>; guiPasswords: pulumi.Output<Record<string, string>> } & Record<string, pulumi.Output<unknown> | undefined>,
  ): void {
    Object.assign(this, outputs, { serverConfigYaml: extra.serverConfigYaml, apiClientYamls: extra.apiClientYamls, guiPasswords: extra.guiPasswords });
    this.registerOutputs({ ...outputs, ...extra });
  }
}
