import { ConfigError } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { computeRetryDelay, resolveRetryPolicy } from '../src/compute-retry-delay.js';
import { RetryStrategies } from '../src/retry-strategies.js';

const noJitter = { jitter: false } as const;

describe('computeRetryDelay', () => {
  it('IMMEDIATE never waits', () => {
    for (const attempt of [1, 2, 10]) {
      expect(computeRetryDelay({ strategy: RetryStrategies.IMMEDIATE }, attempt)).toBe(0);
    }
  });

  it('FIXED waits baseDelayMs every time', () => {
    const policy = { ...noJitter, strategy: RetryStrategies.FIXED, baseDelayMs: 250 };
    expect([1, 2, 3, 7].map((a) => computeRetryDelay(policy, a))).toEqual([250, 250, 250, 250]);
  });

  it('LINEAR waits baseDelayMs times the attempt', () => {
    const policy = { ...noJitter, strategy: RetryStrategies.LINEAR, baseDelayMs: 100 };
    expect([1, 2, 3, 4].map((a) => computeRetryDelay(policy, a))).toEqual([100, 200, 300, 400]);
  });

  it('EXPONENTIAL multiplies by multiplier each attempt, defaulting to 1 s doubling', () => {
    expect([1, 2, 3, 4].map((a) => computeRetryDelay(noJitter, a))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
    const triple = { ...noJitter, baseDelayMs: 10, multiplier: 3 };
    expect([1, 2, 3].map((a) => computeRetryDelay(triple, a))).toEqual([10, 30, 90]);
  });

  it('caps every delay at maxDelayMs, before and after jitter', () => {
    expect(computeRetryDelay({ ...noJitter, maxDelayMs: 5000 }, 10)).toBe(5000);
    expect(computeRetryDelay({ maxDelayMs: 5000 }, 10, () => 0.999)).toBe(5000);
    expect(computeRetryDelay({}, 40, () => 0.5)).toBe(3_600_000);
  });

  it('jitters within ±jitterFactor of the raw delay', () => {
    const policy = { strategy: RetryStrategies.FIXED, baseDelayMs: 1000, jitterFactor: 0.2 };
    expect(computeRetryDelay(policy, 1, () => 0)).toBe(800);
    expect(computeRetryDelay(policy, 1, () => 0.5)).toBe(1000);
    expect(computeRetryDelay(policy, 1, () => 0.9999999)).toBe(1200);
    for (let i = 0; i < 200; i++) {
      const d = computeRetryDelay(policy, 1);
      expect(d).toBeGreaterThanOrEqual(800);
      expect(d).toBeLessThanOrEqual(1200);
    }
  });
});

describe('resolveRetryPolicy', () => {
  it('fills defaults and freezes the result', () => {
    const p = resolveRetryPolicy({ baseDelayMs: 5 });
    expect(p).toEqual({
      strategy: 'EXPONENTIAL',
      baseDelayMs: 5,
      maxDelayMs: 3_600_000,
      multiplier: 2,
      jitter: true,
      jitterFactor: 0.2,
    });
    expect(Object.isFrozen(p)).toBe(true);
  });

  it('throws ConfigError naming the bad field', () => {
    const bad = [
      [{ strategy: 'SOMETIMES' }, 'retry.strategy'],
      [{ baseDelayMs: -1 }, 'retry.baseDelayMs'],
      [{ maxDelayMs: Number.NaN }, 'retry.maxDelayMs'],
      [{ multiplier: 0.5 }, 'retry.multiplier'],
      [{ jitterFactor: 2 }, 'retry.jitterFactor'],
    ] as const;
    for (const [policy, field] of bad) {
      expect(() => resolveRetryPolicy(policy as never)).toThrow(ConfigError);
      try {
        resolveRetryPolicy(policy as never);
      } catch (error) {
        expect((error as ConfigError).field).toBe(field);
      }
    }
  });
});
