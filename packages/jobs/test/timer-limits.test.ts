import type { JobStore } from '@flowmonkey/core';
import { ConfigError, MAX_TIMEOUT_MS } from '@flowmonkey/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobHandlerOptions } from '../src/job-handler.js';
import { JobReaper } from '../src/job-reaper.js';
import { resolveRunnerOptions } from '../src/runner-options.js';
import { deferred, mustGet, setup } from './helpers.js';

const TOO_LONG = 3e9;

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
  it('rejects every ms option above 2^31 - 1 (a Node timer would fire after 1 ms), naming it', () => {
    const { stores } = setup();
    const jobStore = stores.jobs;
    const fields = [
      'pollIntervalMs',
      'heartbeatIntervalMs',
      'leaseMs',
      'shutdownTimeoutMs',
      'cancelGraceMs',
      'defaultTimeoutMs',
    ] as const;
    for (const field of fields) {
      const base = field === 'heartbeatIntervalMs' ? { leaseMs: MAX_TIMEOUT_MS } : {};
      expect(fieldOf(() => resolveRunnerOptions({ jobStore, ...base, [field]: TOO_LONG }))).toBe(
        field,
      );
    }
    expect(fieldOf(() => resolveRunnerOptions({ jobStore, pollIntervalMs: 1e12 }))).toBe(
      'pollIntervalMs',
    );
    const longest = resolveRunnerOptions({
      jobStore,
      defaultTimeoutMs: MAX_TIMEOUT_MS,
      pollIntervalMs: MAX_TIMEOUT_MS,
    });
    expect([longest.defaultTimeoutMs, longest.pollIntervalMs]).toEqual([
      MAX_TIMEOUT_MS,
      MAX_TIMEOUT_MS,
    ]);
  });
});

describe('JobReaper options', () => {
  it('rejects checkIntervalMs and stalledThresholdMs above 2^31 - 1', () => {
    const { stores } = setup();
    for (const field of ['checkIntervalMs', 'stalledThresholdMs']) {
      expect(fieldOf(() => new JobReaper({ jobStore: stores.jobs, [field]: 1e12 }))).toBe(field);
    }
  });
});

describe('BasicJobRunner.registerHandler', () => {
  const handler = async () => 'ok';
  const cases: [JobHandlerOptions, string][] = [
    [{ timeoutMs: TOO_LONG }, 'timeoutMs'],
    [{ timeoutMs: 0 }, 'timeoutMs'],
    [{ timeoutMs: Number.NaN }, 'timeoutMs'],
    [{ retry: { baseDelayMs: -1 } }, 'retry.baseDelayMs'],
    [{ retry: { strategy: 'SOMETIMES' as 'FIXED' } }, 'retry.strategy'],
    [{ maxAttempts: 0 }, 'maxAttempts'],
    [{ maxAttempts: 2.5 }, 'maxAttempts'],
    [{ maxAttempts: 1001 }, 'maxAttempts'],
    [{ onEnd: 'log it' as never }, 'onEnd'],
    [{ onStart: {} as never }, 'onStart'],
    [{ isRetryable: true as never }, 'isRetryable'],
  ];
  it.each(cases)('rejects %j with a ConfigError naming %s, registering nothing', (opts, field) => {
    const { runner } = setup();
    expect(fieldOf(() => runner.registerHandler('h', handler, opts))).toBe(field);
    expect(runner.handlerTypes()).toEqual([]);
  });

  it('accepts the longest timer and the most attempts', () => {
    const { runner } = setup();
    runner.registerHandler('h', handler, { timeoutMs: MAX_TIMEOUT_MS, maxAttempts: 1000 });
    expect(runner.handlerTypes()).toEqual(['h']);
  });
});

describe('BasicJobRunner timeouts', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('arms a job row timeoutMs above 2^31 - 1 as the longest timer instead of firing at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { stores, clock } = setup();
    const { runner } = setup({ jobStore: withRowTimeout(stores.jobs, TOO_LONG), clock });
    const release = deferred<string>();
    let aborted = false;
    runner.registerHandler('slow', async (_input, ctx) => {
      ctx.signal.addEventListener('abort', () => {
        aborted = true;
      });
      return release.promise;
    });
    const job = await stores.jobs.create({ handler: 'slow' });
    await runner.runOnce();
    await vi.advanceTimersByTimeAsync(10);
    expect(aborted).toBe(false);
    release.resolve('done');
    await runner.whenIdle();
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.result]).toEqual(['completed', 'done']);
  });
});

/** Wraps a store so claimed jobs carry `timeoutMs` (as a row written by another tool could). */
function withRowTimeout(store: JobStore, timeoutMs: number): JobStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'claimBatch') {
        return async (params: Parameters<JobStore['claimBatch']>[0]) =>
          (await target.claimBatch(params)).map((job) => ({ ...job, timeoutMs }));
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
