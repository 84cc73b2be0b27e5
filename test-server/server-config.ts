/**
 * Loads server.config.yaml the way Velociraptor 0.77.2 does for the commands the stand-in implements
 * (docs/velociraptor-rules.md §5–6): the same sources in the same order (`--config`, `VELOCIRAPTOR_CONFIG`,
 * `VELOCIRAPTOR_LITERAL_CONFIG`), strict YAML keys (an unknown key refuses the file), the per-command requirements
 * (frontend config, CA key, run-as user) and ValidateFrontendConfig / ValidateClientConfig, with Velociraptor's
 * messages. The result is the handful of settings the API test server needs, typed.
 */
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { isMap, isSeq, LineCounter, parseDocument, type Node } from "yaml";
import { z } from "zod";
import { MegaraptorError } from "../core/errors.js";
import { configMessageFields } from "./config-keys.js";

/** A config Velociraptor would refuse; the message is Velociraptor's. */
export class ConfigRefusedError extends MegaraptorError {
  constructor(message: string) {
    super("CONFIG_REFUSED", message, { hint: "Velociraptor 0.77.2 refuses this server.config.yaml for the same reason; fix the named field (see docs/velociraptor-rules.md §6)." });
  }
}

/** What each command requires of the config (config/loader.go validators). */
export interface ConfigRequirements {
  frontend?: boolean;
  ca?: boolean;
  runAsUser?: boolean;
}

export interface ConfigSource {
  /** The global --config/-c flag. */
  path?: string;
  env?: NodeJS.ProcessEnv;
}

const port = z.coerce.number().int().min(0).max(65535);
const str = z.string().optional().default("");

// Only the sections and fields the stand-in reads; strictness against unknown keys is done on the raw YAML.
const RawConfigSchema = z.object({
  version: z.object({ version: str }).partial().optional(),
  Client: z
    .object({ ca_certificate: str, nonce: str, server_urls: z.array(z.string()).optional(), pinned_server_name: str, Crypto: z.object({ allow_weak_tls_server: z.boolean().optional() }).partial().optional() })
    .optional(),
  API: z.object({ hostname: str, bind_address: str, bind_port: port.optional().default(0), bind_scheme: str, pinned_gw_name: str }).optional(),
  GUI: z
    .object({ bind_address: str, bind_port: port.optional().default(0), gw_certificate: str, gw_private_key: str, use_plain_http: z.boolean().optional().default(false), authenticator: z.object({ type: str }).optional() })
    .optional(),
  CA: z.object({ private_key: str }).optional(),
  Frontend: z
    .object({ hostname: str, bind_address: str, bind_port: port.optional().default(0), certificate: str, private_key: str, run_as_user: str, base_path: str, is_minion: z.boolean().optional() })
    .optional(),
  Datastore: z.object({ implementation: str, location: str, filestore_directory: str }).optional(),
  Monitoring: z.object({ bind_address: str, bind_port: port.optional().default(0) }).optional(),
  defaults: z.object({ acl_lru_timeout_sec: z.coerce.number().optional(), disable_unicode_usernames: z.boolean().optional() }).partial().optional(),
  security: z.object({ certificate_validity_days: z.coerce.number().optional() }).partial().optional(),
});

type RawConfig = z.infer<typeof RawConfigSchema>;

export interface ServerConfig {
  /** Where it was loaded from (for messages). */
  source: string;
  raw: RawConfig;
  caCertificate: string;
  caPrivateKey: string;
  api: { hostname: string; bindAddress: string; bindPort: number; bindScheme: string; pinnedGwName: string };
  frontend?: { hostname: string; bindAddress: string; bindPort: number; certificate: string; privateKey: string; basePath: string };
  gui?: { bindAddress: string; bindPort: number; usePlainHttp: boolean; authenticatorType: string };
  monitoring?: { bindAddress: string; bindPort: number };
  datastoreLocation: string;
  aclLruTimeoutSec: number;
  disableUnicodeUsernames: boolean;
  certificateValidityDays: number;
  pinnedServerName: string;
  /** TLS 1.3 minimum unless Client.Crypto.allow_weak_tls_server (api/builder.go getTLSConfig). */
  tls13Only: boolean;
}

/** yaml.UnmarshalStrict: every key must be a field of the message at that place. */
function strictKeys(node: Node | null | undefined, message: string, lines: LineCounter, problems: string[]): void {
  const fields = configMessageFields(message);
  if (!fields || !node) return;
  if (!isMap(node)) return;
  for (const pair of node.items) {
    const keyNode = pair.key as Node & { value?: unknown; range?: [number, number, number] };
    const name = String(keyNode?.value ?? "");
    const kind = fields.get(name);
    if (!kind) {
      const line = keyNode?.range ? lines.linePos(keyNode.range[0]).line : 0;
      problems.push(`  line ${line}: field ${name} not found in type proto.${message}`);
      continue;
    }
    if (kind === "map" || kind === "scalar") continue;
    const value = pair.value as Node | null;
    if (isSeq(value)) for (const item of value.items) strictKeys(item as Node, kind.message, lines, problems);
    else strictKeys(value, kind.message, lines, problems);
  }
}

function parseYaml(text: string): RawConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  if (doc.errors.length) throw new Error(`yaml: ${doc.errors[0]!.message}`);
  const problems: string[] = [];
  strictKeys(doc.contents as Node, "Config", lines, problems);
  if (problems.length) throw new Error(`yaml: unmarshal errors:\n${problems.join("\n")}`);
  const parsed = RawConfigSchema.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`yaml: unmarshal errors:\n  field ${issue.path.join(".")}: ${issue.message}`);
  }
  return parsed.data;
}

/** LoadAndValidate's loaders, in bin/main.go makeDefaultConfigLoader order (the embedded config does not exist here). */
function load(src: ConfigSource): { raw: RawConfig; source: string } {
  const env = src.env ?? process.env;
  const fromFile = (path: string, label: string) => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new ConfigRefusedError(`${label}: open ${path}: ${e.code === "ENOENT" ? "no such file or directory" : e.code === "EACCES" ? "permission denied" : e.message}`);
    }
    try {
      return { raw: parseYaml(text), source: path };
    } catch (err) {
      throw new ConfigRefusedError(`${label}: ${(err as Error).message}`);
    }
  };
  if (src.path) return fromFile(src.path, "FileLoader");
  if (env.VELOCIRAPTOR_CONFIG) return fromFile(env.VELOCIRAPTOR_CONFIG, "EnvLoader");
  if (env.VELOCIRAPTOR_LITERAL_CONFIG) {
    try {
      return { raw: parseYaml(env.VELOCIRAPTOR_LITERAL_CONFIG), source: "VELOCIRAPTOR_LITERAL_CONFIG" };
    } catch (err) {
      throw new ConfigRefusedError(`EnvLiteralLoader: ${(err as Error).message}`);
    }
  }
  throw new ConfigRefusedError("Unable to load config from any source.");
}

function validate(raw: RawConfig, req: ConfigRequirements): void {
  const fail = (m: string) => {
    throw new ConfigRefusedError(m);
  };
  // Validators first (WithRequiredFrontend, WithRequiredUser, WithRequiredCA), then the section validations.
  if (req.frontend && !(raw.Datastore && raw.Frontend)) fail("Frontend config is required");
  if (req.runAsUser && raw.Datastore?.implementation === "FileBaseDataStore" && raw.Frontend?.run_as_user) {
    const me = userInfo().username;
    if (me !== raw.Frontend.run_as_user)
      fail(`Velociraptor should be running as the '${raw.Frontend.run_as_user}' user but you are '${me}'. Please change user with sudo first.`);
  }
  if (req.ca && !raw.CA?.private_key) fail("Config with valid CA is required");
  if (raw.Frontend) {
    if (!raw.API) fail("No API config");
    if (!raw.GUI) fail("No GUI config");
    if (!raw.GUI!.gw_certificate) fail("No GUI.gw_certificate config");
    if (!raw.GUI!.gw_private_key) fail("No GUI.gw_private_key config");
    if (!raw.Frontend.hostname) fail("No Frontend.hostname config");
    if (!raw.Frontend.certificate) fail("No Frontend.certificate config");
    if (!raw.Frontend.private_key) fail("No Frontend.private_key config");
    if (!raw.Datastore) fail("No Datastore config");
  }
  if (raw.Client) {
    if (!raw.Client.ca_certificate) fail("No Client.ca_certificate configured");
    if (!raw.Client.nonce) fail("No Client.nonce configured");
    if (!raw.Client.server_urls) fail("No Client.server_urls configured");
    if (raw.Client.server_urls!.some((u) => !u.endsWith("/"))) fail("Configuration Client.server_urls must end with /");
  }
}

/** Loads and validates; throws ConfigRefusedError with Velociraptor's message. */
export function loadServerConfig(src: ConfigSource, req: ConfigRequirements = {}): ServerConfig {
  const { raw, source } = load(src);
  validate(raw, req);
  const api = raw.API;
  return {
    source,
    raw,
    caCertificate: raw.Client?.ca_certificate ?? "",
    caPrivateKey: raw.CA?.private_key ?? "",
    api: {
      hostname: api?.hostname ?? "",
      bindAddress: api?.bind_address ?? "",
      bindPort: api?.bind_port ?? 0,
      bindScheme: api?.bind_scheme || "tcp",
      pinnedGwName: api?.pinned_gw_name || "GRPC_GW",
    },
    frontend: raw.Frontend
      ? { hostname: raw.Frontend.hostname, bindAddress: raw.Frontend.bind_address, bindPort: raw.Frontend.bind_port, certificate: raw.Frontend.certificate, privateKey: raw.Frontend.private_key, basePath: raw.Frontend.base_path }
      : undefined,
    gui: raw.GUI ? { bindAddress: raw.GUI.bind_address, bindPort: raw.GUI.bind_port, usePlainHttp: raw.GUI.use_plain_http, authenticatorType: raw.GUI.authenticator?.type || "Basic" } : undefined,
    monitoring: raw.Monitoring ? { bindAddress: raw.Monitoring.bind_address, bindPort: raw.Monitoring.bind_port } : undefined,
    // migrate_0_6_1 trims trailing separators.
    datastoreLocation: (raw.Datastore?.location ?? "").replace(/[\\/]+$/, ""),
    aclLruTimeoutSec: raw.defaults?.acl_lru_timeout_sec || 300,
    disableUnicodeUsernames: raw.defaults?.disable_unicode_usernames === true,
    certificateValidityDays: raw.security?.certificate_validity_days || 365,
    pinnedServerName: raw.Client?.pinned_server_name || "VelociraptorServer",
    tls13Only: raw.Client?.Crypto?.allow_weak_tls_server !== true,
  };
}

/** grpc_client.GetAPIHostname: loopback when bound to 127.0.0.1, else API.hostname, Frontend.hostname, API.bind_address. */
export function apiHostname(c: ServerConfig): string {
  if (c.api.bindAddress === "127.0.0.1") return "127.0.0.1";
  return c.api.hostname || c.frontend?.hostname || c.api.bindAddress;
}
