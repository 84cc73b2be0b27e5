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
    expect(objs.map((o) => o.kind).sort()).toEqual(["ConfigMap", "Namespace", "NetworkPolicy", "Secret", "Service", "Service", "Service", "Service", "StatefulSet"]);
    const ss = find(objs, "StatefulSet")[0] as any;
    expect(ss.spec.volumeClaimTemplates[0].spec.accessModes).toEqual(["ReadWriteOnce"]);
    const c = ss.spec.template.spec.containers[0];
    expect(c.resources).toEqual({ requests: { cpu: "1", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } });
    expect(c.readinessProbe.httpGet).toEqual({ path: "/healthz", port: 8000, scheme: "HTTPS" });
    for (const o of objs) expect(await render.validateManifest(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
    for (const o of objs) expect(o.metadata.name).toBeTruthy();
  });

  it("enterprise: master StatefulSet + minion StatefulSet sharing an RWX claim, PDB for HA", async () => {
    const { objects: objs } = await build("enterprise", { sharedStorageClass: "efs" });
    const pvc = find(objs, "PersistentVolumeClaim")[0] as any;
    expect(pvc.spec.accessModes).toEqual(["ReadWriteMany"]);
    const minion = find(objs, "StatefulSet", "velociraptor-minion")[0] as any;
    expect(minion.spec.replicas).toBe(2);
    expect(minion.spec.template.spec.volumes.find((v: any) => v.name === "datastore").persistentVolumeClaim.claimName).toBe("velociraptor-datastore");
    const master = find(objs, "StatefulSet", "velociraptor-master")[0] as any;
    expect(master.spec.volumeClaimTemplates).toEqual([]);
    expect(find(objs, "PodDisruptionBudget")).toHaveLength(1);
    const frontend = find(objs, "Service", "velociraptor-frontend")[0] as any;
    expect(frontend.spec.selector["megaraptor/frontend"]).toBe("true");
    for (const o of objs) expect(await render.validateManifest(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
  });

  // A6: `frontend --node X` selects the ExtraFrontends entry whose GetNodeName() ("<hostname>-<bind_port>") is X and
  // fails with "Frontend X not found!" otherwise (bin/minions.go:18-26, services/frontend/frontend.go:469-487,
  // services/frontend.go:104-110 @ v0.77.2). Each minion pod must therefore name an entry that exists.
  it("enterprise: every minion's --node names an ExtraFrontends entry, and the datastore is set up for multi-frontend", async () => {
    const { objects: objs } = await build("enterprise", { sharedStorageClass: "efs" });
    const minion = find(objs, "StatefulSet", "velociraptor-minion")[0] as any;
    const c = minion.spec.template.spec.containers[0];
    const nodeArg = c.args[c.args.indexOf("--node") + 1] as string;
    expect(c.args).toContain("--minion");
    expect(c.env).toEqual(expect.arrayContaining([{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }]));
    const cfg = parse((find(objs, "Secret")[0] as any).stringData["server.config.yaml"]);
    const nodeNames = (cfg.ExtraFrontends as { hostname: string; bind_port: number }[]).map((f) => `${f.hostname}-${f.bind_port}`);
    // StatefulSet pods are <name>-0 .. <name>-(replicas-1); Kubernetes expands $(POD_NAME) in args.
    for (let i = 0; i < minion.spec.replicas; i++) expect(nodeNames).toContain(nodeArg.replace("$(POD_NAME)", `velociraptor-minion-${i}`));
    expect(nodeNames).not.toContain(`${cfg.Frontend.hostname}-${cfg.Frontend.bind_port}`); // the master's node name stays its own
    // velociraptor-docs deployment/server/multifrontend: master MemcacheFileDataStore, minions RemoteFileDataStore.
    expect(cfg.Datastore).toMatchObject({ master_implementation: "MemcacheFileDataStore", minion_implementation: "RemoteFileDataStore" });
    // The master and minions dial the API Service, which the master serves.
    expect(cfg.API).toMatchObject({ hostname: "velociraptor-api.megaraptor-dep-enterprise.svc", bind_address: "0.0.0.0" });
    expect(minion.spec.serviceName).toBe("velociraptor-minion");
    expect((find(objs, "Service", "velociraptor-minion")[0] as any).spec.clusterIP).toBe("None");
  });

  // A2: users exist before the master serves; the tool commands run on the plain file datastore (a tool process
  // does not run MemcacheFileDataStore's writer, datastore/memcache_file.go:348-350 notInitializedError).
  it("an init container on the master makes the API and GUI users exist before the server starts", async () => {
    const { objects: objs } = await build("enterprise", { sharedStorageClass: "efs" });
    const master = find(objs, "StatefulSet", "velociraptor-master")[0] as any;
    const init = master.spec.template.spec.initContainers[0];
    expect(init.command).toEqual(["/bin/sh", "/etc/velociraptor/bootstrap-users.sh"]);
    expect(init.image).toBe(master.spec.template.spec.containers[0].image);
    expect(init.volumeMounts.map((m: any) => m.name).sort()).toEqual(["config", "datastore", "tmp"]);
    const secret = (find(objs, "Secret")[0] as any).stringData;
    expect(secret["bootstrap-users.sh"]).toContain("'/bin/velociraptor' --config '/etc/velociraptor/bootstrap.config.yaml'");
    expect(secret["bootstrap-users.sh"]).toContain("vr user add 'admin'");
    const toolCfg = parse(secret["bootstrap.config.yaml"]);
    expect(toolCfg.Datastore.master_implementation).toBeUndefined();
    expect(toolCfg.Datastore.implementation).toBe("FileBaseDataStore");
    expect(find(objs, "StatefulSet", "velociraptor-minion")[0]).toBeDefined();
  });

  // A2 day-2 (and B5 for Kubernetes): a Secret change does not restart pods by itself; a digest of the config and
  // users in the pod template does, so the init container creates new users and the server loads the new config.
  it("pods roll when the config or the users change", async () => {
    const a = (await build("standard")).objects;
    const b = (await build("standard", { apiUsers: [{ name: "bot", roles: ["api"] }] })).objects;
    const digest = (objs: K8sObject[]) => (find(objs, "StatefulSet", "velociraptor-master")[0] as any).spec.template.metadata.annotations["megaraptor/config-sha256"];
    expect(digest(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(digest(b)).not.toBe(digest(a));
  });

  // C7: restricted Pod Security, no service account token, a startup probe that gives a slow datastore time.
  it("pods run hardened with a startup probe", async () => {
    const { objects: objs } = await build("enterprise", { sharedStorageClass: "efs", guiIngressHost: "gui.example.com" });
    expect((find(objs, "Namespace")[0] as any).metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    for (const ss of find(objs, "StatefulSet") as any[]) {
      const spec = ss.spec.template.spec;
      expect(spec.automountServiceAccountToken, ss.metadata.name).toBe(false);
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
        expect(c.securityContext, c.name).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
      }
      const main = spec.containers[0];
      expect(main.startupProbe.httpGet.path).toBe("/healthz");
      expect(main.startupProbe.failureThreshold * main.startupProbe.periodSeconds).toBeGreaterThanOrEqual(600);
    }
    // The Ingress name is in the server certificate's SANs.
    const { X509Certificate } = await import("node:crypto");
    const cfg = parse((find(objs, "Secret")[0] as any).stringData["server.config.yaml"]);
    expect(new X509Certificate(cfg.Frontend.certificate).subjectAltName).toContain("DNS:gui.example.com");
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
