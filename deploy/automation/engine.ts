/**
 * The seam between deployment operations and Pulumi. `PulumiEngine` (./pulumi-engine.ts) drives real stacks through
 * the Automation API; tests use an in-memory engine with the same contract.
 */
import type { DeploymentSettings } from "../request/index.js";
import type { DeploymentSecrets } from "../targets/target.js";
import { MegaraptorError } from "../../core/errors.js";

export type DeploymentStatus = "active" | "failed" | "destroyed" | "previewed";

/** What is stored about a deployment in the backend (stack config + tags), secrets excluded. */
export interface DeploymentRecord {
  id: string;
  status: DeploymentStatus;
  settings: DeploymentSettings;
  /** Previous successful settings, for rollback. */
  previous?: DeploymentSettings;
  updatedAt: string;
  resourceCount?: number;
  outputs?: Record<string, { value: unknown; secret: boolean }>;
  lastError?: string;
}

export interface ProgressEvent {
  step: string;
  resourcesDone: number;
  resourcesTotal?: number;
  message?: string;
}

export interface OperationOptions {
  onProgress?: (e: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface PreviewResult {
  changes: Record<string, number>;
  stdout: string;
}

export interface AutomationEngine {
  preview(settings: DeploymentSettings, secrets: DeploymentSecrets, opts?: OperationOptions): Promise<PreviewResult>;
  up(settings: DeploymentSettings, secrets: DeploymentSecrets, opts?: OperationOptions): Promise<DeploymentRecord>;
  refresh(id: string, opts?: OperationOptions): Promise<DeploymentRecord>;
  destroy(id: string, opts?: OperationOptions): Promise<DeploymentRecord>;
  get(id: string): Promise<DeploymentRecord | undefined>;
  list(): Promise<DeploymentRecord[]>;
}

export class DeploymentBusyError extends MegaraptorError {
  constructor(id: string) {
    super("DEPLOYMENT_BUSY", `Deployment ${id} is busy: another operation is running on it.`, {
      retryable: true,
      hint: "Wait for it to finish (get_deployment_status), or cancel it; two operations on one deployment are never run at once.",
    });
  }
}

export class DeploymentNotFoundError extends MegaraptorError {
  constructor(id: string) {
    super("NOT_FOUND", `Deployment ${id} was not found.`, { hint: "List deployments with list_deployments (include_destroyed=true shows destroyed ones)." });
  }
}

export class DeploymentMetadataMissingError extends MegaraptorError {
  constructor(id: string, dir: string) {
    super("DEPLOYMENT_METADATA_MISSING", `Deployment ${id} exists in the Pulumi backend but its settings are not in ${dir}.`, {
      hint: `Megaraptor keeps each deployment's settings in that folder beside the backend's state; restore it from a backup (or copy it from the machine that deployed ${id}), or deploy ${id} again with deploy_server and the same settings.`,
    });
  }
}

export class PulumiCliMissingError extends MegaraptorError {
  constructor(detail: string) {
    super("PULUMI_CLI_MISSING", `The Pulumi CLI is needed for deployments and was not found (${detail}).`, {
      hint: "Install it: `curl -fsSL https://get.pulumi.com | sh` (or `brew install pulumi`; see https://www.pulumi.com/docs/install/), then restart Megaraptor. Generators (GPO, Ansible, collector spec) work without it.",
    });
  }
}

export class DeploymentFailedError extends MegaraptorError {
  constructor(id: string, detail: string) {
    super("DEPLOYMENT_FAILED", `Deployment ${id} failed: ${detail}`, {
      hint: `Nothing was hidden: resources created before the failure are still in state. Inspect with get_deployment_status ${id}, fix the cause and deploy again, or remove everything with destroy_deployment ${id}.`,
    });
  }
}

/** One operation per deployment at a time within this process; Pulumi's own stack lock covers other processes. */
export class DeploymentLocks {
  private readonly held = new Set<string>();
  async run<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (this.held.has(id)) throw new DeploymentBusyError(id);
    this.held.add(id);
    try {
      return await fn();
    } finally {
      this.held.delete(id);
    }
  }
}
