/**
 * Runtime state shared by every tool call: the (optional) Velociraptor client, the mode, the audit log and the
 * confirmation service. Created once per MCP server process, or once per CLI command. The Velociraptor config is
 * read on first use, so a CLI command that never talks to Velociraptor needs none.
 */
import { userInfo } from "node:os";
import type { ToolsetName } from "../tools/toolsets.js";
import { AuditLog, defaultAuditPath } from "../../core/audit.js";
import { ConfirmationService } from "../safety/confirm.js";
import type { Mode } from "../safety/mode.js";
import { tryLoadApiClientConfig, type ApiClientConfig } from "../../velociraptor/config.js";
import { VelociraptorClient } from "../../velociraptor/client.js";
import { NotConfiguredError } from "../../velociraptor/errors.js";
import { currentAllowList, verifyPins } from "../safety/allowlist.js";
import { log } from "../../core/logger.js";
import { toMegaraptorError } from "../../core/errors.js";
import { assessKey, KeyExceedsModeError, readKeyPermissions, type KeyAssessment } from "../safety/key-check.js";

export interface ServerOptions {
  mode: Mode;
  configPath?: string;
  auditPath?: string;
  /** Overrides config discovery (tests). */
  apiConfig?: ApiClientConfig;
  defaultOrg?: string;
  /** Who drives the calls, for the audit log's principal (e.g. "cli"); the MCP server leaves it unset. */
  channel?: string;
  /** The clock confirmation tokens expire by (tests pass one they control; default Date.now). */
  now?: () => number;
  /** --strict-key / MEGARAPTOR_STRICT_KEY: refuse to start when the API key can do more than the mode allows. */
  strictKey?: boolean;
  /** The toolsets an MCP session lists at start (default: DEFAULT_TOOLSETS plus core). */
  toolsets?: readonly ToolsetName[];
  /** List each tool's output schema too (larger tools/list; structured results are returned either way). */
  outputSchemas?: boolean;
}

/** Printed to stderr as its own block so an operator scanning the start-up output cannot miss it. */
function warnLoudly(text: string): void {
  process.stderr.write(`\n*** WARNING (megaraptor): ${text}\n\n`);
  log.warn("API key check", { warning: text });
}

export class Runtime {
  readonly audit: AuditLog;
  readonly confirmations: ConfirmationService;
  readonly mode: Mode;
  readonly defaultOrg?: string;
  readonly toolsets?: readonly ToolsetName[];
  readonly outputSchemas: boolean;
  private loaded?: { config: ApiClientConfig } | { missing: true; hint: string };
  private velociraptor?: VelociraptorClient;
  private principalText?: string;

  constructor(private readonly opts: ServerOptions) {
    this.mode = opts.mode;
    this.confirmations = new ConfirmationService(undefined, opts.now);
    this.toolsets = opts.toolsets;
    this.outputSchemas = opts.outputSchemas ?? false;
    this.audit = new AuditLog(opts.auditPath ?? defaultAuditPath());
    this.defaultOrg = opts.defaultOrg ?? process.env.MEGARAPTOR_DEFAULT_ORG;
    if (opts.apiConfig) this.loaded = { config: opts.apiConfig };
  }

  /** The API config, read once; a config that exists but is wrong throws CONFIG_INVALID here. */
  private get config(): ApiClientConfig | undefined {
    this.loaded ??= tryLoadApiClientConfig({ path: this.opts.configPath });
    return "config" in this.loaded ? this.loaded.config : undefined;
  }

  /** Starts checking allow-list pins against the live server (results are reused by every collection). */
  checkAllowListPins(): void {
    const list = currentAllowList();
    if (!list || !this.config) return;
    const client = this.client();
    void verifyPins(
      list,
      async (names) => (await client.queryAll({ vql: "SELECT * FROM artifact_definitions(names=parse_json(data=Names).items)", env: { Names: JSON.stringify({ items: names }) } }, { orgId: this.defaultOrg })).rows,
    ).catch((err: unknown) => log.warn("could not verify the artifact allow-list pins yet", { error: String(err) }));
  }

  /**
   * Defence in depth: reads the API key's own permissions (whoami(), user()) and warns loudly on stderr when they
   * exceed the mode, or when they cannot be read; with `strict` either case throws KEY_EXCEEDS_MODE instead. Nothing
   * happens without a Velociraptor configuration.
   */
  async checkKey(strict = this.opts.strictKey ?? false): Promise<KeyAssessment | undefined> {
    if (!this.configured) return undefined;
    let a: KeyAssessment;
    try {
      a = assessKey(this.mode, await readKeyPermissions(this.client(), { orgId: this.defaultOrg }));
    } catch (err) {
      const e = toMegaraptorError(err);
      const text = `cannot read the API key's permissions (${e.code}: ${e.message}); the ${this.mode} mode rests on Megaraptor's checks alone.`;
      if (strict) throw new KeyExceedsModeError(text, this.mode);
      warnLoudly(text);
      return undefined;
    }
    if (a.warning) {
      if (strict) throw new KeyExceedsModeError(a.warning, this.mode);
      warnLoudly(a.warning);
    }
    return a;
  }

  get configured(): boolean {
    return this.config !== undefined;
  }

  /**
   * Who acts: the local OS user and the Velociraptor API identity (when a valid config exists). Worked out once the
   * config has been read: neither the process's user nor the config it loaded changes afterwards, and userInfo() is a
   * system call (getpwuid) that every tool call would otherwise repeat, twice.
   */
  get principal(): string {
    if (this.principalText !== undefined) return this.principalText;
    let config: ApiClientConfig | undefined;
    try {
      config = this.config;
    } catch {
      config = undefined; // a broken config is reported by the call that needs it, not by the audit entry
    }
    const text = `${userInfo().username}${config ? ` as ${config.name}@${config.api_connection_string}` : ""}${this.opts.channel ? ` (${this.opts.channel})` : ""}`;
    // A config that failed to load is read again by the next call (this.loaded stays unset): so is the principal.
    if (this.loaded) this.principalText = text;
    return text;
  }

  client(): VelociraptorClient {
    const config = this.config;
    if (!config) throw new NotConfiguredError(this.loaded && "hint" in this.loaded ? this.loaded.hint : undefined);
    this.velociraptor ??= VelociraptorClient.fromConfig(config);
    return this.velociraptor;
  }

  close(): void {
    this.velociraptor?.close();
  }
}
