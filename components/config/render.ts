/**
 * Renders Velociraptor's own configuration files with its real section and key names (see
 * velociraptor-api.md §5): server.config.yaml, client.config.yaml and api_client.yaml. Plain functions, so they are
 * tested directly; the Pulumi wrappers in ./index.ts feed them secrets and keep the results secret.
 */
import { stringify } from "yaml";
import type { Profile } from "../../profiles/schema.js";
import type { PkiOutputs } from "../pki/provider.js";

/** The PKI pieces a config needs (the PKI component's outputs, resolved). */
export type PkiMaterial = Pick<
  PkiOutputs,
  "caCertificate" | "caPrivateKey" | "serverCertificate" | "serverPrivateKey" | "gatewayCertificate" | "gatewayPrivateKey" | "clientNonce" | "obfuscationNonce"
>;

export interface ServerConfigInput {
  profile: Profile;
  version: string;
  /** Name clients and analysts use to reach the server (DNS name or IP). */
  hostname: string;
  pki: PkiMaterial;
  /** Where the datastore lives on the server (container or host path). */
  datastorePath: string;
  /** Listen on all interfaces regardless of the profile (containers: the port mapping decides exposure). */
  bindAllInContainer?: boolean;
  /** Public frontend port if different from the bind port (NAT, load balancers). */
  publicFrontendPort?: number;
  publicGuiPort?: number;
  /**
   * The name the server itself (its GUI's gRPC gateway, minions) dials for the API: Velociraptor dials
   * API.hostname:bind_port unless bind_address is 127.0.0.1 (grpc_client/grpc.go:310-332 GetAPIHostname @ v0.77.2).
   * Default `localhost` (single node); Kubernetes passes the API Service's in-cluster name.
   */
  apiHostname?: string;
  /** Extra frontends (minions) for multi-frontend deployments: their host names. */
  minionHostnames?: string[];
  pinnedServerName?: string;
}

function bind(kind: "localhost" | "all", container?: boolean): string {
  return container || kind === "all" ? "0.0.0.0" : "127.0.0.1";
}

/** Velociraptor's server_urls entry: always https://host:port/ with a trailing slash. */
export function serverUrl(hostname: string, port: number): string {
  const host = hostname.includes(":") && !hostname.startsWith("[") ? `[${hostname}]` : hostname;
  return `https://${host}:${port}/`;
}

export function renderServerConfigObject(i: ServerConfigInput): Record<string, unknown> {
  const p = i.profile;
  const frontendPort = i.publicFrontendPort ?? p.ports.frontend;
  const guiPort = i.publicGuiPort ?? p.ports.gui;
  const client: Record<string, unknown> = {
    server_urls: [serverUrl(i.hostname, frontendPort)],
    ca_certificate: i.pki.caCertificate,
    nonce: i.pki.clientNonce,
    use_self_signed_ssl: p.tls.selfSigned,
    writeback_darwin: "/etc/velociraptor.writeback.yaml",
    writeback_linux: "/etc/velociraptor.writeback.yaml",
    writeback_windows: "$ProgramFiles\\Velociraptor\\velociraptor.writeback.yaml",
    max_poll: 60,
    version: { name: "velociraptor", version: i.version },
  };
  if (i.pinnedServerName) client.pinned_server_name = i.pinnedServerName;
  const cfg: Record<string, unknown> = {
    version: { name: "velociraptor", version: i.version },
    Client: client,
    API: { hostname: i.apiHostname ?? "localhost", bind_address: bind(p.binds.api, i.bindAllInContainer), bind_port: p.ports.api, bind_scheme: "tcp", pinned_gw_name: "GRPC_GW" },
    GUI: {
      bind_address: bind(p.binds.gui, i.bindAllInContainer),
      bind_port: p.ports.gui,
      gw_certificate: i.pki.gatewayCertificate,
      gw_private_key: i.pki.gatewayPrivateKey,
      public_url: `https://${i.hostname}:${guiPort}/app/index.html`,
      authenticator: { type: "Basic" },
    },
    CA: { private_key: i.pki.caPrivateKey },
    Frontend: {
      hostname: i.hostname,
      bind_address: "0.0.0.0",
      bind_port: p.ports.frontend,
      certificate: i.pki.serverCertificate,
      private_key: i.pki.serverPrivateKey,
      default_client_monitoring_artifacts: ["Generic.Client.Stats"],
      resources: { expected_clients: p.maxClients },
    },
    Datastore: { implementation: "FileBaseDataStore", location: i.datastorePath, filestore_directory: i.datastorePath },
    Logging: { output_directory: `${i.datastorePath.replace(/\/$/, "")}/logs`, separate_logs_per_component: true, max_age: p.logRetentionDays * 86400 },
    defaults: { hunt_expiry_hours: 168, notebook_cell_timeout_min: 10 },
    obfuscation_nonce: i.pki.obfuscationNonce,
  };
  if (p.monitoring) cfg.Monitoring = { bind_address: bind("localhost", i.bindAllInContainer), bind_port: p.ports.monitoring };
  if (i.minionHostnames?.length) {
    cfg.ExtraFrontends = i.minionHostnames.map((hostname) => ({ hostname, bind_address: "0.0.0.0", bind_port: p.ports.frontend }));
    // What `config frontend` sets for a multi-frontend deployment (tools/survey/frontend.go compileFrontend @ v0.77.2;
    // velociraptor-docs deployment/server/multifrontend): the master caches the shared datastore in memory, minions
    // read it through the master. `implementation` stays FileBaseDataStore for the offline tool commands.
    Object.assign(cfg.Datastore as Record<string, unknown>, { master_implementation: "MemcacheFileDataStore", minion_implementation: "RemoteFileDataStore" });
  }
  return cfg;
}

/**
 * The config for offline tool commands (`user add`, `acl grant`, `config api_client`) on a multi-frontend master:
 * without master_implementation, because a tool process never starts MemcacheFileDataStore's writer
 * (datastore/memcache_file.go:348-350 returns notInitializedError; the writer starts with the frontend's org
 * services). Identical to the server config otherwise.
 */
export function renderToolConfig(i: ServerConfigInput): string {
  const cfg = renderServerConfigObject(i);
  const ds = { ...(cfg.Datastore as Record<string, unknown>) };
  delete ds.master_implementation;
  return stringify({ ...cfg, Datastore: ds }, { lineWidth: 0 });
}

export function renderServerConfig(i: ServerConfigInput): string {
  return stringify(renderServerConfigObject(i), { lineWidth: 0 });
}

/** The client config: the server's Client section (same CA, nonce and URLs) — what `config client` prints. */
export function renderClientConfig(i: ServerConfigInput): string {
  const server = renderServerConfigObject(i);
  return stringify({ version: server.version, Client: server.Client }, { lineWidth: 0 });
}

export interface ApiClientInput {
  caCertificate: string;
  certificate: string;
  privateKey: string;
  /** host:port the API client dials. */
  apiConnectionString: string;
  name: string;
  pinnedServerName?: string;
}

/** api_client.yaml as `velociraptor config api_client` writes it. */
export function renderApiClientYaml(i: ApiClientInput): string {
  return stringify(
    {
      ca_certificate: i.caCertificate,
      client_cert: i.certificate,
      client_private_key: i.privateKey,
      api_connection_string: i.apiConnectionString,
      name: i.name,
      ...(i.pinnedServerName ? { pinned_server_name: i.pinnedServerName } : {}),
    },
    { lineWidth: 0 },
  );
}
