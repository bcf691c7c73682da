import { describe, expect, it } from 'vitest';
import type { Stores } from '../stores/stores.js';
import {
  createRunning,
  expectNearNow,
  expectValidationError,
  leaseOf,
} from './contract-fixtures.js';

const ERROR = { code: 'BOOM', message: 'it broke' };

/**
 * Contract tests of retry and snooze delays computed by the store (`fail` with
 * `retryDelayMs`, `release` with `delayMs`): the time is the store's now plus the delay,
 * so a runner's skewed clock cannot shift it.
 */
export function describeJobRetryDelayContract(stores: () => Stores): void {
  describe('JobStore.fail', () => {
    it('schedules the retry retryDelayMs after the store now', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const job = await createRunning(jobs, t0, { maxAttempts: 2 });
      const failed = await jobs.fail({
        ...leaseOf(job),
        error: ERROR,
        retryDelayMs: 30_000,
        now: t0 + 10,
      });
      expect(failed).toMatchObject({ status: 'pending', runAt: t0 + 30_010, attempts: 1 });
      expect(await jobs.claimBatch({ runnerId: 'r', limit: 1, now: t0 + 30_009 })).toEqual([]);
      expect(await jobs.claimBatch({ runnerId: 'r', limit: 1, now: t0 + 30_010 })).toHaveLength(1);
    });

    it('adds retryDelayMs to the store clock when no now is given', async () => {
      const job = await createRunning(stores().jobs, Date.now(), { maxAttempts: 2 });
      const failed = await stores().jobs.fail({
        ...leaseOf(job),
        error: ERROR,
        retryDelayMs: 5000,
      });
      expect(failed.status).toBe('pending');
      expectNearNow(failed.runAt - 5000);
    });

    it('rejects retryAt together with retryDelayMs, and a negative delay, changing nothing', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0, { maxAttempts: 2 });
      const before = await stores().jobs.get(job.id);
      const lease = leaseOf(job);
      await expectValidationError(
        stores().jobs.fail({ ...lease, error: ERROR, retryAt: t0, retryDelayMs: 1 }),
        'retryDelayMs',
      );
      await expectValidationError(
        stores().jobs.fail({ ...lease, error: ERROR, retryDelayMs: -1 }),
        'retryDelayMs',
      );
      expect(await stores().jobs.get(job.id)).toEqual(before);
    });
  });

  describe('JobStore.release', () => {
    it('makes the job due delayMs after the store now', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const released = await stores().jobs.release({ ...leaseOf(job), delayMs: 2500, now: t0 + 5 });
      expect(released).toMatchObject({ status: 'pending', attempts: 0, runAt: t0 + 2505 });
    });

    it('rejects runAt together with delayMs and changes nothing', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const before = await stores().jobs.get(job.id);
      await expectValidationError(
        stores().jobs.release({ ...leaseOf(job), runAt: t0, delayMs: 1 }),
        'delayMs',
      );
      expect(await stores().jobs.get(job.id)).toEqual(before);
    });
  });
}
