/**
 * The API client configuration: the `api_client.yaml` that `velociraptor config api_client` writes, or the same
 * facts from environment variables. Validation names the field and says where its value should come from.
 */
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { ConfigError, NotConfiguredError } from "./errors.js";

const FROM_API_CLIENT = "paste the value from the api_client.yaml that `velociraptor config api_client` wrote";

const pemCert = (field: string) =>
  z
    .string({ error: `required — ${FROM_API_CLIENT}` })
    .refine((v) => v.includes("-----BEGIN CERTIFICATE-----"), { message: `${field} is not a PEM certificate — ${FROM_API_CLIENT}` });

export const ApiClientConfigSchema = z
  .object({
    ca_certificate: pemCert("ca_certificate").describe("PEM of the Velociraptor internal CA"),
    client_cert: pemCert("client_cert").describe("PEM client certificate; its CN is the API user name"),
    client_private_key: z
      .string({ error: `required — ${FROM_API_CLIENT}` })
      .refine((v) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(v), { message: `not a PEM private key — ${FROM_API_CLIENT}` })
      .describe("PEM private key of client_cert (may be encrypted; see VELOCIRAPTOR_KEY_PASSWORD)"),
    api_connection_string: z
      .string({ error: "required — host:port of the API (default 127.0.0.1:8001)" })
      .regex(/^(unix:\/\/.+|\[?[A-Za-z0-9.:-]+\]?:\d{1,5})$/, { message: "expected host:port, e.g. 127.0.0.1:8001" })
      .describe("host:port of the gRPC API"),
    name: z.string().default("").describe("API user name (the certificate CN)"),
    pinned_server_name: z.string().optional().describe("name the server certificate is issued for (default VelociraptorServer)"),
    max_grpc_recv_size: z.coerce.number().int().positive().optional().describe("receive limit in bytes"),
  })
  .loose();

export type ApiClientConfig = z.infer<typeof ApiClientConfigSchema>;

function firstIssue(err: z.ZodError): { field: string; message: string } {
  const issue = err.issues[0]!;
  return { field: issue.path.join(".") || "(root)", message: issue.message };
}

/** Decrypts an encrypted key (legacy `Proc-Type: 4,ENCRYPTED` PEM or encrypted PKCS#8) to PKCS#1/PKCS#8 clear PEM. */
export function decryptPrivateKey(pem: string, password: string | undefined, source?: string): string {
  const encrypted = pem.includes("ENCRYPTED");
  if (!encrypted) return pem;
  if (!password)
    throw new ConfigError(
      "client_private_key",
      "the key is password-protected",
      "Set VELOCIRAPTOR_KEY_PASSWORD to the password given to `config api_client --password`.",
      source,
    );
  try {
    const key = createPrivateKey({ key: pem, passphrase: password });
    return key.export({ type: "pkcs8", format: "pem" }).toString();
  } catch {
    throw new ConfigError("client_private_key", "cannot decrypt the key with VELOCIRAPTOR_KEY_PASSWORD", "Check the password.", source);
  }
}

/**
 * Validates a parsed config object; decrypts the key; checks the key matches the certificate. Each failure names
 * the field that is wrong; no message ever quotes key material (OpenSSL's messages carry none, and none is added).
 */
export function validateApiClientConfig(raw: unknown, source: string, env: NodeJS.ProcessEnv = process.env): ApiClientConfig {
  const parsed = ApiClientConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const { field, message } = firstIssue(parsed.error);
    throw new ConfigError(field, message, `Fix ${field} in ${source}; ${FROM_API_CLIENT}.`, source);
  }
  const cfg = { ...parsed.data };
  cfg.client_private_key = decryptPrivateKey(cfg.client_private_key, env.VELOCIRAPTOR_KEY_PASSWORD, source);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(cfg.client_cert);
  } catch (err) {
    throw new ConfigError("client_cert", `cannot be read: ${opensslReason(err)}`, FROM_API_CLIENT, source);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(cfg.client_private_key);
  } catch (err) {
    throw new ConfigError("client_private_key", `is damaged or truncated: not a readable PEM private key (${opensslReason(err)})`, `Copy client_private_key again, whole, from the api_client.yaml that \`velociraptor config api_client\` wrote.`, source);
  }
  if (!cert.checkPrivateKey(key))
    throw new ConfigError("client_private_key", "does not belong to client_cert", "Use the key and certificate from the same api_client.yaml.", source);
  if (!cfg.name) cfg.name = /CN=([^\n,]+)/.exec(cert.subject)?.[1] ?? "";
  return cfg;
}

/** OpenSSL's reason (e.g. "DECODER routines::unsupported"), which names the failure without echoing input. */
function opensslReason(err: unknown): string {
  const e = err as { message?: string; reason?: string };
  return e.reason ?? (e.message ?? String(err)).split("\n")[0]!.slice(0, 200);
}

/** Plain words for the yaml library's error codes (node_modules/yaml/dist/errors.d.ts: ErrorCode). */
const YAML_ERRORS: Record<string, string> = {
  BAD_INDENT: "bad indentation",
  BLOCK_AS_IMPLICIT_KEY: "a block value where a key was expected",
  MISSING_CHAR: "a closing quote or bracket is missing",
  MULTILINE_IMPLICIT_KEY: "a key spans several lines",
  UNEXPECTED_TOKEN: "unexpected characters",
  BAD_SCALAR_START: "a value starts with a character YAML reserves",
  BAD_DQ_ESCAPE: "an invalid escape sequence in a double-quoted value",
  DUPLICATE_KEY: "a field appears twice",
  TAB_AS_INDENT: "a tab used for indentation",
  BLOCK_IN_FLOW: "a block value inside [ ] or { }",
  MISSING_ANCHOR: "an alias to an undefined anchor",
};

/**
 * A YAML error without the excerpt the parser appends: that excerpt is the file's text around the error, and inside
 * client_private_key it is the private key. Line, column and the enclosing top-level field say enough to fix it.
 */
function yamlErrorText(err: unknown, text: string): { field: string; message: string } {
  // Only the error code is used: some of the parser's messages quote the offending text itself.
  const e = err as { code?: string; linePos?: { line: number; col: number }[] };
  const reason = YAML_ERRORS[e.code ?? ""] ?? `YAML error ${e.code ?? "(unknown)"}`;
  const pos = e.linePos?.[0];
  if (!pos) return { field: "(file)", message: reason };
  const lines = text.split(/\r?\n/).slice(0, pos.line);
  const owner = [...lines].reverse().map((l) => /^([A-Za-z_][A-Za-z0-9_]*):/.exec(l)?.[1]).find(Boolean);
  return { field: owner ?? "(file)", message: `${reason} at line ${pos.line}, column ${pos.col}` };
}

/** Parses the text of an api_client.yaml. */
export function parseApiClientYaml(text: string, source: string, env: NodeJS.ProcessEnv = process.env): ApiClientConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    const { field, message } = yamlErrorText(err, text);
    throw new ConfigError(field, `not valid YAML: ${message}`, "Regenerate the file with `velociraptor config api_client`, or fix the indentation of that field (PEM blocks use `|` and two-space indentation).", source);
  }
  if (!raw || typeof raw !== "object")
    throw new ConfigError("(file)", "is empty or not a YAML mapping", "Regenerate the file with `velociraptor config api_client`.", source);
  return validateApiClientConfig(raw, source, env);
}

/** A run of base64 long enough to be part of a key or certificate body: such a value is never echoed. */
const PEM_BODY = /[A-Za-z0-9+/=]{40,}/;

function pemOrFile(value: string, variable: string): string {
  if (value.includes("-----BEGIN")) return value.replace(/\\n/g, "\n");
  if (PEM_BODY.test(value) || value.length > 1024)
    throw new ConfigError(
      variable,
      `holds ${value.length} characters that look like PEM content without its -----BEGIN line (the value is not shown)`,
      `Set ${variable} to the whole PEM text, including the -----BEGIN …----- and -----END …----- lines, or to the path of a PEM file.`,
      "environment",
    );
  if (!existsSync(value))
    throw new ConfigError(variable, `is neither inline PEM nor an existing file (${value})`, `Set ${variable} to a PEM file path or the PEM text.`, "environment");
  return readFileSync(value, "utf8");
}

export interface LoadOptions {
  path?: string;
  env?: NodeJS.ProcessEnv;
}

/** Where the configuration comes from, in lookup order; `undefined` when nothing is configured. */
export function resolveConfigSource(opts: LoadOptions = {}): { kind: "file"; path: string } | { kind: "env" } | undefined {
  const env = opts.env ?? process.env;
  const path = opts.path ?? env.VELOCIRAPTOR_CONFIG_PATH ?? env.VELOCIRAPTOR_API_FILE;
  if (path) return { kind: "file", path };
  if (env.VELOCIRAPTOR_API_URL || env.VELOCIRAPTOR_CLIENT_CERT || env.VELOCIRAPTOR_CLIENT_KEY || env.VELOCIRAPTOR_CA_CERT) return { kind: "env" };
  return undefined;
}

/**
 * Loads the config: explicit path → VELOCIRAPTOR_CONFIG_PATH → VELOCIRAPTOR_API_FILE → the four
 * VELOCIRAPTOR_API_URL / _CLIENT_CERT / _CLIENT_KEY / _CA_CERT variables. Throws NotConfiguredError when none is set.
 */
export function loadApiClientConfig(opts: LoadOptions = {}): ApiClientConfig {
  const env = opts.env ?? process.env;
  const source = resolveConfigSource(opts);
  if (!source) throw new NotConfiguredError();
  if (source.kind === "file") {
    if (!existsSync(source.path))
      throw new ConfigError("path", `${source.path} does not exist`, "Point --config or VELOCIRAPTOR_CONFIG_PATH at the api_client.yaml file.", source.path);
    return parseApiClientYaml(readFileSync(source.path, "utf8"), source.path, env);
  }
  const need = ["VELOCIRAPTOR_API_URL", "VELOCIRAPTOR_CLIENT_CERT", "VELOCIRAPTOR_CLIENT_KEY", "VELOCIRAPTOR_CA_CERT"] as const;
  for (const v of need)
    if (!env[v]) throw new ConfigError(v, "is not set", `Set all of ${need.join(", ")} (or use VELOCIRAPTOR_CONFIG_PATH).`, "environment");
  const url = env.VELOCIRAPTOR_API_URL!.replace(/^(grpcs?|https?):\/\//, "").replace(/\/$/, "");
  return validateApiClientConfig(
    {
      api_connection_string: url,
      client_cert: pemOrFile(env.VELOCIRAPTOR_CLIENT_CERT!, "VELOCIRAPTOR_CLIENT_CERT"),
      client_private_key: pemOrFile(env.VELOCIRAPTOR_CLIENT_KEY!, "VELOCIRAPTOR_CLIENT_KEY"),
      ca_certificate: pemOrFile(env.VELOCIRAPTOR_CA_CERT!, "VELOCIRAPTOR_CA_CERT"),
      pinned_server_name: env.VELOCIRAPTOR_PINNED_SERVER_NAME,
    },
    "environment",
    env,
  );
}

/** Like loadApiClientConfig, but "nothing configured" is a value, so a server can start without Velociraptor. */
export function tryLoadApiClientConfig(opts: LoadOptions = {}): { config: ApiClientConfig } | { missing: true; hint: string } {
  try {
    return { config: loadApiClientConfig(opts) };
  } catch (err) {
    if (err instanceof NotConfiguredError) return { missing: true, hint: err.hint ?? err.message };
    throw err;
  }
}
