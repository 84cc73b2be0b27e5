/**
 * Retry policy for transient failures: connection refused, UNAVAILABLE, resets during the first connect.
 * Never for VQL errors, permission errors or TLS misconfiguration — retrying those only hides the real problem.
 */
import pRetry, { AbortError } from "p-retry";
import { MegaraptorError } from "../core/errors.js";
import { log } from "../core/logger.js";
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

/** Runs `fn` with exponential backoff and jitter; non-retryable errors pass through at once. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, policy: Partial<RetryPolicy> = {}, signal?: AbortSignal): Promise<T> {
  const p = { ...DEFAULT_RETRY_POLICY, ...policy };
  return pRetry(
    async (attempt) => {
      try {
        return await fn(attempt);
      } catch (err) {
        if (!isRetryable(err)) throw new AbortError(err as Error);
        throw err;
      }
    },
    {
      retries: p.retries,
      minTimeout: p.minTimeoutMs,
      maxTimeout: p.maxTimeoutMs,
      maxRetryTime: p.maxRetryTimeMs,
      randomize: true,
      signal,
      onFailedAttempt: ({ error, attemptNumber, retriesLeft }) =>
        log.debug("velociraptor call failed; retrying", { attempt: attemptNumber, retriesLeft, error: error.message }),
    },
  );
}

/** Delay before retry number `attempt` (1-based): exponential, capped, with full jitter. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxTimeoutMs, policy.minTimeoutMs * 2 ** (attempt - 1));
  return Math.round(policy.minTimeoutMs / 2 + Math.random() * (ceiling - policy.minTimeoutMs / 2));
}
