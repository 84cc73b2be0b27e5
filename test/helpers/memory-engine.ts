/** An in-memory AutomationEngine with the real engine's contract, for tests of everything above the seam. */
import { renderClientConfig } from "../../components/config/render.js";
import { generatePki } from "../../components/pki/provider.js";
import { loadProfile } from "../../profiles/index.js";
import { DeploymentBusyError, DeploymentFailedError, DeploymentLocks, DeploymentNotFoundError, type AutomationEngine, type DeploymentRecord, type OperationOptions } from "../../deploy/automation/engine.js";
import type { DeploymentSecrets } from "../../deploy/targets/target.js";
import type { DeploymentSettings } from "../../deploy/request/index.js";

export class MemoryEngine implements AutomationEngine {
  readonly records = new Map<string, DeploymentRecord>();
  readonly locks = new DeploymentLocks();
  failNext?: string;
  delayMs = 0;
  lastSecrets?: DeploymentSecrets;
  /** api_client.yaml the fake deployment hands out (e.g. pointing at the API test server). */
  apiClientYaml = "ca_certificate: x";

  private async outputs(s: DeploymentSettings) {
    const pki = await generatePki({ dnsNames: [s.hostname], ipAddresses: [], validityDays: 30, apiUsers: [], rotation: 0 });
    const client = renderClientConfig({ profile: loadProfile(s.profile, s.overrides), version: "0.77.2", hostname: s.hostname, pki, datastorePath: "/datastore" });
    return {
      serverUrl: { value: `https://${s.hostname}:8000/`, secret: false },
      apiAddress: { value: `${s.hostname}:8001`, secret: false },
      clientConfigYaml: { value: client, secret: true },
      apiClientYaml: { value: this.apiClientYaml, secret: true },
      serverConfigYaml: { value: `Frontend:\n  hostname: ${s.hostname}\nCA:\n  private_key: "-----BEGIN RSA PRIVATE KEY-----"\n`, secret: true },
      apiClientYamls: { value: Object.fromEntries((s.api_users ?? [{ name: "megaraptor" }]).map((u) => [u.name, `name: ${u.name}\n`])), secret: true },
    };
  }

  async preview(s: DeploymentSettings) {
    return { changes: { create: this.records.has(s.deployment_id) ? 0 : 7, same: this.records.has(s.deployment_id) ? 7 : 0 }, stdout: "" };
  }

  async up(s: DeploymentSettings, secrets: DeploymentSecrets, opts?: OperationOptions) {
    return this.locks.run(s.deployment_id, async () => {
      this.lastSecrets = secrets;
      opts?.onProgress?.({ step: "create docker:index/container:Container", resourcesDone: 0, resourcesTotal: 7 });
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      const before = this.records.get(s.deployment_id);
      if (this.failNext) {
        const msg = this.failNext;
        this.failNext = undefined;
        this.records.set(s.deployment_id, { ...(before ?? { id: s.deployment_id, settings: s, updatedAt: "" }), status: "failed", lastError: msg, updatedAt: new Date().toISOString() });
        throw new DeploymentFailedError(s.deployment_id, msg);
      }
      const r: DeploymentRecord = { id: s.deployment_id, status: "active", settings: s, previous: before?.status === "active" ? before.settings : undefined, updatedAt: new Date().toISOString(), resourceCount: 7, outputs: await this.outputs(s) };
      this.records.set(s.deployment_id, r);
      opts?.onProgress?.({ step: "finished", resourcesDone: 7, resourcesTotal: 7 });
      return r;
    });
  }

  async refresh(id: string) {
    const r = this.records.get(id);
    if (!r) throw new DeploymentNotFoundError(id);
    return r;
  }

  async destroy(id: string) {
    return this.locks.run(id, async () => {
      const r = this.records.get(id);
      if (!r) throw new DeploymentNotFoundError(id);
      const d: DeploymentRecord = { ...r, status: "destroyed", outputs: {}, resourceCount: 0, updatedAt: new Date().toISOString() };
      this.records.set(id, d);
      return d;
    });
  }

  async get(id: string) {
    return this.records.get(id);
  }

  async list() {
    return [...this.records.values()];
  }
}
export { DeploymentBusyError };
