/**
 * Runtime state shared by every tool call: the (optional) Velociraptor client, the mode, the audit log and the
 * confirmation service. Created once per server process.
 */
import { userInfo } from "node:os";
import { AuditLog, defaultAuditPath } from "../../core/audit.js";
import { ConfirmationService } from "../safety/confirm.js";
import type { Mode } from "../safety/mode.js";
import { tryLoadApiClientConfig, type ApiClientConfig } from "../../velociraptor/config.js";
import { VelociraptorClient } from "../../velociraptor/client.js";
import { NotConfiguredError } from "../../velociraptor/errors.js";
import { currentAllowList, verifyPins } from "../safety/allowlist.js";
import { log } from "../../core/logger.js";

export interface ServerOptions {
  mode: Mode;
  configPath?: string;
  auditPath?: string;
  /** Overrides config discovery (tests). */
  apiConfig?: ApiClientConfig;
  defaultOrg?: string;
}

export class Runtime {
  readonly audit: AuditLog;
  readonly confirmations = new ConfirmationService();
  readonly mode: Mode;
  readonly defaultOrg?: string;
  private readonly config?: ApiClientConfig;
  private readonly missingHint?: string;
  private velociraptor?: VelociraptorClient;

  constructor(opts: ServerOptions) {
    this.mode = opts.mode;
    this.audit = new AuditLog(opts.auditPath ?? defaultAuditPath());
    this.defaultOrg = opts.defaultOrg ?? process.env.MEGARAPTOR_DEFAULT_ORG;
    if (opts.apiConfig) this.config = opts.apiConfig;
    else {
      const r = tryLoadApiClientConfig({ path: opts.configPath });
      if ("config" in r) this.config = r.config;
      else this.missingHint = r.hint;
    }
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

  get configured(): boolean {
    return this.config !== undefined;
  }

  /** Who acts: the local OS user and the Velociraptor API identity. */
  get principal(): string {
    return `${userInfo().username}${this.config ? ` as ${this.config.name}@${this.config.api_connection_string}` : ""}`;
  }

  client(): VelociraptorClient {
    if (!this.config) throw new NotConfiguredError(this.missingHint);
    this.velociraptor ??= VelociraptorClient.fromConfig(this.config);
    return this.velociraptor;
  }

  close(): void {
    this.velociraptor?.close();
  }
}
