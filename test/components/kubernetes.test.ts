import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import type { K8sObject } from "../../components/kubernetes/render.js";

let render: typeof import("../../components/kubernetes/render.js");
let KubernetesServer: typeof import("../../components/kubernetes/index.js").KubernetesServer;
let objects: K8sObject[];

beforeAll(async () => {
  render = await import("../../components/kubernetes/render.js");
  objects = await render.captureKubernetesObjects();
  ({ KubernetesServer } = await import("../../components/kubernetes/index.js"));
});

async function build(profile: string, extra: Record<string, unknown> = {}) {
  objects.length = 0;
  const s = new KubernetesServer(`k-${profile}`, { deploymentId: `dep-${profile}`, profile, hostname: "vr.example.com", ...extra });
  await render.settle(objects, [s.apiClientYaml, s.namespace]);
  return { server: s, objects: [...objects] };
}

const find = (objs: K8sObject[], kind: string, name?: string) => objs.filter((o) => o.kind === kind && (!name || o.metadata.name === name));

describe("KubernetesServer", () => {
  it("standard: namespace, secret, configmap, StatefulSet with a per-pod claim, three services, a network policy — all schema-valid", async () => {
    const { objects: objs } = await build("standard");
    expect(objs.map((o) => o.kind).sort()).toEqual(["ConfigMap", "Namespace", "NetworkPolicy", "Secret", "Service", "Service", "Service", "StatefulSet"]);
    const ss = find(objs, "StatefulSet")[0] as any;
    expect(ss.spec.volumeClaimTemplates[0].spec.accessModes).toEqual(["ReadWriteOnce"]);
    const c = ss.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/healthz", port: 8000, scheme: "HTTPS" });
    for (const o of objs) expect(await render.validateManifest(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
    for (const o of objs) expect(o.metadata.name).toBeTruthy();
  });

  it("enterprise: master StatefulSet + scaling minion Deployment sharing an RWX claim, PDB for HA", async () => {
    const { objects: objs } = await build("enterprise", { sharedStorageClass: "efs" });
    const pvc = find(objs, "PersistentVolumeClaim")[0] as any;
    expect(pvc.spec.accessModes).toEqual(["ReadWriteMany"]);
    const minion = find(objs, "Deployment")[0] as any;
    expect(minion.spec.replicas).toBe(2);
    expect(minion.spec.template.spec.containers[0].args).toEqual(expect.arrayContaining(["--minion", "--node"]));
    expect(minion.spec.template.spec.volumes[1].persistentVolumeClaim.claimName).toBe("velociraptor-datastore");
    const master = find(objs, "StatefulSet")[0] as any;
    expect(master.spec.volumeClaimTemplates).toEqual([]);
    expect(find(objs, "PodDisruptionBudget")).toHaveLength(1);
    const frontend = find(objs, "Service", "velociraptor-frontend")[0] as any;
    expect(frontend.spec.selector["megaraptor/frontend"]).toBe("true");
    for (const o of objs) expect(await render.validateManifest(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
  });

  it("keeps keys in the Secret only; the ConfigMap holds nothing private", async () => {
    const { objects: objs } = await build("minimal");
    const secret = find(objs, "Secret")[0] as any;
    expect(secret.stringData["server.config.yaml"]).toContain("PRIVATE KEY");
    expect(JSON.stringify(find(objs, "ConfigMap")[0])).not.toContain("PRIVATE KEY");
    expect(parse(secret.stringData["server.config.yaml"]).API.bind_address).toBe("0.0.0.0");
    // A7: master GUI gateway and minions dial API.hostname; the in-cluster API Service answers there.
    expect(parse(secret.stringData["server.config.yaml"]).API.hostname).toBe("velociraptor-api.megaraptor-dep-minimal.svc");
  });

  it("the validator rejects an object that breaks the schema", async () => {
    const bad = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "x" }, spec: { replicas: "three", selector: {}, template: {} } } as unknown as K8sObject;
    expect((await render.validateManifest(bad)).length).toBeGreaterThan(0);
  });
});

describe("megaraptor render kubernetes", () => {
  it("writes manifests, and the Secret separately with mode 0600", async () => {
    const out = mkdtempSync(join(tmpdir(), "mr-render-"));
    const r = await promisify(execFile)(process.execPath, ["--import", "tsx", "cli/main.ts", "render", "kubernetes", "--profile", "rapid", "--out", out, "--set", "resources.memoryMb=8192"]);
    expect(r.stderr).toMatch(/wrote \d+ manifests/);
    const files = readdirSync(out);
    expect(files.some((f) => f.includes("statefulset"))).toBe(true);
    expect(files.filter((f) => f !== "secrets").some((f) => f.includes("secret"))).toBe(false);
    const secrets = readdirSync(join(out, "secrets"));
    expect(secrets).toHaveLength(1);
    expect(statSync(join(out, "secrets", secrets[0]!)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(out, files.find((f) => f.includes("namespace"))!), "utf8")).toContain("megaraptor-velociraptor");
  });
});
