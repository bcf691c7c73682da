import { ConfigError, createMemoryStores } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { resolveReaperOptions } from '../src/reaper-options.js';
import { resolveRunnerOptions, runnerOptionsFromEnv } from '../src/runner-options.js';

const jobStore = createMemoryStores().jobs;

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.field;
    throw error;
  }
  return undefined;
}

describe('resolveRunnerOptions', () => {
  it('fills documented defaults and freezes the result', () => {
    const o = resolveRunnerOptions({ jobStore });
    expect(o).toMatchObject({
      pollIntervalMs: 1000,
      batchSize: 10,
      maxConcurrent: 10,
      heartbeatIntervalMs: 10_000,
      leaseMs: 60_000,
      queues: undefined,
      shutdownTimeoutMs: 30_000,
      cancelGraceMs: 5000,
      defaultTimeoutMs: null,
    });
    expect(o.defaultRetry.strategy).toBe('EXPONENTIAL');
    expect(o.runnerId).toMatch(/-\d+-/);
    expect(Object.isFrozen(o)).toBe(true);
  });

  it('refuses a batchSize above what a store claims at once', () => {
    // A store claims at most 1000 jobs (MAX_CLAIM_BATCH); a runner that asked for more took
    // every full claim for a drained queue and idled a poll interval after each.
    expect(() => resolveRunnerOptions({ jobStore, batchSize: 1001 })).toThrow(
      /batchSize.*between 1 and 1000, got 1001/,
    );
    expect(fieldOf(() => resolveRunnerOptions({ jobStore, batchSize: 2500 }))).toBe('batchSize');
    expect(resolveRunnerOptions({ jobStore, batchSize: 1000 }).batchSize).toBe(1000);
  });

  it('throws ConfigError naming the bad field', () => {
    expect(fieldOf(() => resolveRunnerOptions({ jobStore, batchSize: 0 }))).toBe('batchSize');
    expect(fieldOf(() => resolveRunnerOptions({ jobStore, maxConcurrent: 1.5 }))).toBe(
      'maxConcurrent',
    );
    expect(fieldOf(() => resolveRunnerOptions({ jobStore, pollIntervalMs: -1 }))).toBe(
      'pollIntervalMs',
    );
    expect(fieldOf(() => resolveRunnerOptions({ jobStore, queues: [] }))).toBe('queues');
    expect(fieldOf(() => resolveRunnerOptions({ jobStore, runnerId: ' ' }))).toBe('runnerId');
    expect(
      fieldOf(() => resolveRunnerOptions({ jobStore, defaultRetry: { baseDelayMs: -5 } })),
    ).toBe('defaultRetry.baseDelayMs');
    expect(fieldOf(() => resolveRunnerOptions({} as never))).toBe('jobStore');
  });

  it('requires the heartbeat to fit at least twice into the lease', () => {
    expect(
      fieldOf(() =>
        resolveRunnerOptions({ jobStore, heartbeatIntervalMs: 40_000, leaseMs: 60_000 }),
      ),
    ).toBe('heartbeatIntervalMs');
    expect(resolveRunnerOptions({ jobStore, heartbeatIntervalMs: 30_000 }).leaseMs).toBe(60_000);
  });

  it('rejects unknown keys, pointing the seed’s unit-less names to the new ones', () => {
    expect(() => resolveRunnerOptions({ jobStore, pollInterval: 5 } as never)).toThrow(
      /pollInterval: unknown option; did you mean pollIntervalMs/,
    );
    expect(fieldOf(() => resolveRunnerOptions({ jobStore, colour: 'red' } as never))).toBe(
      'colour',
    );
  });
});

describe('runnerOptionsFromEnv', () => {
  it('maps the environment variables, converting seconds to ms', () => {
    expect(
      runnerOptionsFromEnv({
        WORKER_ID: 'worker-7',
        MAX_CONCURRENT_EXECUTIONS: '4',
        LEASE_DURATION_SECONDS: '90',
        HEARTBEAT_INTERVAL_SECONDS: '2.5',
        CANCEL_GRACE_MS: '1500',
        UNRELATED: 'x',
      }),
    ).toEqual({
      runnerId: 'worker-7',
      maxConcurrent: 4,
      leaseMs: 90_000,
      heartbeatIntervalMs: 2500,
      cancelGraceMs: 1500,
    });
    expect(runnerOptionsFromEnv({ WORKER_ID: '', MAX_CONCURRENT_EXECUTIONS: undefined })).toEqual(
      {},
    );
  });

  it('throws ConfigError naming the malformed variable', () => {
    expect(fieldOf(() => runnerOptionsFromEnv({ MAX_CONCURRENT_EXECUTIONS: 'ten' }))).toBe(
      'MAX_CONCURRENT_EXECUTIONS',
    );
    expect(fieldOf(() => runnerOptionsFromEnv({ MAX_CONCURRENT_EXECUTIONS: '0' }))).toBe(
      'MAX_CONCURRENT_EXECUTIONS',
    );
    expect(fieldOf(() => runnerOptionsFromEnv({ LEASE_DURATION_SECONDS: '-3' }))).toBe(
      'LEASE_DURATION_SECONDS',
    );
    expect(fieldOf(() => runnerOptionsFromEnv({ CANCEL_GRACE_MS: '1.5' }))).toBe('CANCEL_GRACE_MS');
  });
});

describe('resolveReaperOptions', () => {
  it('fills defaults, freezes, and names bad fields', () => {
    const o = resolveReaperOptions({ jobStore });
    expect(o).toMatchObject({
      stalledThresholdMs: 60_000,
      checkIntervalMs: 30_000,
      batchSize: 100,
    });
    expect(Object.isFrozen(o)).toBe(true);
    expect(fieldOf(() => resolveReaperOptions({ jobStore, batchSize: 0 }))).toBe('batchSize');
    expect(fieldOf(() => resolveReaperOptions({ jobStore, stalledThreshold: 1 } as never))).toBe(
      'stalledThreshold',
    );
  });
});
