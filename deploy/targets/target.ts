/**
 * What a deploy target is: its settings section (a zod schema), its preflight checks and how its component is built.
 * A new target is its component (components/<name>), one module here made with `defineTarget`, and one entry in the
 * registry (./index.ts); the settings schema, the deploy tools' arguments, the CLI, preflight and the stack program
 * find it there.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { DeploymentBaseArgs } from "../../components/common/index.js";
import type { VelociraptorServerComponent } from "../../components/common/server.js";
import type { CheckResult } from "../preflight/checks.js";
import type { BaseSettings } from "../request/base.js";

/** Secrets resolved from credential aliases (never stored in the settings); Pulumi secret inputs. */
export interface DeploymentSecrets {
  sshPrivateKey?: pulumi.Input<string>;
  sshPassword?: pulumi.Input<string>;
}

/** A deployment's settings as the registry sees them: the shared fields, and each target's section under its name. */
export type TargetSettings = BaseSettings & { target: string; [section: string]: unknown };

export interface PreflightContext {
  env: NodeJS.ProcessEnv;
  secrets: DeploymentSecrets;
}

export interface BuildContext {
  /** Pulumi name of the server component (the deployment id). */
  name: string;
  base: DeploymentBaseArgs;
  secrets: DeploymentSecrets;
  opts: pulumi.ComponentResourceOptions;
}

export interface TargetDefinition<N extends string, S extends z.ZodType> {
  name: N;
  /** One line for the tools' descriptions and the docs. */
  title: string;
  /** The example stack, Pulumi.<example>.yaml. */
  example: string;
  /** The target's own settings: `megaraptor:<name>` in a stack, the `<name>` argument of deploy_server. */
  settings: S;
  /** A deployment on this target cannot be made from the section's defaults alone. */
  sectionRequired: boolean;
  /** Host name used when a request names none (e.g. localhost for Docker). */
  defaultHostname?: string;
  preflight(section: z.output<S>, s: TargetSettings, c: PreflightContext): Promise<CheckResult[]>;
  /** Imports the component (and its provider SDK) when a deployment is built: most sessions never deploy. */
  build(section: z.output<S>, c: BuildContext): Promise<VelociraptorServerComponent>;
}

/** A registry entry: the definition with its section taken out of the whole settings. */
export interface DeployTarget<N extends string = string> {
  readonly name: N;
  readonly title: string;
  readonly example: string;
  readonly settings: z.ZodType;
  readonly sectionRequired: boolean;
  readonly defaultHostname?: string;
  preflight(s: TargetSettings, c: PreflightContext): Promise<CheckResult[]>;
  build(s: TargetSettings, c: BuildContext): Promise<VelociraptorServerComponent>;
}

export function defineTarget<N extends string, S extends z.ZodType>(d: TargetDefinition<N, S>): DeployTarget<N> {
  // The composed settings schema validated the section already; parsing it again gives it its type without a cast.
  const section = (s: TargetSettings): z.output<S> => d.settings.parse(s[d.name]);
  return {
    name: d.name,
    title: d.title,
    example: d.example,
    settings: d.settings,
    sectionRequired: d.sectionRequired,
    defaultHostname: d.defaultHostname,
    preflight: (s, c) => d.preflight(section(s), s, c),
    build: (s, c) => d.build(section(s), c),
  };
}
