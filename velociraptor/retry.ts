/**
 * Retry policy for transient failures: connection refused, UNAVAILABLE, resets during the first connect.
 * Never for VQL errors, permission errors or TLS misconfiguration — retrying those only hides the real problem.
 * The client retries inside its stream, and only before the first row (a retry after rows would duplicate them), so a
 * generic retry wrapper does not fit; these are the policy and the delay it uses.
 */
import { MegaraptorError } from "../core/errors.js";
import { TlsError } from "./errors.js";

export interface RetryPolicy {
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
  /** Stop retrying once this much time has passed in total. */
  maxRetryTimeMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 5, minTimeoutMs: 200, maxTimeoutMs: 5_000, maxRetryTimeMs: 30_000 };

export function isRetryable(err: unknown): boolean {
  if (err instanceof TlsError) return err.kind === "CONNECTION_REFUSED";
  return err instanceof MegaraptorError && err.retryable && err.code === "VELOCIRAPTOR_UNREACHABLE";
}

/** Delay before retry number `attempt` (1-based): exponential, capped, with full jitter. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxTimeoutMs, policy.minTimeoutMs * 2 ** (attempt - 1));
  return Math.round(policy.minTimeoutMs / 2 + Math.random() * (ceiling - policy.minTimeoutMs / 2));
}
