import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Stores } from '../stores/stores.js';
import { expectNearNow, expectValidationError, UUID_PATTERN } from './contract-fixtures.js';

/** Contract tests of `JobStore.create`, `createMany` and `get`. */
export function describeJobCreateContract(stores: () => Stores): void {
  describe('JobStore.create', () => {
    it('stores a pending job with every default filled', async () => {
      const job = await stores().jobs.create({ handler: 'email.send' });
      expect(job.id).toMatch(UUID_PATTERN);
      expect(job).toMatchObject({
        handler: 'email.send',
        queue: 'default',
        status: 'pending',
        input: null,
        result: null,
        error: null,
        priority: 0,
        attempts: 0,
        maxAttempts: 3,
        timeoutMs: null,
        retry: null,
        leaseId: null,
        runnerId: null,
        heartbeatAt: null,
        progress: null,
        executionId: null,
        stepId: null,
        idempotencyKey: null,
        correlationId: null,
        cancelRequested: false,
        startedAt: null,
        finishedAt: null,
      });
      expectNearNow(job.createdAt);
      expectNearNow(job.runAt);
      expect(await stores().jobs.get(job.id)).toEqual(job);
    });

    it('keeps every field given, converting a Date runAt to epoch ms', async () => {
      const id = randomUUID();
      const runAt = Date.UTC(2030, 5, 1, 12, 0, 0);
      const job = await stores().jobs.create({
        id,
        handler: 'report.build',
        queue: 'reports.nightly',
        executionId: 'exec-1',
        stepId: 'build',
        input: { items: [1, 'two', { three: true }], none: null },
        priority: 10,
        runAt: new Date(runAt),
        maxAttempts: 7,
        timeoutMs: 30_000,
        retry: { strategy: 'FIXED', baseDelayMs: 500 },
        idempotencyKey: `key-${id}`,
        correlationId: 'order-9',
      });
      const expected = {
        id,
        queue: 'reports.nightly',
        executionId: 'exec-1',
        stepId: 'build',
        input: { items: [1, 'two', { three: true }], none: null },
        priority: 10,
        runAt,
        maxAttempts: 7,
        timeoutMs: 30_000,
        retry: { strategy: 'FIXED', baseDelayMs: 500 },
        correlationId: 'order-9',
      };
      expect(job).toMatchObject(expected);
      expect(await stores().jobs.get(id)).toMatchObject(expected);
    });

    it('returns a copy: mutating the input or the result does not change the stored job', async () => {
      const input = { nested: { n: 1 } };
      const job = await stores().jobs.create({ handler: 'h', input });
      input.nested.n = 2;
      (job.input as { nested: { n: number } }).nested.n = 3;
      expect((await stores().jobs.get(job.id))?.input).toEqual({ nested: { n: 1 } });
    });

    it('returns the existing job for an idempotency key already used, creating no second job', async () => {
      const key = `idem-${randomUUID()}`;
      const first = await stores().jobs.create({ handler: 'h', idempotencyKey: key, input: 1 });
      const second = await stores().jobs.create({ handler: 'h', idempotencyKey: key, input: 2 });
      expect(second.id).toBe(first.id);
      expect(second.input).toBe(1);
      expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toHaveLength(1);
    });

    it('creates separate jobs for different idempotency keys', async () => {
      const a = await stores().jobs.create({ handler: 'h', idempotencyKey: 'a' });
      const b = await stores().jobs.create({ handler: 'h', idempotencyKey: 'b' });
      expect(a.id).not.toBe(b.id);
    });

    it.each([
      ['priority', { priority: 1.5 }],
      ['priority', { priority: 1001 }],
      ['runAt', { runAt: Number.NaN }],
      ['runAt', { runAt: Date.UTC(10000, 0, 1) }],
      ['maxAttempts', { maxAttempts: 0 }],
      ['queue', { queue: 'no spaces allowed' }],
      ['id', { id: 'not-a-uuid' }],
      ['timeoutMs', { timeoutMs: -5 }],
      ['retry.jitterFactor', { retry: { jitterFactor: 2 } }],
      ['stepId', { executionId: 'exec-1' }],
      ['idempotencyKey', { idempotencyKey: 'k'.repeat(256) }],
      ['input.a.b', { input: { a: { b: 10n } } }],
      ['input.list[1]', { input: { list: [1, Number.NaN] } }],
      ['input.text', { input: { text: 'nul\u0000byte' } }],
      ['input.text', { input: { text: 'lone \uD800 surrogate' } }],
    ])(
      'rejects a bad %s with a ValidationError naming it and stores nothing',
      async (field, patch) => {
        await expectValidationError(stores().jobs.create({ handler: 'h', ...patch }), field);
        expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
      },
    );

    it('rejects a missing handler', async () => {
      await expectValidationError(stores().jobs.create({ handler: '' }), 'handler');
    });
  });

  describe('JobStore.createMany', () => {
    it('creates every job and returns them in input order', async () => {
      const jobs = await stores().jobs.createMany([
        { handler: 'a', input: 1 },
        { handler: 'b', input: 2, priority: 5 },
        { handler: 'c', input: 3 },
      ]);
      expect(jobs.map((j) => [j.handler, j.input])).toEqual([
        ['a', 1],
        ['b', 2],
        ['c', 3],
      ]);
      expect(new Set(jobs.map((j) => j.id)).size).toBe(3);
      for (const job of jobs) expect(await stores().jobs.get(job.id)).toEqual(job);
    });

    it('returns each job as a read gives it back, with every field set', async () => {
      const at = Date.UTC(2030, 0, 2, 3, 4, 5, 6);
      const full = {
        queue: 'q',
        handler: 'h',
        executionId: 'exec-1',
        stepId: 'step-1',
        input: { at: new Date(at), gone: undefined, n: [1.5, null] },
        priority: 7,
        runAt: at,
        maxAttempts: 9,
        timeoutMs: 1234,
        retry: { strategy: 'FIXED' as const, baseDelayMs: 10 },
        correlationId: 'corr-1',
      };
      const id = randomUUID();
      const jobs = await stores().jobs.createMany([
        { ...full, id, idempotencyKey: 'key-1' },
        { handler: 'plain' },
        { ...full, id, idempotencyKey: 'key-1', input: 'the same id and key again' },
      ]);
      for (const job of jobs) expect(job).toStrictEqual(await stores().jobs.get(job.id));
      expect(jobs[0]).toMatchObject({ id, input: { at: new Date(at).toISOString() } });
      expect(jobs[2]).toEqual(jobs[0]);
      expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toHaveLength(2);
    });

    it('refuses one id given twice with different idempotency keys, naming the later one', async () => {
      const id = randomUUID();
      const batch = [
        { handler: 'h', id, idempotencyKey: 'one' },
        { handler: 'h', id, idempotencyKey: 'two' },
      ];
      await expectValidationError(stores().jobs.createMany(batch), 'jobs[1].id');
      expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
    });

    it('returns an empty array for an empty batch', async () => {
      expect(await stores().jobs.createMany([])).toEqual([]);
    });

    it('stores none of the jobs when one is invalid, naming its index and field', async () => {
      const batch = [{ handler: 'a' }, { handler: 'b' }, { handler: 'c', priority: 9999 }];
      await expectValidationError(stores().jobs.createMany(batch), 'jobs[2].priority');
      expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
    });

    it('returns the existing job for an idempotency key already used', async () => {
      const existing = await stores().jobs.create({ handler: 'h', idempotencyKey: 'dup' });
      const [fresh, again] = await stores().jobs.createMany([
        { handler: 'h', idempotencyKey: 'new' },
        { handler: 'h', idempotencyKey: 'dup' },
      ]);
      expect(again?.id).toBe(existing.id);
      expect(fresh?.id).not.toBe(existing.id);
      expect(await stores().jobs.listByStatus({ status: 'pending', limit: 10 })).toHaveLength(2);
    });
  });

  describe('JobStore.get', () => {
    it('returns undefined for an unknown id', async () => {
      expect(await stores().jobs.get(randomUUID())).toBeUndefined();
    });
  });
}
