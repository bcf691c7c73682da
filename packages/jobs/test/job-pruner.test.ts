import type { Job } from '@flowmonkey/core';
import { createMemoryStores, ManualClock, noopLogger } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { JobPruner } from '../src/job-pruner.js';
import { resolvePrunerOptions } from '../src/pruner-options.js';

const HOUR = 3_600_000;

/** Memory stores on a manual clock, and a helper that finishes a job at the current time. */
function world() {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const finish = async (outcome: 'completed' | 'failed' | 'cancelled', job: Partial<Job> = {}) => {
    const created = await stores.jobs.create({ handler: 'h', maxAttempts: 1, ...job });
    if (outcome === 'cancelled') return stores.jobs.cancel({ jobId: created.id });
    const claimed = await stores.jobs.claimById({ jobId: created.id, runnerId: 'r' });
    const lease = { jobId: created.id, leaseId: claimed?.leaseId ?? 'none' };
    if (outcome === 'completed') return stores.jobs.complete({ ...lease, result: 1 });
    return stores.jobs.fail({ ...lease, error: { code: 'X', message: 'x' } });
  };
  const pruner = (options: Partial<Parameters<typeof resolvePrunerOptions>[0]> = {}) =>
    new JobPruner({ jobStore: stores.jobs, logger: noopLogger, ...options });
  return { clock, stores, finish, pruner };
}

describe('JobPruner.runOnce', () => {
  it('deletes only the finished jobs past the age of their status', async () => {
    const { clock, stores, finish, pruner } = world();
    const oldCompleted = await finish('completed');
    const oldFailed = await finish('failed');
    const oldCancelled = await finish('cancelled');
    clock.advance(2 * HOUR);
    const youngCompleted = await finish('completed');
    const pending = await stores.jobs.create({ handler: 'h' });
    clock.advance(HOUR);
    const counts = await pruner({
      completedMaxAgeMs: 2 * HOUR,
      failedMaxAgeMs: 4 * HOUR,
      cancelledMaxAgeMs: 2 * HOUR,
    }).runOnce();
    expect(counts).toEqual({ completed: 1, failed: 0, cancelled: 1, events: 0 });
    expect(await stores.jobs.get(oldCompleted.id)).toBeUndefined();
    expect(await stores.jobs.get(oldCancelled.id)).toBeUndefined();
    expect(await stores.jobs.get(oldFailed.id)).toBeDefined();
    expect(await stores.jobs.get(youngCompleted.id)).toBeDefined();
    expect(await stores.jobs.get(pending.id)).toBeDefined();
  });

  it('pages in batches of batchSize until a short page', async () => {
    const { clock, stores, finish, pruner } = world();
    for (let i = 0; i < 5; i++) await finish('completed');
    clock.advance(HOUR);
    const calls: number[] = [];
    const jobStore = new Proxy(stores.jobs, {
      get(target, prop, receiver) {
        if (prop !== 'pruneFinished') return Reflect.get(target, prop, receiver);
        return async (params: Parameters<typeof target.pruneFinished>[0]) => {
          const page = await target.pruneFinished(params);
          calls.push(page.jobs);
          return page;
        };
      },
    });
    const counts = await pruner({ jobStore, completedMaxAgeMs: 1, batchSize: 2 }).runOnce();
    expect(counts.completed).toBe(5);
    expect(calls.slice(0, 3)).toEqual([2, 2, 1]);
  });

  it('keeps every status whose age is null', async () => {
    const { clock, finish, pruner } = world();
    await finish('failed');
    clock.advance(365 * 24 * HOUR);
    expect((await pruner({ failedMaxAgeMs: null }).runOnce()).failed).toBe(0);
  });
});

describe('resolvePrunerOptions', () => {
  it('fills defaults and names a bad field', () => {
    const { stores } = world();
    expect(resolvePrunerOptions({ jobStore: stores.jobs })).toMatchObject({
      completedMaxAgeMs: 86_400_000,
      failedMaxAgeMs: 604_800_000,
      cancelledMaxAgeMs: 86_400_000,
      batchSize: 1000,
    });
    expect(() => resolvePrunerOptions({ jobStore: stores.jobs, batchSize: 0 })).toThrow(
      /batchSize/,
    );
    expect(() => resolvePrunerOptions({ jobStore: stores.jobs, failedMaxAgeMs: -1 })).toThrow(
      /failedMaxAgeMs/,
    );
  });
});
