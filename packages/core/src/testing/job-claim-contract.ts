import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Stores } from '../stores/stores.js';
import { createRunning, dueJob, leaseOf, UUID_PATTERN } from './contract-fixtures.js';

/** Contract tests of `JobStore.claimBatch`. */
export function describeJobClaimContract(stores: () => Stores): void {
  describe('JobStore.claimBatch', () => {
    it('makes a due job running with a lease, runner, attempt and heartbeat', async () => {
      const t0 = Date.now();
      const created = await stores().jobs.create(dueJob(t0));
      const [claimed, ...rest] = await stores().jobs.claimBatch({
        runnerId: 'runner-a',
        limit: 10,
        now: t0,
      });
      expect(rest).toEqual([]);
      expect(claimed).toMatchObject({
        id: created.id,
        status: 'running',
        attempts: 1,
        runnerId: 'runner-a',
        heartbeatAt: t0,
        startedAt: t0,
      });
      expect(claimed?.leaseId).toMatch(UUID_PATTERN);
      expect(await stores().jobs.get(created.id)).toEqual(claimed);
    });

    it('claims a job only once its runAt has come (runAt <= now)', async () => {
      const t0 = Date.now();
      const job = await stores().jobs.create({ handler: 'h', runAt: t0 + 60_000 });
      expect(await stores().jobs.claimBatch({ runnerId: 'r', limit: 5, now: t0 })).toEqual([]);
      const atRunAt = await stores().jobs.claimBatch({ runnerId: 'r', limit: 5, now: t0 + 60_000 });
      expect(atRunAt.map((j) => j.id)).toEqual([job.id]);
    });

    it('orders by priority descending, then runAt ascending, then id', async () => {
      const t0 = Date.now();
      const [lowId, highId] = [randomUUID(), randomUUID()].sort();
      const jobs = stores().jobs;
      const late = await jobs.create(dueJob(t0, { priority: 0, runAt: t0 - 1000 }));
      const urgent = await jobs.create(dueJob(t0, { priority: 20, runAt: t0 - 10 }));
      const tieHigh = await jobs.create(dueJob(t0, { id: highId, priority: 0, runAt: t0 - 5000 }));
      const tieLow = await jobs.create(dueJob(t0, { id: lowId, priority: 0, runAt: t0 - 5000 }));
      const low = await jobs.create(dueJob(t0, { priority: -10, runAt: t0 - 99_000 }));
      const claimed = await jobs.claimBatch({ runnerId: 'r', limit: 10, now: t0 });
      expect(claimed.map((j) => j.id)).toEqual([urgent.id, tieLow.id, tieHigh.id, late.id, low.id]);
    });

    it('claims at most limit jobs, leaving the rest pending for the next claim', async () => {
      const t0 = Date.now();
      await stores().jobs.createMany([dueJob(t0), dueJob(t0), dueJob(t0)]);
      const first = await stores().jobs.claimBatch({ runnerId: 'r', limit: 2, now: t0 });
      const second = await stores().jobs.claimBatch({ runnerId: 'r', limit: 2, now: t0 });
      const third = await stores().jobs.claimBatch({ runnerId: 'r', limit: 2, now: t0 });
      expect([first.length, second.length, third.length]).toEqual([2, 1, 0]);
      expect(first.map((j) => j.id)).not.toContain(second[0]?.id);
    });

    it('claims only the handlers asked for', async () => {
      const t0 = Date.now();
      const [a, , c] = await stores().jobs.createMany([
        dueJob(t0, { handler: 'a' }),
        dueJob(t0, { handler: 'b' }),
        dueJob(t0, { handler: 'c' }),
      ]);
      const claimed = await stores().jobs.claimBatch({
        runnerId: 'r',
        limit: 10,
        handlers: ['a', 'c', 'unknown'],
        now: t0,
      });
      expect(claimed.map((j) => j.id).sort()).toEqual([a?.id, c?.id].sort());
      expect(
        await stores().jobs.claimBatch({ runnerId: 'r', limit: 10, handlers: [], now: t0 }),
      ).toEqual([]);
    });

    it('claims only the queues asked for', async () => {
      const t0 = Date.now();
      const [mail] = await stores().jobs.createMany([
        dueJob(t0, { queue: 'mail' }),
        dueJob(t0, { queue: 'reports' }),
        dueJob(t0),
      ]);
      const claimed = await stores().jobs.claimBatch({
        runnerId: 'r',
        limit: 10,
        queues: ['mail'],
        now: t0,
      });
      expect(claimed.map((j) => j.id)).toEqual([mail?.id]);
    });

    it('never claims a running, completed, failed or cancelled job', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const running = await createRunning(jobs, t0);
      const done = await createRunning(jobs, t0);
      await jobs.complete({ ...leaseOf(done), result: null, now: t0 });
      const failed = await createRunning(jobs, t0, { maxAttempts: 1 });
      await jobs.fail({ ...leaseOf(failed), error: { code: 'E', message: 'm' }, now: t0 });
      const cancelled = await jobs.create(dueJob(t0));
      await jobs.cancel({ jobId: cancelled.id, now: t0 });
      expect(await jobs.claimBatch({ runnerId: 'r', limit: 10, now: t0 + 1 })).toEqual([]);
      expect((await jobs.get(running.id))?.leaseId).toBe(running.leaseId);
    });

    it('gives concurrent claimers disjoint jobs, each with its own lease', async () => {
      const t0 = Date.now();
      const count = 40;
      await stores().jobs.createMany(
        Array.from({ length: count }, (_, i) => dueJob(t0, { input: i })),
      );
      const batches = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          stores().jobs.claimBatch({ runnerId: `runner-${i}`, limit: 7, now: t0 }),
        ),
      );
      const claimed = batches.flat();
      expect(claimed).toHaveLength(count);
      expect(new Set(claimed.map((j) => j.id)).size).toBe(count);
      expect(new Set(claimed.map((j) => j.leaseId)).size).toBe(count);
      expect(claimed.every((j) => j.attempts === 1)).toBe(true);
    });

    it('returns each claimed job exactly as stored, every field of a retried one included', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const first = await createRunning(jobs, t0, {
        queue: 'contract-q',
        input: { order: 7, lines: ['a', 'b'] },
        priority: 5,
        maxAttempts: 3,
        timeoutMs: 5000,
        retry: { strategy: 'FIXED', baseDelayMs: 10 },
        idempotencyKey: `key-${randomUUID()}`,
        correlationId: 'request-9',
        executionId: `exec-${randomUUID()}`,
        stepId: 'charge',
      });
      await jobs.progress({ ...leaseOf(first), percent: 40, message: 'halfway', now: t0 + 1 });
      await jobs.fail({
        ...leaseOf(first),
        error: { code: 'E_DOWN', message: 'gateway down' },
        retryAt: t0 + 2,
        now: t0 + 2,
      });
      const [again] = await jobs.claimBatch({
        runnerId: 'runner-2',
        limit: 1,
        handlers: [first.handler],
        now: t0 + 3,
      });
      expect(again).toMatchObject({ id: first.id, attempts: 2, runnerId: 'runner-2' });
      expect(again?.error).toMatchObject({ code: 'E_DOWN' });
      expect(await jobs.get(first.id)).toEqual(again);
    });

    it('counts one more attempt and issues a fresh lease on every claim', async () => {
      const t0 = Date.now();
      const jobs = stores().jobs;
      const first = await createRunning(jobs, t0, { maxAttempts: 3 });
      await jobs.fail({
        ...leaseOf(first),
        error: { code: 'E', message: 'm' },
        retryAt: t0,
        now: t0,
      });
      const [second] = await jobs.claimBatch({ runnerId: 'runner-2', limit: 1, now: t0 + 1 });
      expect(second?.id).toBe(first.id);
      expect(second?.attempts).toBe(2);
      expect(second?.runnerId).toBe('runner-2');
      expect(second?.leaseId).toMatch(UUID_PATTERN);
      expect(second?.leaseId).not.toBe(first.leaseId);
    });
  });
}
