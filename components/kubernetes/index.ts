/**
 * KubernetesServer: Velociraptor on Kubernetes. A namespace; a Secret with the server config (keys inside); a
 * ConfigMap with the public facts; the master as a StatefulSet with its datastore volume; Services for frontend,
 * GUI and API; a NetworkPolicy; optional LoadBalancer/Ingress. `enterprise` (frontends.count > 1) adds a minion
 * Deployment that scales, sharing the datastore through a ReadWriteMany claim, as Velociraptor's multi-frontend
 * design requires. Every object has an explicit metadata.name so manifests are stable and reviewable.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { VelociraptorServerComponent } from "../common/server.js";
import { checkDeploymentId, deploymentTags, labelSafe, resolveProfile, resolveVersion, type DeploymentBaseArgs } from "../common/index.js";
import { serverIdentity } from "../common/identity.js";
import { serverImage } from "../versions.js";

export interface KubernetesServerArgs extends DeploymentBaseArgs {
  namespace?: string;
  image?: string;
  storageClass?: string;
  /** Storage class offering ReadWriteMany (needed for minions in enterprise). */
  sharedStorageClass?: string;
  /** Expose the client frontend through a LoadBalancer Service (default ClusterIP). */
  frontendLoadBalancer?: boolean;
  /** Host name for an Ingress to the GUI (TLS passed through to Velociraptor). */
  guiIngressHost?: string;
  /** CIDRs allowed to reach GUI and API (default: only pods in the namespace). */
  adminCidrs?: string[];
}

const CONFIG_DIR = "/etc/velociraptor";
const DATASTORE = "/datastore";

export class KubernetesServer extends VelociraptorServerComponent {
  readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: KubernetesServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("megaraptor:index:KubernetesServer", name, {}, opts);
    checkDeploymentId(args.deploymentId);
    const profile = resolveProfile(args);
    const version = resolveVersion(args.version);
    const labels = labelSafe(deploymentTags(args, profile));
    const ns = args.namespace ?? `megaraptor-${args.deploymentId}`;
    const multi = profile.frontends.count > 1;
    const minions = multi ? Math.max(profile.frontends.count - 1, profile.cloud.kubernetes.minionReplicas) : 0;
    const base = { "app.kubernetes.io/name": "velociraptor", "app.kubernetes.io/instance": args.deploymentId, "app.kubernetes.io/managed-by": "megaraptor" };
    const p = { parent: this };
    const svcHost = `velociraptor-frontend.${ns}.svc`;

    // Clients reach master and minions through the one frontend Service, so the config lists a single server URL.
    const { pki, configs, apiAddress, apiClientYaml } = serverIdentity(name, args, profile, version, this, {
      datastorePath: DATASTORE,
      apiHost: `velociraptor-api.${ns}.svc`,
      apiSelfHost: `velociraptor-api.${ns}.svc`,
      bindAllInContainer: true,
      moreNames: [svcHost, `velociraptor-api.${ns}.svc`],
    });

    const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: ns, labels: { ...labels, "pod-security.kubernetes.io/enforce": "baseline" } } }, p);
    const inNs = (n: string, extra: Record<string, string> = {}) => ({ name: n, namespace: namespace.metadata.name, labels: { ...labels, ...base, ...extra } });

    const secret = new k8s.core.v1.Secret(`${name}-config`, { metadata: inNs("velociraptor-config"), type: "Opaque", stringData: { "server.config.yaml": configs.serverConfigYaml } }, p);
    new k8s.core.v1.ConfigMap(`${name}-info`, {
      metadata: inNs("velociraptor-info"),
      data: { version, profile: profile.name, "server-url": pulumi.interpolate`https://${args.hostname}:${profile.ports.frontend}/`, "ca.pem": pki.caCertificate },
    }, p);

    const resources = {
      requests: { cpu: profile.cloud.kubernetes.requestsCpu, memory: profile.cloud.kubernetes.requestsMemory },
      limits: { cpu: profile.cloud.kubernetes.limitsCpu, memory: profile.cloud.kubernetes.limitsMemory },
    };
    const probe = (initialDelaySeconds: number) => ({ httpGet: { path: "/healthz", port: profile.ports.frontend, scheme: "HTTPS" }, initialDelaySeconds, periodSeconds: 15, timeoutSeconds: 5, failureThreshold: 4 });
    const container = (component: "master" | "minion", extraArgs: string[]) => ({
      name: "velociraptor",
      image: args.image ?? serverImage(version),
      command: ["/bin/velociraptor"],
      args: ["--config", `${CONFIG_DIR}/server.config.yaml`, "frontend", "-v", ...extraArgs],
      ports: [
        { name: "frontend", containerPort: profile.ports.frontend },
        ...(component === "master" ? [{ name: "gui", containerPort: profile.ports.gui }, { name: "api", containerPort: profile.ports.api }] : []),
        ...(profile.monitoring ? [{ name: "metrics", containerPort: profile.ports.monitoring }] : []),
      ],
      volumeMounts: [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }, { name: "datastore", mountPath: DATASTORE }],
      resources,
      readinessProbe: probe(10),
      livenessProbe: probe(60),
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"], add: ["NET_BIND_SERVICE"] } },
    });
    const configVolume = { name: "config", secret: { secretName: secret.metadata.name, defaultMode: 0o400 } };

    // Multi-frontend shares one datastore (RWX); single-frontend keeps a per-pod RWO claim.
    const shared = multi
      ? new k8s.core.v1.PersistentVolumeClaim(`${name}-datastore`, {
          metadata: inNs("velociraptor-datastore"),
          spec: { accessModes: ["ReadWriteMany"], storageClassName: args.sharedStorageClass, resources: { requests: { storage: `${profile.resources.datastoreGb}Gi` } } },
        }, p)
      : undefined;

    const masterLabels = { ...base, "app.kubernetes.io/component": "master" };
    const master = new k8s.apps.v1.StatefulSet(`${name}-master`, {
      metadata: inNs("velociraptor-master", { "app.kubernetes.io/component": "master" }),
      spec: {
        serviceName: "velociraptor-frontend",
        replicas: 1,
        selector: { matchLabels: masterLabels },
        template: {
          metadata: { labels: { ...masterLabels, "megaraptor/frontend": "true" } },
          spec: {
            containers: [container("master", [])],
            volumes: shared ? [configVolume, { name: "datastore", persistentVolumeClaim: { claimName: shared.metadata.name } }] : [configVolume],
            terminationGracePeriodSeconds: 60,
          },
        },
        volumeClaimTemplates: shared
          ? []
          : [{ metadata: { name: "datastore" }, spec: { accessModes: ["ReadWriteOnce"], storageClassName: args.storageClass, resources: { requests: { storage: `${profile.resources.datastoreGb}Gi` } } } }],
      },
    }, p);

    if (multi) {
      const minionLabels = { ...base, "app.kubernetes.io/component": "minion" };
      new k8s.apps.v1.Deployment(`${name}-minions`, {
        metadata: inNs("velociraptor-minion", { "app.kubernetes.io/component": "minion" }),
        spec: {
          replicas: minions,
          selector: { matchLabels: minionLabels },
          template: {
            metadata: { labels: { ...minionLabels, "megaraptor/frontend": "true" } },
            spec: {
              containers: [container("minion", ["--minion", "--node", "$(POD_NAME)"])].map((c) => ({ ...c, env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] })),
              volumes: [configVolume, { name: "datastore", persistentVolumeClaim: { claimName: shared!.metadata.name } }],
            },
          },
        },
      }, { parent: this, dependsOn: [master] });
      if (profile.highAvailability)
        new k8s.policy.v1.PodDisruptionBudget(`${name}-pdb`, { metadata: inNs("velociraptor-minion"), spec: { minAvailable: 1, selector: { matchLabels: minionLabels } } }, p);
    }

    const service = (svcName: string, port: number, selector: Record<string, string>, type: string = "ClusterIP") =>
      new k8s.core.v1.Service(`${name}-${svcName}`, {
        metadata: inNs(`velociraptor-${svcName}`),
        spec: { type, selector, ports: [{ name: svcName, port, targetPort: port, protocol: "TCP" }] },
      }, p);
    service("frontend", profile.ports.frontend, { ...base, "megaraptor/frontend": "true" }, args.frontendLoadBalancer ? "LoadBalancer" : "ClusterIP");
    service("gui", profile.ports.gui, masterLabels);
    service("api", profile.ports.api, masterLabels);

    if (args.guiIngressHost)
      new k8s.networking.v1.Ingress(`${name}-gui`, {
        metadata: { ...inNs("velociraptor-gui"), annotations: { "nginx.ingress.kubernetes.io/backend-protocol": "HTTPS", "nginx.ingress.kubernetes.io/ssl-passthrough": "true" } },
        spec: { rules: [{ host: args.guiIngressHost, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "velociraptor-gui", port: { number: profile.ports.gui } } } }] } }] },
      }, p);

    // Clients may reach the frontend from anywhere; GUI, API and metrics only from the namespace or admin CIDRs.
    const admins = [{ podSelector: {} }, ...(args.adminCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } }))];
    new k8s.networking.v1.NetworkPolicy(`${name}-netpol`, {
      metadata: inNs("velociraptor"),
      spec: {
        podSelector: { matchLabels: { "app.kubernetes.io/instance": args.deploymentId } },
        policyTypes: ["Ingress"],
        ingress: [
          { ports: [{ port: profile.ports.frontend, protocol: "TCP" }] },
          { from: admins, ports: [profile.ports.gui, profile.ports.api, ...(profile.monitoring ? [profile.ports.monitoring] : [])].map((port) => ({ port, protocol: "TCP" })) },
        ],
      },
    }, p);

    this.namespace = namespace.metadata.name;
    this.publish(
      {
        serverUrl: pulumi.interpolate`https://${args.hostname}:${profile.ports.frontend}/`,
        guiUrl: args.guiIngressHost ? pulumi.output(`https://${args.guiIngressHost}/app/index.html`) : pulumi.output(`https://velociraptor-gui.${ns}.svc:${profile.ports.gui}/app/index.html`),
        apiAddress,
        apiClientYaml,
        clientConfigYaml: configs.clientConfigYaml,
      },
      { serverConfigYaml: configs.serverConfigYaml, apiClientYamls: configs.apiClientYamls, namespace: this.namespace },
    );
  }
}
