/**
 * Renders a KubernetesServer to plain manifests without a cluster or the Pulumi CLI: the component runs in-process
 * under Pulumi's mocks, every object handed to a Kubernetes resource is captured, validated against the Kubernetes
 * OpenAPI schemas (kubernetes-models), and written one file per object. Secrets go to secrets/ with mode 0600.
 */
import * as pulumi from "@pulumi/pulumi";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { answerDynamicResource } from "../common/dynamic-mocks.js";

export type K8sObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

function unwrap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrap);
  if (v && typeof v === "object") {
    if (SECRET_SIG in v) return unwrap((v as unknown as { value: unknown }).value);
    return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined).map(([k, x]) => [k, unwrap(x)]));
  }
  return v;
}

/** Validates one object against the OpenAPI schema of its apiVersion/kind; returns error strings. */
export async function validateManifest(obj: K8sObject): Promise<string[]> {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const modPath = group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`;
  const mod = (await import(modPath)) as Record<string, new (o: unknown) => { validate(): void }>;
  const Model = mod[obj.kind];
  if (!Model) return [`no schema for ${obj.apiVersion} ${obj.kind}`];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** Captures the Kubernetes objects a component creates under mocks. Call before constructing the component. */
export async function captureKubernetesObjects(): Promise<K8sObject[]> {
  const objects: K8sObject[] = [];
  await pulumi.runtime.setMocks(
    {
      async newResource(args) {
        if (args.type === "pulumi-nodejs:dynamic:Resource") {
          return { id: `${args.name}-id`, state: await answerDynamicResource(args.inputs) };
        }
        if (args.type.startsWith("kubernetes:")) {
          const obj = unwrap(args.inputs) as K8sObject;
          objects.push(obj);
          const metadata = { ...obj.metadata, name: obj.metadata?.name ?? args.name };
          return { id: `${metadata.namespace ?? "default"}/${metadata.name}`, state: { ...obj, metadata } };
        }
        return { id: `${args.name}-id`, state: args.inputs };
      },
      call: (a) => a.inputs,
    },
    "megaraptor",
    "render",
    false,
  );
  return objects;
}

export function fileNameFor(o: K8sObject): string {
  return `${o.apiVersion.replace("/", "_")}-${o.kind}-${o.metadata.namespace ?? "cluster"}-${o.metadata.name}.yaml`.toLowerCase();
}

/** Writes manifests; Secrets separately with 0600. Returns the paths written. */
export function writeManifests(objects: K8sObject[], outDir: string): { manifests: string[]; secrets: string[] } {
  mkdirSync(outDir, { recursive: true });
  const secretsDir = join(outDir, "secrets");
  const manifests: string[] = [];
  const secrets: string[] = [];
  for (const o of objects) {
    if (o.kind === "Secret") {
      mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
      const path = join(secretsDir, fileNameFor(o));
      writeFileSync(path, stringify(o, { lineWidth: 0 }), { mode: 0o600 });
      chmodSync(path, 0o600);
      secrets.push(path);
    } else {
      const path = join(outDir, fileNameFor(o));
      writeFileSync(path, stringify(o, { lineWidth: 0 }));
      manifests.push(path);
    }
  }
  return { manifests, secrets };
}

/** Waits until the component has registered everything (outputs resolved, no new objects for a moment). */
export async function settle(objects: unknown[], outputs: pulumi.Output<unknown>[]): Promise<void> {
  await Promise.all(outputs.map((o) => new Promise((r) => o.apply(r))));
  let last = -1;
  while (objects.length !== last) {
    last = objects.length;
    await new Promise((r) => setTimeout(r, 100));
  }
}
