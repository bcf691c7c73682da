import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Stores } from '../stores/stores.js';
import {
  createRunning,
  dueJob,
  expectLeaseLost,
  expectValidationError,
  leaseOf,
  staleLease,
} from './contract-fixtures.js';

/** Contract tests of `JobStore.listByStatus`, `findStalled`, `resetStalled` and `getByExecution`. */
export function describeJobQueryContract(stores: () => Stores): void {
  describe('JobStore.listByStatus', () => {
    it('lists jobs of one status, oldest first, with limit and offset', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const a = await jobs.create(dueJob(t0, { input: 'a' }));
      const b = await jobs.create(dueJob(t0, { input: 'b' }));
      const c = await jobs.create(dueJob(t0, { input: 'c' }));
      const running = await createRunning(jobs, t0);
      const pending = await jobs.listByStatus({ status: 'pending', limit: 10 });
      expect(pending.map((j) => j.id)).toEqual([a.id, b.id, c.id]);
      const page = await jobs.listByStatus({ status: 'pending', limit: 1, offset: 1 });
      expect(page.map((j) => j.id)).toEqual([b.id]);
      const runningList = await jobs.listByStatus({ status: 'running', limit: 10 });
      expect(runningList.map((j) => j.id)).toEqual([running.id]);
      expect(await jobs.listByStatus({ status: 'failed', limit: 10 })).toEqual([]);
      await jobs.complete({ ...leaseOf(running), result: null });
      await jobs.cancel({ jobId: a.id });
      const [completed] = await jobs.listByStatus({ status: 'completed', limit: 10 });
      const [cancelled] = await jobs.listByStatus({ status: 'cancelled', limit: 10 });
      expect([completed?.id, cancelled?.id]).toEqual([running.id, a.id]);
      expect(await jobs.listByStatus({ status: 'running', limit: 10 })).toEqual([]);
    });

    it('rejects an unknown status', async () => {
      const status = 'paused' as 'pending';
      await expectValidationError(stores().jobs.listByStatus({ status, limit: 1 }), 'status');
    });
  });

  describe('JobStore.findStalled', () => {
    it('returns running jobs whose heartbeat is older than the threshold, oldest first', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const older = await createRunning(jobs, t0 - 10_000);
      const old = await createRunning(jobs, t0);
      const fresh = await createRunning(jobs, t0);
      await jobs.heartbeat({ ...leaseOf(fresh), now: t0 + 50_000 });
      await jobs.create(dueJob(t0));
      const stalled = await jobs.findStalled({
        stalledThresholdMs: 60_000,
        limit: 10,
        now: t0 + 60_001,
      });
      expect(stalled.map((j) => j.id)).toEqual([older.id, old.id]);
      const limited = await jobs.findStalled({
        stalledThresholdMs: 60_000,
        limit: 1,
        now: t0 + 60_001,
      });
      expect(limited.map((j) => j.id)).toEqual([older.id]);
    });

    it('does not return a job whose heartbeat is exactly at the threshold', async () => {
      const t0 = Date.now();
      await createRunning(stores().jobs, t0);
      expect(
        await stores().jobs.findStalled({ stalledThresholdMs: 1000, limit: 10, now: t0 + 1000 }),
      ).toEqual([]);
    });
  });

  describe('JobStore.resetStalled', () => {
    it('puts a stalled job back to pending with the error recorded while attempts remain', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0, { maxAttempts: 3 });
      const error = { code: 'JOB_STALLED', message: 'no heartbeat' };
      const reset = await stores().jobs.resetStalled({ ...leaseOf(job), error, now: t0 + 90_000 });
      expect(reset).toMatchObject({
        status: 'pending',
        leaseId: null,
        attempts: 1,
        error: { ...error, attempt: 1, at: t0 + 90_000 },
      });
      const [again] = await stores().jobs.claimBatch({ runnerId: 'r', limit: 1, now: t0 + 90_000 });
      expect(again?.id).toBe(job.id);
      expect(again?.attempts).toBe(2);
    });

    it('fails a stalled job whose attempts are used up', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0, { maxAttempts: 1 });
      const reset = await stores().jobs.resetStalled({ ...leaseOf(job), now: t0 + 90_000 });
      expect(reset).toMatchObject({ status: 'failed', leaseId: null, finishedAt: t0 + 90_000 });
      expect(reset.error).not.toBeNull();
    });

    it('cancels a stalled job whose cancellation was requested', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0, { maxAttempts: 3 });
      await stores().jobs.cancel({ jobId: job.id, now: t0 });
      const reset = await stores().jobs.resetStalled({ ...leaseOf(job), now: t0 + 90_000 });
      expect(reset.status).toBe('cancelled');
    });

    it('never undoes a completion: the lease it saw is gone, so nothing changes', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const [seen] = await stores().jobs.findStalled({
        stalledThresholdMs: 1,
        limit: 1,
        now: t0 + 10,
      });
      expect(seen?.id).toBe(job.id);
      const done = await stores().jobs.complete({ ...leaseOf(job), result: 'ok', now: t0 + 11 });
      if (seen === undefined) throw new Error('unreachable');
      await expectLeaseLost(stores().jobs.resetStalled({ ...leaseOf(seen), now: t0 + 12 }));
      expect(await stores().jobs.get(job.id)).toEqual(done);
    });

    it('throws LeaseLostError for a stale lease and changes nothing', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const before = await stores().jobs.get(job.id);
      await expectLeaseLost(stores().jobs.resetStalled({ ...staleLease(job), now: t0 + 90_000 }));
      expect(await stores().jobs.get(job.id)).toEqual(before);
    });

    describeStallRecheck(stores);
  });

  describe('JobStore.getByExecution', () => {
    it('returns the jobs of one execution, oldest first', async () => {
      const executionId = randomUUID();
      const jobs = stores().jobs;
      const first = await jobs.create({ handler: 'h', executionId, stepId: 'one' });
      await jobs.create({ handler: 'h', executionId: randomUUID(), stepId: 'one' });
      await jobs.create({ handler: 'h' });
      const second = await jobs.create({ handler: 'h', executionId, stepId: 'two' });
      const found = await jobs.getByExecution(executionId);
      expect(found.map((j) => [j.id, j.stepId])).toEqual([
        [first.id, 'one'],
        [second.id, 'two'],
      ]);
    });

    it('returns an empty list for an execution without jobs', async () => {
      expect(await stores().jobs.getByExecution(randomUUID())).toEqual([]);
    });
  });
}

/** `resetStalled` with `stalledThresholdMs`: the heartbeat must still be stale at the reset. */
function describeStallRecheck(stores: () => Stores): void {
  it('leaves a job that heartbeated after findStalled with its runner (LeaseLostError)', async () => {
    const t0 = Date.now();
    const jobs = stores().jobs;
    const job = await createRunning(jobs, t0);
    const [seen] = await jobs.findStalled({
      stalledThresholdMs: 60_000,
      limit: 1,
      now: t0 + 60_001,
    });
    if (seen === undefined) throw new Error('findStalled did not return the stalled job');
    await jobs.heartbeat({ ...leaseOf(job), now: t0 + 60_002 });
    const before = await jobs.get(job.id);
    await expectLeaseLost(
      jobs.resetStalled({ ...leaseOf(seen), stalledThresholdMs: 60_000, now: t0 + 60_003 }),
    );
    expect(await jobs.get(job.id)).toEqual(before);
    expect(before).toMatchObject({ status: 'running', leaseId: job.leaseId });
  });

  it('resets a job whose heartbeat is still older than stalledThresholdMs', async () => {
    const t0 = Date.now();
    const job = await createRunning(stores().jobs, t0, { maxAttempts: 3 });
    const reset = await stores().jobs.resetStalled({
      ...leaseOf(job),
      stalledThresholdMs: 60_000,
      now: t0 + 60_001,
    });
    expect(reset).toMatchObject({ status: 'pending', leaseId: null });
  });

  it('rejects a negative stalledThresholdMs and changes nothing', async () => {
    const t0 = Date.now();
    const job = await createRunning(stores().jobs, t0);
    const before = await stores().jobs.get(job.id);
    await expectValidationError(
      stores().jobs.resetStalled({ ...leaseOf(job), stalledThresholdMs: -1, now: t0 + 90_000 }),
      'stalledThresholdMs',
    );
    expect(await stores().jobs.get(job.id)).toEqual(before);
  });
}
