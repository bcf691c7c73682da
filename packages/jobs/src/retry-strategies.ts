import type { RetryStrategy } from '@flowmonkey/core';

/**
 * Named retry strategies, usable wherever a {@link RetryStrategy} string is expected:
 * `IMMEDIATE` retries with no delay, `FIXED` waits `baseDelayMs` every time, `LINEAR` waits
 * `baseDelayMs * attempt`, and `EXPONENTIAL` (the default) waits
 * `baseDelayMs * multiplier^(attempt - 1)`. Every delay is capped at `maxDelayMs` and then
 * jittered (see `computeRetryDelay`).
 */
export const RetryStrategies = {
  IMMEDIATE: 'IMMEDIATE',
  FIXED: 'FIXED',
  LINEAR: 'LINEAR',
  EXPONENTIAL: 'EXPONENTIAL',
} as const satisfies Record<RetryStrategy, RetryStrategy>;
