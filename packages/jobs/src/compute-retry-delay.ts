import type { RetryPolicy, RetryStrategy } from '@flowmonkey/core';
import { ConfigError } from '@flowmonkey/core';

/** A retry policy with every field filled in, as returned by {@link resolveRetryPolicy}. */
export type ResolvedRetryPolicy = Readonly<Required<RetryPolicy>>;

/**
 * The policy used where neither the job, its handler nor the runner says otherwise:
 * `EXPONENTIAL` from 1 s, doubling, capped at one hour, with ±20 % jitter.
 */
export const DEFAULT_RETRY_POLICY: ResolvedRetryPolicy = Object.freeze({
  strategy: 'EXPONENTIAL',
  baseDelayMs: 1000,
  maxDelayMs: 3_600_000,
  multiplier: 2,
  jitter: true,
  jitterFactor: 0.2,
});

const STRATEGIES: readonly RetryStrategy[] = ['IMMEDIATE', 'FIXED', 'LINEAR', 'EXPONENTIAL'];

/**
 * Fills the missing fields of `policy` from `fallback` (by default
 * {@link DEFAULT_RETRY_POLICY}) and validates the result. Returns a frozen policy, or
 * throws `ConfigError` naming the offending field as `<prefix>.<field>` (e.g.
 * `retry.baseDelayMs`).
 */
export function resolveRetryPolicy(
  policy: RetryPolicy | null | undefined,
  fallback: ResolvedRetryPolicy = DEFAULT_RETRY_POLICY,
  prefix = 'retry',
): ResolvedRetryPolicy {
  const merged = { ...fallback };
  for (const [key, value] of Object.entries(policy ?? {})) {
    if (value !== undefined) Object.assign(merged, { [key]: value });
  }
  if (!STRATEGIES.includes(merged.strategy)) {
    throw new ConfigError(
      `${prefix}.strategy`,
      `must be one of ${STRATEGIES.join(', ')}, got ${JSON.stringify(merged.strategy)}`,
    );
  }
  checkNumber(`${prefix}.baseDelayMs`, merged.baseDelayMs, 0);
  checkNumber(`${prefix}.maxDelayMs`, merged.maxDelayMs, 0);
  checkNumber(`${prefix}.multiplier`, merged.multiplier, 1);
  checkNumber(`${prefix}.jitterFactor`, merged.jitterFactor, 0, 1);
  if (typeof merged.jitter !== 'boolean') {
    throw new ConfigError(`${prefix}.jitter`, `must be a boolean, got ${String(merged.jitter)}`);
  }
  return Object.freeze(merged);
}

function checkNumber(field: string, value: unknown, min: number, max = Infinity): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    const range = max === Infinity ? `>= ${min}` : `between ${min} and ${max}`;
    throw new ConfigError(field, `must be a finite number ${range}, got ${String(value)}`);
  }
}

/**
 * Returns the delay in milliseconds before the retry that follows failed attempt number
 * `attempt` (1-based: the delay after the first failure is `computeRetryDelay(p, 1)`).
 * The raw delay follows the strategy, is capped at `maxDelayMs`, and, with jitter on, is
 * scaled by a factor drawn uniformly from `[1 - jitterFactor, 1 + jitterFactor)` using
 * `random` (a function returning values in `[0, 1)`, `Math.random` by default), then
 * capped again. The result is a whole number of milliseconds, never negative.
 */
export function computeRetryDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const p = resolveRetryPolicy(policy);
  const n = Math.max(1, Math.floor(attempt));
  let raw: number;
  switch (p.strategy) {
    case 'IMMEDIATE':
      return 0;
    case 'FIXED':
      raw = p.baseDelayMs;
      break;
    case 'LINEAR':
      raw = p.baseDelayMs * n;
      break;
    case 'EXPONENTIAL':
      raw = p.baseDelayMs * p.multiplier ** (n - 1);
      break;
  }
  const capped = Math.min(raw, p.maxDelayMs);
  if (!p.jitter || p.jitterFactor === 0) return Math.round(capped);
  const factor = 1 - p.jitterFactor + 2 * p.jitterFactor * random();
  return Math.max(0, Math.round(Math.min(capped * factor, p.maxDelayMs)));
}
