/**
 * KubernetesServer: Velociraptor on Kubernetes. A namespace (Pod Security "restricted"); a Secret with the server
 * config (keys inside) and the user bootstrap; a ConfigMap with the public facts; the master as a StatefulSet with
 * its datastore volume and an init container that makes the API and GUI users exist; Services for frontend, GUI and
 * API; a NetworkPolicy; optional LoadBalancer/Ingress. `enterprise` (frontends.count > 1) adds a minion StatefulSet
 * sharing the datastore through a ReadWriteMany claim, each minion named in the config's ExtraFrontends, as
 * Velociraptor's multi-frontend design requires. Every object has an explicit metadata.name so manifests are stable
 * and reviewable.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { VelociraptorServerComponent } from "../common/server.js";
import { checkDeploymentId, deploymentTagsOutput, labelSafe, resolveProfile, resolveVersion, type DeploymentBaseArgs } from "../common/index.js";
import { serverIdentity } from "../common/identity.js";
import { serverImage } from "../versions.js";
import { BOOTSTRAP_PATH } from "../common/users.js";

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
const BIN = "/bin/velociraptor";
const TOOL_CONFIG = `${CONFIG_DIR}/bootstrap.config.yaml`;
/** The official image has no USER (Docker/Dockerfile @ v0.77.2); run as an unprivileged id, group-owned volumes. */
const RUN_AS = 10001;

export class KubernetesServer extends VelociraptorServerComponent {
  readonly namespace: pulumi.Output<string>;

  constructor(name: string, args: KubernetesServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("megaraptor:index:KubernetesServer", name, {}, opts);
    checkDeploymentId(args.deploymentId);
    const profile = resolveProfile(args);
    const version = resolveVersion(args.version);
    const labels = deploymentTagsOutput(name, args, profile, this).apply(labelSafe);
    const ns = args.namespace ?? `megaraptor-${args.deploymentId}`;
    const multi = profile.frontends.count > 1;
    const minions = multi ? Math.max(profile.frontends.count - 1, profile.cloud.kubernetes.minionReplicas) : 0;
    const base = { "app.kubernetes.io/name": "velociraptor", "app.kubernetes.io/instance": args.deploymentId, "app.kubernetes.io/managed-by": "megaraptor" };
    const p = { parent: this };
    const svcHost = `velociraptor-frontend.${ns}.svc`;
    const apiSvc = `velociraptor-api.${ns}.svc`;
    // StatefulSet pods are named <set>-0 … <set>-(n-1); each minion selects its own ExtraFrontends entry by that name.
    const minionNames = Array.from({ length: minions }, (_, i) => `velociraptor-minion-${i}`);
    const image = args.image ?? serverImage(version);

    // Clients reach master and minions through the one frontend Service, so the config lists a single server URL.
    // API.hostname is the API Service: the master's GUI gateway and every minion dial it.
    const { pki, configs, apiAddress, apiClientYaml, guiPasswords, usersScript } = serverIdentity(name, args, profile, version, this, {
      datastorePath: DATASTORE,
      apiHost: apiSvc,
      apiSelfHost: apiSvc,
      bindAllInContainer: true,
      moreNames: [svcHost, apiSvc, ...(args.guiIngressHost ? [args.guiIngressHost] : [])],
      minionHostnames: minionNames,
    });

    const namespace = new k8s.core.v1.Namespace(`${name}-ns`, { metadata: { name: ns, labels: labels.apply((l) => ({ ...l, "pod-security.kubernetes.io/enforce": "restricted" })) } }, p);
    const inNs = (n: string, extra: Record<string, string> = {}) => ({ name: n, namespace: namespace.metadata.name, labels: labels.apply((l) => ({ ...l, ...base, ...extra })) });

    // A Secret change does not restart pods; this digest in the pod templates does (new users, new config). A digest
    // of random keys reveals nothing, so it stays readable.
    const digest = pulumi.unsecret(pulumi.all([configs.serverConfigYaml, configs.toolConfigYaml, usersScript(BIN, TOOL_CONFIG)]).apply((parts) => createHash("sha256").update(parts.join("\0")).digest("hex")));
    const annotations = { "megaraptor/config-sha256": digest };
    const secret = new k8s.core.v1.Secret(`${name}-config`, {
      metadata: inNs("velociraptor-config"),
      type: "Opaque",
      stringData: {
        "server.config.yaml": configs.serverConfigYaml,
        "bootstrap.config.yaml": configs.toolConfigYaml,
        "bootstrap-users.sh": usersScript(BIN, TOOL_CONFIG),
      },
    }, p);
    new k8s.core.v1.ConfigMap(`${name}-info`, {
      metadata: inNs("velociraptor-info"),
      data: { version, profile: profile.name, "server-url": pulumi.interpolate`https://${args.hostname}:${profile.ports.frontend}/`, "ca.pem": pki.caCertificate },
    }, p);

    const resources = {
      requests: { cpu: profile.cloud.kubernetes.requestsCpu, memory: profile.cloud.kubernetes.requestsMemory },
      limits: { cpu: profile.cloud.kubernetes.limitsCpu, memory: profile.cloud.kubernetes.limitsMemory },
    };
    const healthz = { httpGet: { path: "/healthz", port: profile.ports.frontend, scheme: "HTTPS" }, timeoutSeconds: 5 };
    const securityContext = { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } };
    const mounts = [{ name: "config", mountPath: CONFIG_DIR, readOnly: true }, { name: "datastore", mountPath: DATASTORE }, { name: "tmp", mountPath: "/tmp" }];
    const container = (component: "master" | "minion", extraArgs: string[]) => ({
      name: "velociraptor",
      image,
      command: [BIN],
      args: ["--config", `${CONFIG_DIR}/server.config.yaml`, "frontend", "-v", ...extraArgs],
      ports: [
        { name: "frontend", containerPort: profile.ports.frontend },
        ...(component === "master" ? [{ name: "gui", containerPort: profile.ports.gui }, { name: "api", containerPort: profile.ports.api }] : []),
        ...(profile.monitoring ? [{ name: "metrics", containerPort: profile.ports.monitoring }] : []),
      ],
      volumeMounts: mounts,
      resources,
      // Loading a large datastore (from network storage) can take minutes: the startup probe allows 10 min before
      // liveness takes over, instead of liveness killing a master that is still loading.
      startupProbe: { ...healthz, periodSeconds: 10, failureThreshold: 60 },
      readinessProbe: { ...healthz, periodSeconds: 10, failureThreshold: 3 },
      livenessProbe: { ...healthz, periodSeconds: 15, failureThreshold: 4 },
      securityContext,
    });
    // 0440 + fsGroup: the Secret's files are readable by the pod's group, not world-readable.
    const configVolume = { name: "config", secret: { secretName: secret.metadata.name, defaultMode: 0o440 } };
    const tmpVolume = { name: "tmp", emptyDir: {} };
    const podSecurity = { runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, fsGroup: RUN_AS, seccompProfile: { type: "RuntimeDefault" } };

    // Multi-frontend shares one datastore (RWX); single-frontend keeps a per-pod RWO claim.
    const shared = multi
      ? new k8s.core.v1.PersistentVolumeClaim(`${name}-datastore`, {
          metadata: inNs("velociraptor-datastore"),
          spec: { accessModes: ["ReadWriteMany"], storageClassName: args.sharedStorageClass, resources: { requests: { storage: `${profile.resources.datastoreGb}Gi` } } },
        }, p)
      : undefined;
    const sharedVolume = shared ? [{ name: "datastore", persistentVolumeClaim: { claimName: shared.metadata.name } }] : [];

    // StatefulSets need a headless Service of their own for stable pod identities.
    const headless = (svcName: string, selector: Record<string, string>) =>
      new k8s.core.v1.Service(`${name}-${svcName}-headless`, {
        metadata: inNs(`velociraptor-${svcName}`),
        spec: { clusterIP: "None", selector, ports: [{ name: "frontend", port: profile.ports.frontend, targetPort: profile.ports.frontend, protocol: "TCP" }] },
      }, p);

    const masterLabels = { ...base, "app.kubernetes.io/component": "master" };
    headless("master", masterLabels);
    const master = new k8s.apps.v1.StatefulSet(`${name}-master`, {
      metadata: inNs("velociraptor-master", { "app.kubernetes.io/component": "master" }),
      spec: {
        serviceName: "velociraptor-master",
        replicas: 1,
        selector: { matchLabels: masterLabels },
        template: {
          metadata: { labels: { ...masterLabels, "megaraptor/frontend": "true" }, annotations },
          spec: {
            automountServiceAccountToken: false,
            securityContext: podSecurity,
            // The API and GUI users, made with Velociraptor's own commands before the server starts
            // (components/common/users.ts); on the plain file datastore (bootstrap.config.yaml).
            initContainers: [{ name: "users", image, command: ["/bin/sh", BOOTSTRAP_PATH], volumeMounts: mounts, resources, securityContext }],
            containers: [container("master", [])],
            volumes: [configVolume, tmpVolume, ...sharedVolume],
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
      headless("minion", minionLabels);
      // `--node <pod>-<port>` selects this pod's ExtraFrontends entry (GetNodeName = "<hostname>-<bind_port>",
      // services/frontend.go:104-110; SelectFrontend refuses unknown names, services/frontend/frontend.go:469-487), so
      // every minion has its own node name (its own log files and metrics) while sharing the datastore. Scale through
      // the profile (frontends.count), which renders one entry per pod.
      new k8s.apps.v1.StatefulSet(`${name}-minions`, {
        metadata: inNs("velociraptor-minion", { "app.kubernetes.io/component": "minion" }),
        spec: {
          serviceName: "velociraptor-minion",
          replicas: minions,
          podManagementPolicy: "Parallel",
          selector: { matchLabels: minionLabels },
          template: {
            metadata: { labels: { ...minionLabels, "megaraptor/frontend": "true" }, annotations },
            spec: {
              automountServiceAccountToken: false,
              securityContext: podSecurity,
              containers: [{ ...container("minion", ["--minion", "--node", `$(POD_NAME)-${profile.ports.frontend}`]), env: [{ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }] }],
              volumes: [configVolume, tmpVolume, ...sharedVolume],
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
      { serverConfigYaml: configs.serverConfigYaml, apiClientYamls: configs.apiClientYamls, guiPasswords, namespace: this.namespace },
    );
  }
}
