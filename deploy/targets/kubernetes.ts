/** A Kubernetes cluster from the kubeconfig: the KubernetesServer component (StatefulSet, Services, NetworkPolicies). */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { z } from "zod";
import { Cidr } from "../request/base.js";
import { fail, pass, type CheckResult } from "../preflight/checks.js";
import { defineTarget } from "./target.js";

export const KubernetesSettings = z
  .object({
    namespace: z.string().optional(),
    storage_class: z.string().optional(),
    shared_storage_class: z.string().optional().describe("ReadWriteMany storage class (minions in enterprise)"),
    frontend_load_balancer: z.boolean().default(false).describe("expose the client frontend through a LoadBalancer Service (default ClusterIP)"),
    gui_ingress_host: z.string().optional().describe("host name of an Ingress to the GUI"),
    admin_cidrs: z.array(Cidr).optional().describe("CIDRs allowed to reach GUI and API (default: pods in the namespace)"),
    kubeconfig_context: z.string().optional().describe("kubeconfig context (default: the current one)"),
  })
  .strict()
  .default({ frontend_load_balancer: false });

interface KubeConfig {
  "current-context"?: string;
  contexts?: { name: string; context: { cluster: string } }[];
  clusters?: { name: string; cluster: { server: string } }[];
}

export const kubernetesTarget = defineTarget({
  name: "kubernetes",
  title: "a Kubernetes cluster (kubeconfig context)",
  example: "k8s-enterprise",
  settings: KubernetesSettings,
  sectionRequired: false,
  async preflight(k, _s, { env }): Promise<CheckResult[]> {
    const path = env.KUBECONFIG?.split(":")[0] ?? join(homedir(), ".kube", "config");
    if (!existsSync(path)) return [fail("kubeconfig", `${path} not found`, "Set KUBECONFIG or create ~/.kube/config for the cluster.")];
    const kc = parse(readFileSync(path, "utf8")) as KubeConfig;
    const ctxName = k.kubeconfig_context ?? kc["current-context"];
    const context = kc.contexts?.find((c) => c.name === ctxName);
    if (!context) return [fail("kubernetes context", `context "${ctxName ?? "(none)"}" not in ${path}`, "Set kubernetes.kubeconfig_context to one of: " + (kc.contexts ?? []).map((c) => c.name).join(", "))];
    const server = kc.clusters?.find((c) => c.name === context.context.cluster)?.cluster.server;
    if (!server) return [fail("kubernetes context", `cluster of context ${ctxName} has no server`, "Fix the kubeconfig.")];
    try {
      const res = await fetch(`${server}/version`, { signal: AbortSignal.timeout(5000) });
      return [pass("kubernetes context", `${ctxName} → ${server}`), res.status < 500 ? pass("kubernetes API", `${server} answered ${res.status}`) : fail("kubernetes API", `${server} answered ${res.status}`, "Check the cluster's health.")];
    } catch (err) {
      return [pass("kubernetes context", `${ctxName} → ${server}`), fail("kubernetes API", `${server}: ${(err as Error).message}`, "Check network access to the API server (VPN, firewall) and that the cluster runs.")];
    }
  },
  async build(k, { name, base, opts }) {
    const [k8s, { KubernetesServer }] = await Promise.all([import("@pulumi/kubernetes"), import("../../components/kubernetes/index.js")]);
    const provider = k.kubeconfig_context ? new k8s.Provider(`${name}-k8s`, { context: k.kubeconfig_context }) : undefined;
    return new KubernetesServer(
      name,
      {
        ...base,
        namespace: k.namespace,
        storageClass: k.storage_class,
        sharedStorageClass: k.shared_storage_class,
        frontendLoadBalancer: k.frontend_load_balancer,
        guiIngressHost: k.gui_ingress_host,
        adminCidrs: k.admin_cidrs,
      },
      { ...opts, providers: provider ? { kubernetes: provider } : opts.providers },
    );
  },
});
