/**
 * DeploymentClock: the instant a deployment was first created, kept in Pulumi state. The expiry tag of a `rapid`
 * deployment is computed from it, so it is the same on every run; computing it from the program's own clock
 * changed every tag (and every Docker label, which replaces the container) on every `pulumi up`.
 *
 * The provider's functions use nothing outside their own bodies: Pulumi serialises them into state, and a
 * self-contained function loads in the dynamic-provider host whatever the working directory.
 */
import * as pulumi from "@pulumi/pulumi";

/** Marks the clock's inputs, so mocks (tests, `megaraptor render`) can tell it from the PKI resource. */
export const CLOCK_MARKER = "megaraptorDeploymentClock";

export interface ClockOutputs {
  createdAt: string;
}

export function clockProvider(): pulumi.dynamic.ResourceProvider {
  return {
    async create() {
      const createdAt = new Date().toISOString();
      return { id: `clock-${createdAt}`, outs: { megaraptorDeploymentClock: true, createdAt } };
    },
    async diff() {
      // Nothing ever changes the creation time.
      return { changes: false };
    },
  };
}

class ClockResource extends pulumi.dynamic.Resource {
  declare readonly createdAt: pulumi.Output<string>;
  constructor(name: string, opts?: pulumi.CustomResourceOptions) {
    super(clockProvider(), name, { [CLOCK_MARKER]: true, createdAt: undefined }, opts);
  }
}

/** The deployment's creation time from state (a new deployment: now). */
export function deploymentCreatedAt(name: string, parent: pulumi.Resource): pulumi.Output<string> {
  return new ClockResource(`${name}-clock`, { parent }).createdAt;
}
