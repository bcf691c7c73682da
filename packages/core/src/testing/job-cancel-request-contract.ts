import { describe, expect, it } from 'vitest';
import type { Stores } from '../stores/stores.js';
import { createRunning, leaseOf } from './contract-fixtures.js';

const ERROR = { code: 'BOOM', message: 'it broke' };

/**
 * Contract tests of a cancellation requested while a job runs: whatever ends the attempt
 * (a failure with a retry, a release), the request is kept and the job ends `cancelled`
 * instead of running again.
 */
export function describeJobCancelRequestContract(stores: () => Stores): void {
  describe('JobStore.fail', () => {
    it('cancels instead of retrying a job whose cancellation was requested', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const job = await createRunning(jobs, t0, { maxAttempts: 3 });
      await jobs.cancel({ jobId: job.id, now: t0 });
      const failed = await jobs.fail({
        ...leaseOf(job),
        error: ERROR,
        retryAt: t0 + 1000,
        now: t0 + 10,
      });
      expect(failed).toMatchObject({ status: 'cancelled', leaseId: null, finishedAt: t0 + 10 });
      expect(failed.error).toMatchObject({ code: 'CANCELLED', cause: ERROR });
      expect(await jobs.get(job.id)).toEqual(failed);
      expect(await jobs.claimBatch({ runnerId: 'r', limit: 5, now: t0 + 60_000 })).toEqual([]);
    });
  });

  describe('JobStore.release', () => {
    it('cancels instead of releasing a job whose cancellation was requested', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const job = await createRunning(jobs, t0);
      await jobs.cancel({ jobId: job.id, now: t0 });
      const released = await jobs.release({ ...leaseOf(job), runAt: t0 + 500, now: t0 + 10 });
      expect(released).toMatchObject({
        status: 'cancelled',
        leaseId: null,
        finishedAt: t0 + 10,
        attempts: 1,
      });
      expect(released.error?.code).toBe('CANCELLED');
      expect(await jobs.get(job.id)).toEqual(released);
      expect(await jobs.claimBatch({ runnerId: 'r', limit: 5, now: t0 + 60_000 })).toEqual([]);
    });
  });
}
