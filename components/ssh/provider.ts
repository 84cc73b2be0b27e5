/**
 * The SSH install as a Pulumi dynamic resource: the engine runs it through `pulumi-resource-pulumi-nodejs`, which
 * ships in @pulumi/pulumi — no provider plugin to build or download (the Go module proxy refuses
 * pulumi-resource-command here, and a customer's air-gapped CI may too). The functions below are serialised into
 * state; they only load ./install.js (or .ts from the sources) by absolute path, see ../common/dynamic-module.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { dynamicModule, LOAD_DYNAMIC_MODULE } from "../common/dynamic-module.js";
import type { Observed, SshInstallInputs, SshInstallOutputs } from "./plan.js";

type Install = typeof import("./install.js");

export function sshInstallProvider(): pulumi.dynamic.ResourceProvider {
  const spec = dynamicModule(import.meta.url, "install");
  const loader = LOAD_DYNAMIC_MODULE;
  const load = () => new Function("spec", loader)(spec) as Promise<Install>;
  return {
    async diff(_id: string, olds: SshInstallOutputs, news: SshInstallInputs) {
      const { changes, replaces, deleteBeforeReplace } = (await load()).diffInstall(olds, news);
      return { changes, replaces, deleteBeforeReplace };
    },
    async create(inputs: SshInstallInputs) {
      return (await load()).createInstall(inputs);
    },
    async update(id: string, olds: SshInstallOutputs, news: SshInstallInputs) {
      return (await load()).updateInstall(id, olds, news);
    },
    async delete(id: string, olds: SshInstallOutputs) {
      await (await load()).deleteInstall(id, olds);
    },
    async read(id: string, props: SshInstallOutputs) {
      return (await load()).readInstall(id, props);
    },
  };
}

/** Marks the install's inputs, so mocks (tests, `megaraptor render`) can tell it from the other dynamic resources. */
export const SSH_INSTALL_TYPE = "pulumi-nodejs:dynamic/megaraptor:SshInstall";

/** Inputs that hold secrets: the SSH key or password, the config (private keys), the bootstrap (GUI passwords). */
const SECRET_OUTPUTS = ["connection", "serverConfigYaml", "bootstrapScript"];

export class SshServerInstall extends pulumi.dynamic.Resource {
  declare readonly observed: pulumi.Output<Observed>;

  constructor(name: string, args: { [K in keyof SshInstallInputs]: pulumi.Input<SshInstallInputs[K]> }, opts?: pulumi.CustomResourceOptions) {
    super(sshInstallProvider(), name, { ...args, observed: undefined }, { ...opts, additionalSecretOutputs: SECRET_OUTPUTS }, "megaraptor", "SshInstall");
  }
}
