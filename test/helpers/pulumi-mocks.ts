/**
 * Pulumi unit-test harness: `pulumi.runtime.setMocks` with a recorder of every registration (type, name, inputs,
 * parent URN). Dynamic PKI resources are answered by running the real generator, so tests check real certificates.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { answerDynamicResource } from "../../components/common/dynamic-mocks.js";

/** Every DeploymentClock under these mocks was "created" at this instant, so tests can see what derives from it. */
export const MOCK_CREATED_AT = "2030-01-01T00:00:00.000Z";

export interface Registration {
  type: string;
  name: string;
  inputs: Record<string, any>;
  custom: boolean;
}

export const registrations: Registration[] = [];

export async function installMocks(): Promise<void> {
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        registrations.push({ type: args.type, name: args.name, inputs: args.inputs, custom: args.custom ?? true });
        if (args.type.startsWith("pulumi-nodejs:dynamic")) {
          return { id: `${args.name}-id`, state: await answerDynamicResource(args.inputs, new Date(MOCK_CREATED_AT), args.type) };
        }
        const state: Record<string, unknown> = { ...args.inputs };
        if (args.type.startsWith("aws:")) state.arn = `arn:aws:${args.type.split(":")[1]!.split("/")[0]}:eu-west-1:123456789012:${args.name}`;
        if (args.type === "docker:index/container:Container") state.id = `${args.name}-container-id`;
        if (args.type === "aws:ec2/instance:Instance") Object.assign(state, { publicIp: "203.0.113.10", privateIp: "10.0.1.10", publicDns: "ec2-203-0-113-10.compute.amazonaws.com" });
        if (args.type === "aws:ec2/eip:Eip") Object.assign(state, { publicIp: "203.0.113.20" });
        // Secrets Manager gives every new secret value a new VersionId (PutSecretValue); the mock derives it from the value.
        if (args.type === "aws:secretsmanager/secretVersion:SecretVersion") state.versionId = createHash("sha256").update(JSON.stringify(args.inputs.secretString ?? null)).digest("hex").slice(0, 32);
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        if (args.token === "aws:ec2/getSubnet:getSubnet") return { id: args.inputs.id, vpcId: "vpc-existing", availabilityZone: "eu-west-1b" };
        if (args.token === "aws:index/getAvailabilityZones:getAvailabilityZones") return { id: "eu-west-1", names: ["eu-west-1a", "eu-west-1b", "eu-west-1c"], zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"] };
        if (args.token === "aws:ec2/getAmi:getAmi") return { id: "ami-0123456789abcdef0", imageId: "ami-0123456789abcdef0", name: "debian-12-amd64" };
        return args.inputs;
      },
    },
    "megaraptor",
    "test",
    false,
  );
}

export function resetRegistrations(): void {
  registrations.length = 0;
}

/** Resolves an Output in tests. */
export function value<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => o.apply((v) => resolve(v)));
}

/** Whether an Output is marked secret. */
export function isSecret(o: pulumi.Output<unknown>): Promise<boolean> {
  return pulumi.isSecret(o);
}

export function ofType(type: string): Registration[] {
  return registrations.filter((r) => r.type === type);
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Mocks receive secret inputs wrapped with Pulumi's secret signature; this unwraps and reports secretness. */
export function unwrapSecret<T = any>(v: any): { secret: boolean; value: T } {
  if (v && typeof v === "object" && SECRET_SIG in v) return { secret: true, value: v.value as T };
  return { secret: false, value: v as T };
}

/** Waits until a resource of this type has been registered (registration is asynchronous). */
export async function waitForType(type: string, timeoutMs = 10_000): Promise<Registration[]> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const found = ofType(type);
    if (found.length) return found;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ${type} was registered within ${timeoutMs} ms`);
}

/** Waits until `ready()` holds (component children register asynchronously, more slowly on a loaded machine). */
export async function waitUntil(ready: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
