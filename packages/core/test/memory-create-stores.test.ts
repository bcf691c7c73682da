import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { ValidationError } from '../src/errors.js';
import { createMemoryStores } from '../src/memory/memory-stores.js';
import { normalizeNewJobs } from '../src/validation.js';

describe('createMemoryStores', () => {
  it('reads time from the injected clock when no now is passed', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const stores = createMemoryStores({ clock });
    expect(stores.clock).toBe(clock);
    const job = await stores.jobs.create({ handler: 'h', runAt: clock.now() + 1000 });
    expect(job.createdAt).toBe(clock.now());
    expect(await stores.jobs.claimBatch({ runnerId: 'r', limit: 1 })).toEqual([]);
    clock.advance(1000);
    const [claimed] = await stores.jobs.claimBatch({ runnerId: 'r', limit: 1 });
    expect(claimed).toMatchObject({ id: job.id, heartbeatAt: clock.now(), startedAt: clock.now() });
    clock.advance(60_000);
    const stalled = await stores.jobs.findStalled({ stalledThresholdMs: 59_999, limit: 5 });
    expect(stalled.map((j) => j.id)).toEqual([job.id]);
  });

  it('applies maxPayloadBytes to job input and results', async () => {
    const stores = createMemoryStores({ maxPayloadBytes: 64 });
    await expect(stores.jobs.create({ handler: 'h', input: 'x'.repeat(100) })).rejects.toThrow(
      ValidationError,
    );
    const job = await stores.jobs.create({ handler: 'h', input: 'small', runAt: 0 });
    const [claimed] = await stores.jobs.claimBatch({ runnerId: 'r', limit: 1 });
    expect(claimed?.id).toBe(job.id);
    const lease = { jobId: job.id, leaseId: claimed?.leaseId ?? '' };
    await expect(stores.jobs.complete({ ...lease, result: 'y'.repeat(100) })).rejects.toMatchObject(
      {
        field: 'result',
      },
    );
  });

  it('gives each call its own empty state', async () => {
    const a = createMemoryStores();
    const b = createMemoryStores();
    await a.jobs.create({ handler: 'h' });
    expect(await b.jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
  });

  it('runs transactions one at a time, in call order', async () => {
    const stores = createMemoryStores();
    const order: string[] = [];
    const slow = stores.transaction(async () => {
      order.push('first:start');
      await new Promise<void>((resolve) => setImmediate(resolve));
      order.push('first:end');
    });
    const fast = stores.transaction(async () => {
      order.push('second');
    });
    await Promise.all([slow, fast]);
    expect(order).toEqual(['first:start', 'first:end', 'second']);
  });
});

describe('normalizeNewJobs', () => {
  it('names the index of the bad job', () => {
    expect(() => normalizeNewJobs([{ handler: 'a' }, { handler: '' }], { now: 0 })).toThrow(
      expect.objectContaining({ field: 'jobs[1].handler' }),
    );
  });
});
