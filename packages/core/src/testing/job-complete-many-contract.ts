import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Stores } from '../stores/stores.js';
import { createRunning, expectValidationError, leaseOf, staleLease } from './contract-fixtures.js';

/** Contract tests of the optional `JobStore.completeMany` (skipped by stores without it). */
export function describeJobCompleteManyContract(stores: () => Stores): void {
  describe('JobStore.completeMany', () => {
    const completeMany = () => {
      const jobs = stores().jobs;
      if (jobs.completeMany === undefined) return undefined;
      return jobs.completeMany.bind(jobs);
    };

    it('completes every held job with its own result, as complete would', async () => {
      const fn = completeMany();
      if (fn === undefined) return;
      const t0 = Date.now();
      const a = await createRunning(stores().jobs, t0);
      const b = await createRunning(stores().jobs, t0);
      const out = await fn({
        items: [
          { ...leaseOf(a), result: { n: 1 } },
          { ...leaseOf(b), result: 'two' },
        ],
        now: t0 + 10,
      });
      expect(out).toEqual({ completed: [a.id, b.id], lost: [], finishedAt: t0 + 10 });
      const [sa, sb] = await Promise.all([stores().jobs.get(a.id), stores().jobs.get(b.id)]);
      expect(sa).toMatchObject({ status: 'completed', result: { n: 1 }, leaseId: null });
      expect(sb).toMatchObject({ status: 'completed', result: 'two', finishedAt: t0 + 10 });
    });

    it('returns the completed jobs as stored with returnJobs, in the order of completed', async () => {
      const fn = completeMany();
      if (fn === undefined) return;
      const t0 = Date.now();
      const a = await createRunning(stores().jobs, t0, { executionId: 'exec-a', stepId: 'pay' });
      const b = await createRunning(stores().jobs, t0);
      const out = await fn({
        items: [
          { ...leaseOf(b), result: [2] },
          { ...staleLease(a), result: 0 },
          { ...leaseOf(a), result: { n: 1 } },
        ],
        returnJobs: true,
        now: t0 + 10,
      });
      expect(out.completed).toEqual([b.id, a.id]);
      expect(out.jobs?.map((j) => j.id)).toEqual([b.id, a.id]);
      expect(out.jobs?.[0]).toEqual(await stores().jobs.get(b.id));
      expect(out.jobs?.[1]).toMatchObject({
        status: 'completed',
        result: { n: 1 },
        executionId: 'exec-a',
        stepId: 'pay',
        finishedAt: t0 + 10,
      });
      const plain = await fn({ items: [], now: t0 });
      expect(plain.jobs).toBeUndefined();
    });

    it('reports fenced-out items as lost, leaves them unchanged and commits the others', async () => {
      const fn = completeMany();
      if (fn === undefined) return;
      const t0 = Date.now();
      const held = await createRunning(stores().jobs, t0);
      const stale = await createRunning(stores().jobs, t0);
      const before = await stores().jobs.get(stale.id);
      const unknown = { jobId: randomUUID(), leaseId: randomUUID() };
      const out = await fn({
        items: [
          { ...staleLease(stale), result: 1 },
          { ...leaseOf(held), result: 2 },
          { ...unknown, result: 3 },
        ],
        now: t0 + 10,
      });
      expect(out.completed).toEqual([held.id]);
      expect(out.lost).toEqual([stale.id, unknown.jobId]);
      expect(await stores().jobs.get(stale.id)).toEqual(before);
      expect((await stores().jobs.get(held.id))?.status).toBe('completed');
    });

    it('rejects a result that is not JSON, naming the item, and writes nothing', async () => {
      const fn = completeMany();
      if (fn === undefined) return;
      const t0 = Date.now();
      const a = await createRunning(stores().jobs, t0);
      const b = await createRunning(stores().jobs, t0);
      await expectValidationError(
        fn({
          items: [
            { ...leaseOf(a), result: 1 },
            { ...leaseOf(b), result: () => 1 },
          ],
          now: t0 + 10,
        }),
        'items[1].result',
      );
      expect((await stores().jobs.get(a.id))?.status).toBe('running');
    });

    it('rejects a bad runner event, naming it, and writes nothing', async () => {
      const fn = completeMany();
      if (fn === undefined) return;
      const t0 = Date.now();
      const a = await createRunning(stores().jobs, t0);
      const events = [{ ...leaseOf(a), kind: 'finished' as 'started', attempt: 1 }];
      await expectValidationError(
        fn({ items: [{ ...leaseOf(a), result: 1 }], events, now: t0 + 10 }),
        'events[0].kind',
      );
      expect((await stores().jobs.get(a.id))?.status).toBe('running');
    });
  });
}
