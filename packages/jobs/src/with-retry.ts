import type { RetryPolicy } from '@flowmonkey/core';
import { CancelledError, ConfigError, NonRetryableError } from '@flowmonkey/core';
import { computeRetryDelay, resolveRetryPolicy } from './compute-retry-delay.js';

/** Options of {@link withRetry}: a retry policy plus attempt limits and hooks. */
export interface WithRetryOptions extends RetryPolicy {
  /** Total attempts, the first included; 1 means no retry. @default 3 */
  maxAttempts?: number;
  /**
   * Decides whether a thrown error is worth another attempt. `NonRetryableError` is never
   * retried, whatever this returns. @default every other error is retryable
   */
  isRetryable?: (error: unknown) => boolean;
  /** Aborting it stops further attempts; the pending wait rejects with `CancelledError`. */
  signal?: AbortSignal;
  /** Called before each wait with the failed attempt (1-based), the delay in ms and the error. */
  onRetry?: (attempt: number, delayMs: number, error: unknown) => void;
  /** Waits `ms` milliseconds. Injectable so tests do not wait. @default a timer-based sleep */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Source of randomness for jitter, returning values in [0, 1). @default Math.random */
  random?: () => number;
}

/**
 * Calls `fn` until it resolves, retrying thrown errors with the delays of the given retry
 * policy (`EXPONENTIAL` from 1 s by default) up to `maxAttempts` attempts in total. `fn`
 * receives the 1-based attempt number. Rethrows the last error when attempts run out, a
 * `NonRetryableError` (or an error `isRetryable` rejects) at once, and `CancelledError`
 * when `signal` aborts. For use outside jobs: jobs retry through the runner instead.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  options: WithRetryOptions = {},
): Promise<T> {
  const { maxAttempts = 3, isRetryable, signal, onRetry, sleep = defaultSleep } = options;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new ConfigError('maxAttempts', `must be an integer >= 1, got ${String(maxAttempts)}`);
  }
  const policy = resolveRetryPolicy(options, undefined, 'options');
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await fn(attempt);
    } catch (error) {
      const retryable =
        !(error instanceof NonRetryableError) && (isRetryable === undefined || isRetryable(error));
      if (!retryable || attempt >= maxAttempts) throw error;
      const delayMs = computeRetryDelay(policy, attempt, options.random);
      onRetry?.(attempt, delayMs, error);
      await sleep(delayMs, signal);
    }
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new CancelledError('withRetry: aborted', { cause: signal.reason });
  }
}

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new CancelledError('withRetry: aborted', { cause: signal.reason }));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new CancelledError('withRetry: aborted', { cause: signal?.reason }));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
