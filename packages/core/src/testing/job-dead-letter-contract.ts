import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { InvalidStateError, NotFoundError } from '../errors.js';
import type { Job, NewJob } from '../job.js';
import type { JobStore } from '../stores/job-store.js';
import type { Stores } from '../stores/stores.js';
import {
  createRunning,
  dueJob,
  expectValidationError,
  leaseOf,
  newExecution,
} from './contract-fixtures.js';

const ERROR = { code: 'BOOM', message: 'it broke' };

/** Creates a job, claims it at `t0` and fails it for good at `failedAt`. */
async function deadLetter(
  jobs: JobStore,
  t0: number,
  failedAt: number,
  job: Partial<NewJob> = {},
): Promise<Job> {
  const running = await createRunning(jobs, t0, { maxAttempts: 1, ...job });
  return jobs.fail({ ...leaseOf(running), error: ERROR, retryAt: null, now: failedAt });
}

/**
 * Contract tests of `JobStore.claimById`, `listDeadLetters`, `redrive`, `redriveMany` and
 * `pruneFinished`.
 */
export function describeJobDeadLetterContract(stores: () => Stores): void {
  describe('JobStore.claimById', () => {
    it('claims one pending job whatever its runAt, and nothing else', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const later = await jobs.create({ handler: 'h', runAt: t0 + 86_400_000 });
      const other = await jobs.create(dueJob(t0, { handler: 'h' }));
      const claimed = await jobs.claimById({ jobId: later.id, runnerId: 'r1', now: t0 });
      expect(claimed).toMatchObject({
        id: later.id,
        status: 'running',
        attempts: 1,
        runAt: t0,
        runnerId: 'r1',
      });
      expect(claimed?.leaseId).not.toBeNull();
      expect((await jobs.get(other.id))?.status).toBe('pending');
      expect(await jobs.claimById({ jobId: later.id, runnerId: 'r2', now: t0 })).toBeUndefined();
      expect(await jobs.claimById({ jobId: randomUUID(), runnerId: 'r2' })).toBeUndefined();
    });
  });

  describe('JobStore.listDeadLetters', () => {
    it('lists failed jobs with their last error and attempts, newest failure first', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const a = await deadLetter(jobs, t0, t0 + 1, { handler: 'mail', queue: 'q1' });
      const b = await deadLetter(jobs, t0, t0 + 2, { handler: 'sms', queue: 'q2' });
      await createRunning(jobs, t0);
      const done = await createRunning(jobs, t0);
      await jobs.complete({ ...leaseOf(done), result: 1, now: t0 + 3 });
      const listed = await jobs.listDeadLetters({ limit: 10 });
      expect(listed.map((j) => j.id)).toEqual([b.id, a.id]);
      expect(listed[1]).toMatchObject({ attempts: 1, error: { ...ERROR, attempt: 1 } });
      expect((await jobs.listDeadLetters({ limit: 1, offset: 1 })).map((j) => j.id)).toEqual([
        a.id,
      ]);
      expect((await jobs.listDeadLetters({ limit: 10, handler: 'mail' })).map((j) => j.id)).toEqual(
        [a.id],
      );
      expect((await jobs.listDeadLetters({ limit: 10, queue: 'q2' })).map((j) => j.id)).toEqual([
        b.id,
      ]);
    });

    it('rejects a negative limit', async () => {
      await expectValidationError(stores().jobs.listDeadLetters({ limit: -1 }), 'limit');
    });
  });

  describe('JobStore.redrive', () => {
    it('puts a dead letter back to pending with fresh attempts and keeps its last error', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const dead = await deadLetter(jobs, t0, t0 + 1, { maxAttempts: 2 });
      const redriven = await jobs.redrive({ jobId: dead.id, now: t0 + 10 });
      expect(redriven).toMatchObject({
        status: 'pending',
        attempts: 0,
        maxAttempts: 2,
        runAt: t0 + 10,
        leaseId: null,
        finishedAt: null,
        error: { code: 'BOOM' },
      });
      const [claimed] = await jobs.claimBatch({
        runnerId: 'r',
        limit: 1,
        handlers: [dead.handler],
        now: t0 + 10,
      });
      expect(claimed).toMatchObject({ id: dead.id, attempts: 1 });
      expect(await jobs.listDeadLetters({ limit: 10 })).toEqual([]);
    });

    it('refuses a job that is not failed, and an unknown id', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const pending = await jobs.create(dueJob(t0));
      await expect(jobs.redrive({ jobId: pending.id })).rejects.toBeInstanceOf(InvalidStateError);
      expect(await jobs.get(pending.id)).toEqual(pending);
      await expect(jobs.redrive({ jobId: randomUUID() })).rejects.toBeInstanceOf(NotFoundError);
    });
  });

  describe('JobStore.redriveMany', () => {
    it('redrives matching dead letters up to the limit, oldest failure first', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const old = await deadLetter(jobs, t0, t0 + 1, { handler: 'mail' });
      const newer = await deadLetter(jobs, t0, t0 + 2, { handler: 'mail' });
      const newest = await deadLetter(jobs, t0, t0 + 5, { handler: 'mail' });
      const other = await deadLetter(jobs, t0, t0 + 1, { handler: 'sms' });
      expect(await jobs.redriveMany({ handler: 'mail', limit: 1, now: t0 + 10 })).toBe(1);
      expect((await jobs.get(old.id))?.status).toBe('pending');
      expect(
        await jobs.redriveMany({ handler: 'mail', failedBefore: t0 + 5, limit: 10, now: t0 + 10 }),
      ).toBe(1);
      expect((await jobs.get(newer.id))?.status).toBe('pending');
      expect((await jobs.get(newest.id))?.status).toBe('failed');
      expect((await jobs.get(other.id))?.status).toBe('failed');
      expect(await jobs.redriveMany({ queue: 'nowhere', limit: 10 })).toBe(0);
    });
  });

  describe('JobStore.pruneFinished', () => {
    it('deletes finished jobs older than the age, in the given statuses, up to the limit', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const oldDone = await createRunning(jobs, t0);
      await jobs.complete({ ...leaseOf(oldDone), result: 1, now: t0 });
      const recentDone = await createRunning(jobs, t0);
      await jobs.complete({ ...leaseOf(recentDone), result: 1, now: t0 + 50_000 });
      const oldFailed = await deadLetter(jobs, t0, t0);
      const pending = await jobs.create(dueJob(t0));
      const params = { olderThanMs: 60_000, now: t0 + 100_000 };
      const first = await jobs.pruneFinished({ ...params, statuses: ['completed'], limit: 10 });
      expect(first.jobs).toBe(1);
      expect(await jobs.get(oldDone.id)).toBeUndefined();
      expect(await jobs.get(recentDone.id)).toBeDefined();
      expect(await jobs.get(oldFailed.id)).toBeDefined();
      expect(await jobs.get(pending.id)).toBeDefined();
      const second = await jobs.pruneFinished({ ...params, statuses: ['failed'], limit: 10 });
      expect(second.jobs).toBe(1);
      expect(await jobs.get(oldFailed.id)).toBeUndefined();
    });

    it('pages: deletes at most limit jobs per call', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      for (let i = 0; i < 3; i++) await deadLetter(jobs, t0, t0);
      const params = { statuses: ['failed'] as const, olderThanMs: 0, limit: 2, now: t0 + 1 };
      expect((await jobs.pruneFinished(params)).jobs).toBe(2);
      expect((await jobs.pruneFinished(params)).jobs).toBe(1);
      expect((await jobs.pruneFinished(params)).jobs).toBe(0);
    });

    it('keeps the jobs of an execution that is not finished', async () => {
      const t0 = Date.now();
      const s = stores();
      const live = newExecution({ status: 'waiting' });
      const done = newExecution({ status: 'completed' });
      await s.executions.create(live);
      await s.executions.create(done);
      const kept = await deadLetter(s.jobs, t0, t0, { executionId: live.id, stepId: 'pay' });
      const pruned = await deadLetter(s.jobs, t0, t0, { executionId: done.id, stepId: 'pay' });
      const params = { statuses: ['failed'] as const, olderThanMs: 0, limit: 10, now: t0 + 1 };
      expect((await s.jobs.pruneFinished(params)).jobs).toBe(1);
      expect(await s.jobs.get(kept.id)).toBeDefined();
      expect(await s.jobs.get(pruned.id)).toBeUndefined();
    });

    it('rejects a status that is not terminal', async () => {
      const params = { statuses: ['running'] as const, olderThanMs: 0, limit: 1 };
      await expectValidationError(stores().jobs.pruneFinished(params), 'statuses[0]');
    });
  });
}
