import type { JobStore } from '@flowmonkey/core';
import { createMemoryStores, ManualClock, noopLogger } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { JobReaper } from '../src/job-reaper.js';
import type { JobReaperOptions } from '../src/reaper-options.js';
import { mustGet } from './helpers.js';

const THRESHOLD = 60_000;

async function stalledJobs(count: number, maxAttempts = 3) {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    ids.push((await stores.jobs.create({ handler: 'h', maxAttempts, input: i })).id);
  }
  if (count > 0) await stores.jobs.claimBatch({ runnerId: 'dead-runner', limit: count });
  clock.advance(THRESHOLD + 1);
  const reaper = (jobStore: JobStore = stores.jobs) =>
    new JobReaper({
      jobStore,
      stalledThresholdMs: THRESHOLD,
      batchSize: 2,
      logger: noopLogger,
    });
  return { clock, stores, ids, reaper };
}

describe('JobReaper.runOnce', () => {
  it('resets stalled jobs to pending, paging until a short page', async () => {
    const { stores, ids, reaper } = await stalledJobs(5);
    expect(await reaper().runOnce()).toEqual({
      reset: 5,
      failed: 0,
      cancelled: 0,
      lost: 0,
      errors: 0,
      skipped: 0,
    });
    for (const id of ids) {
      const job = await mustGet(stores.jobs, id);
      expect([job.status, job.attempts, job.error?.code]).toEqual(['pending', 1, 'JOB_STALLED']);
    }
  });

  it('leaves jobs whose heartbeat is recent alone', async () => {
    const { stores, ids, reaper, clock } = await stalledJobs(2);
    const claimedAgain = await stores.jobs.get(ids[0] ?? '');
    await stores.jobs.heartbeat({ jobId: ids[0] ?? '', leaseId: claimedAgain?.leaseId ?? '' });
    clock.advance(1);
    expect(await reaper().runOnce()).toMatchObject({ reset: 1 });
    expect((await mustGet(stores.jobs, ids[0] ?? '')).status).toBe('running');
  });

  it('fails a stalled job on its last attempt and cancels one whose cancellation was requested', async () => {
    const { stores, ids, reaper } = await stalledJobs(2, 1);
    await stores.jobs.cancel({ jobId: ids[1] ?? '' });
    expect(await reaper().runOnce()).toEqual({
      reset: 0,
      failed: 1,
      cancelled: 1,
      lost: 0,
      errors: 0,
      skipped: 0,
    });
    expect((await mustGet(stores.jobs, ids[0] ?? '')).status).toBe('failed');
    expect((await mustGet(stores.jobs, ids[1] ?? '')).status).toBe('cancelled');
  });

  it('counts as lost, and never undoes, a job that completed after it was seen', async () => {
    const { stores, ids, reaper } = await stalledJobs(1);
    const racing = new Proxy(stores.jobs, {
      get(target, prop) {
        if (prop === 'findStalled') {
          return async (params: Parameters<JobStore['findStalled']>[0]) => {
            const page = await target.findStalled(params);
            for (const job of page) {
              await target.complete({ jobId: job.id, leaseId: job.leaseId ?? '', result: 'late' });
            }
            return page;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    expect(await reaper(racing).runOnce()).toEqual({
      reset: 0,
      failed: 0,
      cancelled: 0,
      lost: 1,
      errors: 0,
      skipped: 0,
    });
    const job = await mustGet(stores.jobs, ids[0] ?? '');
    expect([job.status, job.result]).toEqual(['completed', 'late']);
  });

  it('logs and counts a job it cannot reset, and still reaps every other job', async () => {
    // Three poison jobs, the oldest, fill the first page (batchSize 2) on every read.
    const { stores, ids } = await stalledJobs(6);
    const poison = new Set(ids.slice(0, 3));
    const errors: unknown[] = [];
    const failing = new Proxy(stores.jobs, {
      get(target, prop) {
        if (prop === 'resetStalled') {
          return async (params: Parameters<JobStore['resetStalled']>[0]) => {
            if (poison.has(params.jobId)) throw new Error('corrupt row');
            return target.resetStalled(params);
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const logger = { ...noopLogger, error: (obj: unknown) => void errors.push(obj) };
    const sweeper = new JobReaper({
      jobStore: failing,
      stalledThresholdMs: THRESHOLD,
      batchSize: 2,
      logger: { ...logger, child: () => logger },
    });
    expect(await sweeper.runOnce()).toEqual({
      reset: 3,
      failed: 0,
      cancelled: 0,
      lost: 0,
      errors: 3,
      skipped: 0,
    });
    expect(errors).toHaveLength(3);
    for (const id of ids) {
      const status = (await mustGet(stores.jobs, id)).status;
      expect([id, status]).toEqual([id, poison.has(id) ? 'running' : 'pending']);
    }
  });

  it('is safe with several reapers at once: each job is reset exactly once', async () => {
    const { stores, ids, reaper } = await stalledJobs(7);
    const results = await Promise.all([reaper().runOnce(), reaper().runOnce(), reaper().runOnce()]);
    expect(results.reduce((n, r) => n + r.reset, 0)).toBe(7);
    for (const id of ids) expect((await mustGet(stores.jobs, id)).attempts).toBe(1);
  });
});

describe('resolveReaperOptions', () => {
  it('rejects the removed test-only clock, naming the field and the replacement', async () => {
    const { stores, clock } = await stalledJobs(0);
    expect(() => new JobReaper({ jobStore: stores.jobs, clock } as JobReaperOptions)).toThrow(
      expect.objectContaining({ code: 'CONFIG_ERROR', field: 'clock' }),
    );
    expect(() => new JobReaper({ jobStore: stores.jobs, clock } as JobReaperOptions)).toThrow(
      /createMemoryStores/,
    );
  });
});

describe('JobReaper.start', () => {
  it('starts and stops idempotently, and stop before start is fine', async () => {
    const { stores } = await stalledJobs(0);
    const reaper = new JobReaper({ jobStore: stores.jobs, logger: noopLogger });
    await reaper.stop();
    reaper.start();
    reaper.start();
    await reaper.stop();
    await reaper.stop();
  });
});
