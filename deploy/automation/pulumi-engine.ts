/**
 * The real engine: one Pulumi stack per deployment, driven with an inline program through the Automation API.
 * Deployment metadata (settings without secrets, previous settings, status) lives in the stack's own config, so a
 * fresh process lists everything deployed before — there is no in-memory registry to lose.
 */
import { ConcurrentUpdateError, LocalWorkspace, PulumiCommand, type EngineEvent, type Stack } from "@pulumi/pulumi/automation/index.js";
import { buildDeployment, type DeploymentSecrets } from "../program/build.js";
import { parseDeploymentSettings, type DeploymentSettings } from "../program/settings.js";
import {
  DeploymentBusyError,
  DeploymentFailedError,
  DeploymentLocks,
  DeploymentNotFoundError,
  PulumiCliMissingError,
  type AutomationEngine,
  type DeploymentRecord,
  type DeploymentStatus,
  type OperationOptions,
  type PreviewResult,
} from "./engine.js";
import { backendUrl, pulumiEnv } from "./state.js";

const PROJECT = "megaraptor";
const KEY = { settings: "megaraptor:settings", previous: "megaraptor:previous", status: "megaraptor:status", updated: "megaraptor:updatedAt", error: "megaraptor:lastError" };

/** Finds the Pulumi CLI or explains how to install it. */
export async function pulumiCli(): Promise<PulumiCommand> {
  try {
    return await PulumiCommand.get({ skipVersionCheck: true });
  } catch (err) {
    const msg = (err as Error).message ?? "";
    throw new PulumiCliMissingError(/code: -2|ENOENT|not found/i.test(msg) ? "`pulumi` is not on PATH" : msg.split("\n")[0]!);
  }
}

function progressHandler(opts?: OperationOptions): ((e: EngineEvent) => void) | undefined {
  if (!opts?.onProgress) return undefined;
  let done = 0;
  let total: number | undefined;
  return (e) => {
    if (e.preludeEvent) opts.onProgress!({ step: "starting", resourcesDone: 0 });
    if (e.resourcePreEvent) opts.onProgress!({ step: `${e.resourcePreEvent.metadata.op} ${e.resourcePreEvent.metadata.type}`, resourcesDone: done, resourcesTotal: total });
    if (e.resOutputsEvent) opts.onProgress!({ step: `done ${e.resOutputsEvent.metadata.type}`, resourcesDone: ++done, resourcesTotal: total });
    if (e.summaryEvent) {
      total = Object.values(e.summaryEvent.resourceChanges ?? {}).reduce((a, b) => a + (b ?? 0), 0);
      opts.onProgress!({ step: "finished", resourcesDone: done, resourcesTotal: total });
    }
  };
}

export class PulumiEngine implements AutomationEngine {
  private readonly locks = new DeploymentLocks();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  private async stack(settings: DeploymentSettings, secrets: DeploymentSecrets): Promise<Stack> {
    const pulumiCommand = await pulumiCli();
    return LocalWorkspace.createOrSelectStack(
      { stackName: settings.deploymentId, projectName: PROJECT, program: async () => buildDeployment(settings, secrets) },
      { pulumiCommand, envVars: pulumiEnv(this.env), secretsProvider: "passphrase", projectSettings: { name: PROJECT, runtime: "nodejs", backend: { url: backendUrl(this.env) } } },
    );
  }

  private async workspace() {
    const pulumiCommand = await pulumiCli();
    return LocalWorkspace.create({ pulumiCommand, envVars: pulumiEnv(this.env), projectSettings: { name: PROJECT, runtime: "nodejs", backend: { url: backendUrl(this.env) } } });
  }

  private async mark(stack: Stack, status: DeploymentStatus, extra: Record<string, string> = {}): Promise<void> {
    await stack.setAllConfig({ [KEY.status]: { value: status }, [KEY.updated]: { value: new Date().toISOString() }, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { value: v }])) });
  }

  private wrap(id: string, err: unknown): never {
    if (err instanceof ConcurrentUpdateError) throw new DeploymentBusyError(id);
    if (err instanceof PulumiCliMissingError) throw err;
    const text = String((err as Error).message ?? err).split("\n").filter((l) => /error|failed/i.test(l)).slice(-5).join(" | ");
    throw new DeploymentFailedError(id, text || String(err).slice(0, 500));
  }

  async preview(settings: DeploymentSettings, secrets: DeploymentSecrets, opts?: OperationOptions): Promise<PreviewResult> {
    return this.locks.run(settings.deploymentId, async () => {
      try {
        const stack = await this.stack(settings, secrets);
        const r = await stack.preview({ onEvent: progressHandler(opts), signal: opts?.signal });
        return { changes: r.changeSummary as Record<string, number>, stdout: r.stdout };
      } catch (err) {
        return this.wrap(settings.deploymentId, err);
      }
    });
  }

  async up(settings: DeploymentSettings, secrets: DeploymentSecrets, opts?: OperationOptions): Promise<DeploymentRecord> {
    return this.locks.run(settings.deploymentId, async () => {
      const stack = await this.stack(settings, secrets).catch((err) => this.wrap(settings.deploymentId, err));
      const before = await this.read(stack).catch(() => undefined);
      try {
        await stack.setAllConfig({ [KEY.settings]: { value: JSON.stringify(settings) } });
        await stack.up({ onEvent: progressHandler(opts), signal: opts?.signal });
        await this.mark(stack, "active", before?.status === "active" ? { [KEY.previous]: JSON.stringify(before.settings) } : {});
        return (await this.read(stack))!;
      } catch (err) {
        await this.mark(stack, "failed", { [KEY.error]: String((err as Error).message ?? err).slice(0, 2000) }).catch(() => undefined);
        return this.wrap(settings.deploymentId, err);
      }
    });
  }

  async refresh(id: string, opts?: OperationOptions): Promise<DeploymentRecord> {
    return this.locks.run(id, async () => {
      const { stack } = await this.existing(id);
      try {
        await stack.refresh({ onEvent: progressHandler(opts), signal: opts?.signal });
        return (await this.read(stack))!;
      } catch (err) {
        return this.wrap(id, err);
      }
    });
  }

  async destroy(id: string, opts?: OperationOptions): Promise<DeploymentRecord> {
    return this.locks.run(id, async () => {
      const { stack } = await this.existing(id);
      try {
        await stack.destroy({ onEvent: progressHandler(opts), signal: opts?.signal });
        // The stack stays as a tombstone (settings, status destroyed) so listings keep the history.
        await this.mark(stack, "destroyed");
        return (await this.read(stack))!;
      } catch (err) {
        return this.wrap(id, err);
      }
    });
  }

  private async existing(id: string): Promise<{ stack: Stack; record: DeploymentRecord }> {
    const ws = await this.workspace();
    const names = (await ws.listStacks()).map((s) => s.name.split("/").pop());
    if (!names.includes(id)) throw new DeploymentNotFoundError(id);
    const raw = await ws.getAllConfig(id);
    const settings = parseDeploymentSettings(JSON.parse(raw[KEY.settings]?.value ?? "{}"));
    const stack = await this.stack(settings, {});
    return { stack, record: (await this.read(stack))! };
  }

  private async read(stack: Stack): Promise<DeploymentRecord | undefined> {
    const cfg = await stack.getAllConfig();
    if (!cfg[KEY.settings]) return undefined;
    const outputs = await stack.outputs().catch(() => ({}));
    const info = await stack.info().catch(() => undefined);
    return {
      id: stack.name.split("/").pop()!,
      status: (cfg[KEY.status]?.value as DeploymentStatus) ?? "previewed",
      settings: JSON.parse(cfg[KEY.settings].value),
      previous: cfg[KEY.previous] ? JSON.parse(cfg[KEY.previous].value) : undefined,
      updatedAt: cfg[KEY.updated]?.value ?? info?.endTime ?? "",
      resourceCount: info?.resourceChanges ? Object.values(info.resourceChanges).reduce((a, b) => a + b, 0) : undefined,
      outputs,
      lastError: cfg[KEY.error]?.value,
    };
  }

  async get(id: string): Promise<DeploymentRecord | undefined> {
    try {
      return (await this.existing(id)).record;
    } catch (err) {
      if (err instanceof DeploymentNotFoundError) return undefined;
      throw err;
    }
  }

  async list(): Promise<DeploymentRecord[]> {
    const ws = await this.workspace();
    const out: DeploymentRecord[] = [];
    for (const s of await ws.listStacks()) {
      const id = s.name.split("/").pop()!;
      const r = await this.get(id).catch(() => undefined);
      if (r) out.push(r);
    }
    return out;
  }
}
