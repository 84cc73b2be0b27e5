/** `megaraptor render kubernetes`: manifests for review, or for clusters without Pulumi. */
import type { Command } from "commander";
import { resolve } from "node:path";
import { InputError } from "../../core/errors.js";

function collect(value: string, previous: Record<string, unknown>): Record<string, unknown> {
  const i = value.indexOf("=");
  if (i <= 0) throw new InputError("--set", `expected path=value, got "${value}"`, "e.g. --set resources.memoryMb=4096");
  const out = structuredClone(previous);
  let cur = out as Record<string, unknown>;
  const keys = value.slice(0, i).split(".");
  for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
  const raw = value.slice(i + 1);
  cur[keys[keys.length - 1]!] = /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw === "true" ? true : raw === "false" ? false : raw;
  return out;
}

export function register(program: Command): void {
  const render = program.command("render").description("Render deployments to files without Pulumi or a cluster");
  render
    .command("kubernetes")
    .description("Write Kubernetes manifests (validated against the Kubernetes OpenAPI schemas); Secrets go to <out>/secrets/ (0600)")
    .option("-p, --profile <name>", "minimal | rapid | standard | enterprise", "standard")
    .option("-n, --namespace <ns>", "namespace (default megaraptor-<deployment>)")
    .option("-d, --deployment <id>", "deployment id", "velociraptor")
    .option("--hostname <host>", "name clients use to reach the frontend", "velociraptor.example.com")
    .option("-o, --out <dir>", "output directory", "rendered/kubernetes")
    .option("--set <path=value>", "profile override (repeatable), e.g. resources.memoryMb=4096", collect, {})
    .action(async (o: { profile: string; namespace?: string; deployment: string; hostname: string; out: string; set: Record<string, unknown> }) => {
      const r = await import("../../components/kubernetes/render.js");
      const objects = await r.captureKubernetesObjects();
      const { KubernetesServer } = await import("../../components/kubernetes/index.js");
      const server = new KubernetesServer("velociraptor", { deploymentId: o.deployment, profile: o.profile, overrides: o.set, hostname: o.hostname, namespace: o.namespace });
      await r.settle(objects, [server.apiClientYaml, server.namespace, server.clientConfigYaml]);
      const problems: string[] = [];
      for (const obj of objects) for (const e of await r.validateManifest(obj)) problems.push(`${obj.kind}/${obj.metadata.name}: ${e}`);
      if (problems.length) throw new InputError("manifests", `failed Kubernetes schema validation:\n${problems.join("\n")}`, "This is a bug in the component; please report it.");
      const out = resolve(o.out);
      const { manifests, secrets } = r.writeManifests(objects, out);
      process.stderr.write(`wrote ${manifests.length} manifests to ${out}\n`);
      process.stderr.write(`wrote ${secrets.length} Secret(s) to ${out}/secrets/ (mode 0600) — they hold private keys: keep them out of version control, apply them with kubectl and delete them.\n`);
    });
}
