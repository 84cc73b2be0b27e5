/**
 * What a collection service needs beyond a Velociraptor session: progress reporting and the artifact gate. The gate is
 * the caller's policy (the MCP layer's allow-list and mode checks): a service asks it before naming or scheduling an
 * artifact and never decides itself who may run what.
 */
import type { VelociraptorSession } from "../../velociraptor/session.js";

export interface ArtifactGate {
  /** Throws when the deployment does not allow this artifact name at all (the early, friendly check). */
  checkName(name: string): void;
  /** Throws when the caller may not run these artifacts (allow-list pins, effect vs mode); read at this moment. */
  enforce(artifacts: string[], target: { onServer: boolean; via: string }): Promise<void>;
}

export interface CollectionSession extends VelociraptorSession {
  gate: ArtifactGate;
  /** A progress notification; the adapter keeps the values increasing across a call's phases. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}
