import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Job, LeaseRef } from '../job.js';
import type { Stores } from '../stores/stores.js';
import {
  createRunning,
  expectLeaseLost,
  expectValidationError,
  leaseOf,
  staleLease,
} from './contract-fixtures.js';

type FencedWrite = (lease: LeaseRef, t: number) => Promise<unknown>;

const ERROR = { code: 'BOOM', message: 'it broke' };

/**
 * Registers the fencing tests every lease-guarded write must pass: a stale lease, an
 * unknown job, and a lease that ended (the job completed) all throw `LeaseLostError`
 * and leave the stored job exactly as it was.
 */
function itIsFenced(stores: () => Stores, write: FencedWrite): void {
  it('throws LeaseLostError for a stale lease id and changes nothing', async () => {
    const t0 = Date.now();
    const job = await createRunning(stores().jobs, t0);
    const before = await stores().jobs.get(job.id);
    await expectLeaseLost(write(staleLease(job), t0 + 1000));
    expect(await stores().jobs.get(job.id)).toEqual(before);
  });

  it('throws LeaseLostError for an unknown job', async () => {
    await expectLeaseLost(write({ jobId: randomUUID(), leaseId: randomUUID() }, Date.now()));
  });

  it('throws LeaseLostError once the lease has ended, and changes nothing', async () => {
    const t0 = Date.now();
    const job = await createRunning(stores().jobs, t0);
    await stores().jobs.complete({ ...leaseOf(job), result: 'done', now: t0 + 10 });
    const before = await stores().jobs.get(job.id);
    await expectLeaseLost(write(leaseOf(job), t0 + 1000));
    expect(await stores().jobs.get(job.id)).toEqual(before);
  });

  it('throws LeaseLostError for the previous lease after the job was claimed again', async () => {
    const t0 = Date.now();
    const job = await createRunning(stores().jobs, t0);
    await stores().jobs.release({ ...leaseOf(job), runAt: t0, now: t0 });
    const [again] = await stores().jobs.claimBatch({ runnerId: 'r2', limit: 1, now: t0 + 1 });
    expect(again?.id).toBe(job.id);
    const before = await stores().jobs.get(job.id);
    await expectLeaseLost(write(leaseOf(job), t0 + 1000));
    expect(await stores().jobs.get(job.id)).toEqual(before);
  });
}

/** Contract tests of the lease-guarded `JobStore` writes and `cancel`. */
export function describeJobLeaseContract(stores: () => Stores): void {
  describe('JobStore.heartbeat', () => {
    it('moves heartbeatAt to now and reports no cancellation', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      expect(await stores().jobs.heartbeat({ ...leaseOf(job), now: t0 + 5000 })).toEqual({
        cancelRequested: false,
      });
      expect((await stores().jobs.get(job.id))?.heartbeatAt).toBe(t0 + 5000);
    });

    it('reports a requested cancellation', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      await stores().jobs.cancel({ jobId: job.id, now: t0 });
      expect(await stores().jobs.heartbeat({ ...leaseOf(job), now: t0 + 1 })).toEqual({
        cancelRequested: true,
      });
    });

    itIsFenced(stores, (lease, now) => stores().jobs.heartbeat({ ...lease, now }));
  });

  describe('JobStore.heartbeatMany', () => {
    it('extends held leases and reports lost and cancel-requested ones', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const [held, cancelled, done] = [
        await createRunning(jobs, t0),
        await createRunning(jobs, t0),
        await createRunning(jobs, t0),
      ];
      await jobs.cancel({ jobId: cancelled.id, now: t0 });
      await jobs.complete({ ...leaseOf(done), result: null, now: t0 });
      const before = await jobs.get(done.id);
      const stale = staleLease(held);
      const result = await jobs.heartbeatMany({
        leases: [leaseOf(held), leaseOf(cancelled), leaseOf(done), stale],
        now: t0 + 7000,
      });
      expect(result.lost.sort()).toEqual([done.id, held.id].sort());
      expect(result.cancelRequested).toEqual([cancelled.id]);
      expect((await jobs.get(held.id))?.heartbeatAt).toBe(t0 + 7000);
      expect((await jobs.get(cancelled.id))?.heartbeatAt).toBe(t0 + 7000);
      expect(await jobs.get(done.id)).toEqual(before);
    });

    it('returns empty lists for no leases', async () => {
      expect(await stores().jobs.heartbeatMany({ leases: [] })).toEqual({
        lost: [],
        cancelRequested: [],
      });
    });
  });

  describe('JobStore.progress', () => {
    it('records percent, message and time, and extends the lease', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const updated = await stores().jobs.progress({
        ...leaseOf(job),
        percent: 42.5,
        message: 'halfway',
        now: t0 + 100,
      });
      expect(updated.progress).toEqual({ percent: 42.5, message: 'halfway', at: t0 + 100 });
      expect(updated.heartbeatAt).toBe(t0 + 100);
      expect(await stores().jobs.get(job.id)).toEqual(updated);
    });

    it('rejects a percent outside 0..100 and changes nothing', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const before = await stores().jobs.get(job.id);
      await expectValidationError(
        stores().jobs.progress({ ...leaseOf(job), percent: 101 }),
        'percent',
      );
      await expectValidationError(
        stores().jobs.progress({ ...leaseOf(job), percent: Number.NaN }),
        'percent',
      );
      expect(await stores().jobs.get(job.id)).toEqual(before);
    });

    itIsFenced(stores, (lease, now) => stores().jobs.progress({ ...lease, percent: 10, now }));
  });

  describe('JobStore.complete', () => {
    it('marks the job completed with its result and clears the lease', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const done = await stores().jobs.complete({
        ...leaseOf(job),
        result: { sent: 3, ids: ['a'] },
        now: t0 + 50,
      });
      expect(done).toMatchObject({
        status: 'completed',
        result: { sent: 3, ids: ['a'] },
        leaseId: null,
        finishedAt: t0 + 50,
        attempts: 1,
      });
      expect(await stores().jobs.get(job.id)).toEqual(done);
    });

    it('rejects a result that is not JSON-safe and changes nothing', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const before = await stores().jobs.get(job.id);
      await expectValidationError(
        stores().jobs.complete({ ...leaseOf(job), result: { total: 1n } }),
        'result.total',
      );
      expect(await stores().jobs.get(job.id)).toEqual(before);
    });

    itIsFenced(stores, (lease, now) => stores().jobs.complete({ ...lease, result: 1, now }));
  });

  describe('JobStore.fail', () => {
    it('schedules a retry at retryAt while attempts remain', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0, { maxAttempts: 2 });
      const failed = await stores().jobs.fail({
        ...leaseOf(job),
        error: ERROR,
        retryAt: t0 + 30_000,
        now: t0 + 10,
      });
      expect(failed).toMatchObject({
        status: 'pending',
        runAt: t0 + 30_000,
        attempts: 1,
        leaseId: null,
        error: { ...ERROR, attempt: 1, at: t0 + 10 },
      });
      expect(await stores().jobs.claimBatch({ runnerId: 'r', limit: 1, now: t0 + 29_999 })).toEqual(
        [],
      );
      expect(
        await stores().jobs.claimBatch({ runnerId: 'r', limit: 1, now: t0 + 30_000 }),
      ).toHaveLength(1);
    });

    it('fails the job for good once attempts are used up, even with retryAt', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0, { maxAttempts: 1 });
      const failed = await stores().jobs.fail({
        ...leaseOf(job),
        error: ERROR,
        retryAt: t0,
        now: t0,
      });
      expect(failed).toMatchObject({ status: 'failed', finishedAt: t0, leaseId: null });
      expect(failed.error).toMatchObject(ERROR);
    });

    it('fails the job for good without retryAt', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0, { maxAttempts: 5 });
      const failed = await stores().jobs.fail({ ...leaseOf(job), error: ERROR, now: t0 });
      expect(failed.status).toBe('failed');
      expect(await stores().jobs.get(job.id)).toEqual(failed);
    });

    it('rejects an error without code and changes nothing', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const before = await stores().jobs.get(job.id);
      const bad = { message: 'no code' } as unknown as typeof ERROR;
      await expectValidationError(
        stores().jobs.fail({ ...leaseOf(job), error: bad }),
        'error.code',
      );
      expect(await stores().jobs.get(job.id)).toEqual(before);
    });

    itIsFenced(stores, (lease, now) =>
      stores().jobs.fail({ ...lease, error: ERROR, retryAt: now, now }),
    );
  });

  describe('JobStore.release', () => {
    it('puts the job back to pending, refunding the attempt', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const released = await stores().jobs.release({ ...leaseOf(job), runAt: t0 + 500, now: t0 });
      expect(released).toMatchObject({
        status: 'pending',
        attempts: 0,
        leaseId: null,
        runAt: t0 + 500,
      });
      const [again] = await stores().jobs.claimBatch({ runnerId: 'r', limit: 1, now: t0 + 500 });
      expect(again?.attempts).toBe(1);
      expect(again?.leaseId).not.toBe(job.leaseId);
    });

    it('makes the job due at now when no runAt is given', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const released = await stores().jobs.release({ ...leaseOf(job), now: t0 + 5 });
      expect(released.runAt).toBe(t0 + 5);
    });

    itIsFenced(stores, (lease, now) => stores().jobs.release({ ...lease, now }));
  });

  describeCancelContract(stores);
}

function describeCancelContract(stores: () => Stores): void {
  describe('JobStore.cancel', () => {
    it('cancels a pending job at once', async () => {
      const t0 = Date.now();
      const job = await stores().jobs.create({ handler: 'h', runAt: t0 + 60_000 });
      const cancelled = await stores().jobs.cancel({
        jobId: job.id,
        reason: 'not needed',
        now: t0,
      });
      expect(cancelled).toMatchObject({ status: 'cancelled', finishedAt: t0 });
      expect(await stores().jobs.claimBatch({ runnerId: 'r', limit: 1, now: t0 + 60_000 })).toEqual(
        [],
      );
    });

    it('only requests cancellation of a running job, keeping its lease', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const requested = await stores().jobs.cancel({ jobId: job.id, now: t0 });
      expect(requested).toMatchObject({
        status: 'running',
        cancelRequested: true,
        leaseId: job.leaseId,
      });
    });

    it('returns a terminal job unchanged', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      const done = await stores().jobs.complete({ ...leaseOf(job), result: 7, now: t0 });
      expect(await stores().jobs.cancel({ jobId: job.id, now: t0 + 1 })).toEqual(done);
      expect(await stores().jobs.get(job.id)).toEqual(done);
    });

    it('throws NotFoundError for an unknown job', async () => {
      await expect(stores().jobs.cancel({ jobId: randomUUID() })).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });
  });

  describe('JobStore.confirmCancel', () => {
    it('makes a cancel-requested running job cancelled and ends its lease', async () => {
      const t0 = Date.now();
      const job = await createRunning(stores().jobs, t0);
      await stores().jobs.cancel({ jobId: job.id, now: t0 });
      const confirmed: Job = await stores().jobs.confirmCancel({ ...leaseOf(job), now: t0 + 1 });
      expect(confirmed).toMatchObject({ status: 'cancelled', leaseId: null, finishedAt: t0 + 1 });
      await expectLeaseLost(stores().jobs.heartbeat(leaseOf(job)));
    });

    itIsFenced(stores, (lease, now) => stores().jobs.confirmCancel({ ...lease, now }));
  });
}
