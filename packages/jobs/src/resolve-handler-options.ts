import { ConfigError, MAX_TIMEOUT_MS } from '@flowmonkey/core';
import { resolveRetryPolicy } from './compute-retry-delay.js';
import type { JobHandlerOptions } from './job-handler.js';
import { checkNumber } from './option-checks.js';

/** Most attempts a handler may ask for in `maxAttempts`. */
export const MAX_HANDLER_ATTEMPTS = 1000;

const HOOKS = ['onStart', 'onSuccess', 'onFail', 'onEnd', 'isRetryable'] as const;

/**
 * Validates the options given to `registerHandler` and returns them, frozen: `retry` is
 * checked like any retry policy, `timeoutMs` must be a number from 1 to `MAX_TIMEOUT_MS`
 * (2^31 - 1 ms, the longest Node.js timer), `maxAttempts` an integer from 1 to
 * {@link MAX_HANDLER_ATTEMPTS}, and every hook and `isRetryable` a function when given.
 * Throws `ConfigError` naming the field (e.g. `timeoutMs`, `retry.baseDelayMs`, `onEnd`).
 */
export function resolveHandlerOptions(options: unknown): Readonly<JobHandlerOptions> {
  if (options === undefined) return Object.freeze({});
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError('options', `must be an object, got ${String(options)}`);
  }
  const o = options as JobHandlerOptions;
  if (o.retry !== undefined) resolveRetryPolicy(o.retry, undefined, 'retry');
  if (o.timeoutMs !== undefined) {
    checkNumber('timeoutMs', o.timeoutMs, { fallback: 0, min: 1, max: MAX_TIMEOUT_MS });
  }
  if (o.maxAttempts !== undefined) {
    checkNumber('maxAttempts', o.maxAttempts, {
      fallback: 0,
      min: 1,
      max: MAX_HANDLER_ATTEMPTS,
      int: true,
    });
  }
  for (const hook of HOOKS) {
    const fn: unknown = o[hook];
    if (fn !== undefined && typeof fn !== 'function') {
      throw new ConfigError(hook, `must be a function when given, got ${typeof fn}`);
    }
  }
  return Object.freeze({ ...o });
}
