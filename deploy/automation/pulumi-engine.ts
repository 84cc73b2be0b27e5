/**
 * The real engine: one Pulumi stack per deployment, driven with an inline program through the Automation API.
 * Deployment metadata (settings without secrets, previous settings, status) lives in the stack's own config, in a
 * persistent work folder per deployment beside the backend's state (./state.ts workspaceDir) — not in the
 * Automation API's default, a fresh temporary folder per operation, where it was lost at once (review A10). So a
 * fresh process lists, inspects, refreshes and destroys everything deployed before.
 */
import { accessSync, constants } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { ConcurrentUpdateError, LocalWorkspace, PulumiCommand, type EngineEvent, type ProjectSettings, type Stack } from "@pulumi/pulumi/automation/index.js";
import { log } from "../../core/logger.js";
import { packageRoot } from "../../core/paths.js";
import { buildDeployment, type DeploymentSecrets } from "../program/build.js";
import { parseStoredSettings, type DeploymentSettings } from "../request/index.js";
import {
  DeploymentBusyError,
  DeploymentFailedError,
  DeploymentLocks,
  DeploymentMetadataMissingError,
  DeploymentNotFoundError,
  PulumiCliMissingError,
  type AutomationEngine,
  type DeploymentRecord,
  type DeploymentStatus,
  type OperationOptions,
  type PreviewResult,
} from "./engine.js";
import { failureDetail } from "./failure.js";
import { backendUrl, pulumiEnv, workspaceDir } from "./state.js";

const PROJECT = "megaraptor";
const KEY = { settings: "megaraptor:settings", previous: "megaraptor:previous", status: "megaraptor:status", updated: "megaraptor:updatedAt", error: "megaraptor:lastError" };

/** The `pulumi` on this PATH, as the CLI root PulumiCommand wants (<root>/bin/pulumi). */
function cliRootOnPath(path: string | undefined): string | undefined {
  for (const dir of (path ?? "").split(delimiter).filter(Boolean)) {
    try {
      accessSync(join(dir, "pulumi"), constants.X_OK);
      return dirname(dir);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Finds the Pulumi CLI (on the PATH of `env`) or explains how to install it. */
export async function pulumiCli(env: NodeJS.ProcessEnv = process.env): Promise<PulumiCommand> {
  try {
    const root = cliRootOnPath(env.PATH);
    return await PulumiCommand.get({ skipVersionCheck: true, ...(root && join(root, "bin") !== root ? { root } : {}) });
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

  /**
   * The project every deployment's stack belongs to. `main` is the package root: the engine starts plugins there
   * (getPwdMain, pkg/engine/project.go @ v3.248.0), and the dynamic-provider host resolves @pulumi/pulumi from it —
   * without `main` it ran in the work folder and found nothing (review B2).
   */
  private project(): ProjectSettings {
    return { name: PROJECT, runtime: "nodejs", main: packageRoot(), backend: { url: backendUrl(this.env) } };
  }

  private async stack(settings: DeploymentSettings, secrets: DeploymentSecrets): Promise<Stack> {
    const pulumiCommand = await pulumiCli(this.env);
    return LocalWorkspace.createOrSelectStack(
      { stackName: settings.deployment_id, projectName: PROJECT, program: async () => buildDeployment(settings, secrets) },
      { pulumiCommand, workDir: workspaceDir(settings.deployment_id, this.env), envVars: pulumiEnv(this.env), secretsProvider: "passphrase", projectSettings: this.project() },
    );
  }

  /** A workspace for listing stacks and reading one deployment's config. */
  private async workspace(id?: string) {
    const pulumiCommand = await pulumiCli(this.env);
    return LocalWorkspace.create({ pulumiCommand, workDir: workspaceDir(id, this.env), envVars: pulumiEnv(this.env), projectSettings: this.project() });
  }

  private async mark(stack: Stack, status: DeploymentStatus, extra: Record<string, string> = {}): Promise<void> {
    await stack.setAllConfig({ [KEY.status]: { value: status }, [KEY.updated]: { value: new Date().toISOString() }, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, { value: v }])) });
  }

  private wrap(id: string, err: unknown): never {
    if (err instanceof ConcurrentUpdateError) throw new DeploymentBusyError(id);
    if (err instanceof PulumiCliMissingError) throw err;
    throw new DeploymentFailedError(id, failureDetail(String((err as Error).message ?? err)));
  }

  async preview(settings: DeploymentSettings, secrets: DeploymentSecrets, opts?: OperationOptions): Promise<PreviewResult> {
    return this.locks.run(settings.deployment_id, async () => {
      try {
        const stack = await this.stack(settings, secrets);
        const r = await stack.preview({ onEvent: progressHandler(opts), signal: opts?.signal });
        return { changes: r.changeSummary as Record<string, number>, stdout: r.stdout };
      } catch (err) {
        return this.wrap(settings.deployment_id, err);
      }
    });
  }

  async up(settings: DeploymentSettings, secrets: DeploymentSecrets, opts?: OperationOptions): Promise<DeploymentRecord> {
    return this.locks.run(settings.deployment_id, async () => {
      const stack = await this.stack(settings, secrets).catch((err) => this.wrap(settings.deployment_id, err));
      const before = await this.read(stack).catch(() => undefined);
      try {
        await stack.setAllConfig({ [KEY.settings]: { value: JSON.stringify(settings) } });
        await stack.up({ onEvent: progressHandler(opts), signal: opts?.signal });
        await this.mark(stack, "active", before?.status === "active" ? { [KEY.previous]: JSON.stringify(before.settings) } : {});
        return (await this.read(stack))!;
      } catch (err) {
        if (err instanceof ConcurrentUpdateError) {
          // Another process holds the stack: what it is deploying stays recorded, not these settings.
          if (before) await stack.setAllConfig({ [KEY.settings]: { value: JSON.stringify(before.settings) } }).catch(() => undefined);
          else await stack.removeConfig(KEY.settings).catch(() => undefined);
          return this.wrap(settings.deployment_id, err);
        }
        await this.mark(stack, "failed", { [KEY.error]: String((err as Error).message ?? err).slice(0, 2000) }).catch(() => undefined);
        return this.wrap(settings.deployment_id, err);
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
    const ws = await this.workspace(id);
    const names = (await ws.listStacks()).map((s) => s.name.split("/").pop());
    if (!names.includes(id)) throw new DeploymentNotFoundError(id);
    const raw = await ws.getAllConfig(id);
    if (!raw[KEY.settings]) throw new DeploymentMetadataMissingError(id, workspaceDir(id, this.env));
    const settings = parseStoredSettings(JSON.parse(raw[KEY.settings].value), "state", ` (deployment ${id})`);
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
      // Validated on read: settings stored by earlier releases (camelCase names) come back under today's names.
      settings: parseStoredSettings(JSON.parse(cfg[KEY.settings].value), "state", ` (deployment ${stack.name})`),
      previous: cfg[KEY.previous] ? parseStoredSettings(JSON.parse(cfg[KEY.previous].value), "state", ` (previous settings of ${stack.name})`) : undefined,
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
      try {
        const r = await this.get(id);
        if (r) out.push(r);
      } catch (err) {
        // One unreadable deployment must not hide the others; it is named, not dropped in silence.
        log.warn("deployment left out of the list", { deployment: id, error: (err as Error).message });
      }
    }
    return out;
  }
}
