/** How the delay before the next attempt grows. */
export type RetryStrategy = 'IMMEDIATE' | 'FIXED' | 'LINEAR' | 'EXPONENTIAL';

/**
 * A retry policy, stored with each job so that any runner computes the same delays.
 * Strategies: `IMMEDIATE` (no delay), `FIXED` (`baseDelayMs` every time), `LINEAR`
 * (`baseDelayMs * attempt`), `EXPONENTIAL` (`baseDelayMs * multiplier^(attempt-1)`),
 * each capped at `maxDelayMs` and then jittered.
 */
export interface RetryPolicy {
  /** @default 'EXPONENTIAL' */
  strategy?: RetryStrategy;
  /** Delay unit in milliseconds. @default 1000 */
  baseDelayMs?: number;
  /** Upper bound on any delay, in milliseconds. @default 3_600_000 (one hour) */
  maxDelayMs?: number;
  /** Growth factor for `EXPONENTIAL`. @default 2 */
  multiplier?: number;
  /** Randomise delays so retries of many jobs do not stampede. @default true */
  jitter?: boolean;
  /** Fraction of the delay that jitter may add or remove (0..1). @default 0.2 */
  jitterFactor?: number;
}
