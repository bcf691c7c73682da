import { afterEach, describe, expect, it } from 'vitest';
import { createPgStores } from '../src/create-pg-stores.js';
import { createTestPool, insertJob, useTestDatabase } from '../src/testing/index.js';

const db = useTestDatabase();
const pools: ReturnType<typeof createTestPool>[] = [];

function pool(max: number) {
  const p = createTestPool(db().connectionString, { max });
  pools.push(p);
  return p;
}

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end()));
});

/** Resolves as `work` does, or with 'blocked' when it has not settled after `ms`. */
function within<T>(work: Promise<T>, ms: number): Promise<T | 'blocked'> {
  return Promise.race([work, new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), ms))]);
}

describe('createPgStores heartbeatPool', () => {
  it('lets heartbeats through while handlers hold every connection of the main pool', async () => {
    const main = pool(1);
    const stores = createPgStores({ pool: main, heartbeatPool: pool(1), notify: false });
    const job = await insertJob(db().pool, { status: 'running', heartbeatAt: Date.now() - 60_000 });
    const lease = { jobId: job.id, leaseId: job.leaseId ?? '' };
    const held = await main.connect();
    try {
      expect(await within(stores.jobs.heartbeatMany({ leases: [lease] }), 5_000)).toEqual({
        lost: [],
        cancelRequested: [],
      });
      expect(await within(stores.jobs.heartbeat(lease), 5_000)).toEqual({ cancelRequested: false });
      // Without a heartbeat pool the same call queues behind the held connection.
      const plain = createPgStores({ pool: main, notify: false });
      expect(await within(plain.jobs.heartbeatMany({ leases: [lease] }), 300)).toBe('blocked');
    } finally {
      held.release();
    }
    const after = await stores.jobs.get(job.id);
    expect(Date.now() - (after?.heartbeatAt ?? 0)).toBeLessThan(30_000);
  });

  it('is not used inside a transaction: heartbeats there run on the transaction', async () => {
    const stores = createPgStores({ pool: pool(2), heartbeatPool: pool(1), notify: false });
    const job = await insertJob(db().pool, { status: 'running' });
    const lease = { jobId: job.id, leaseId: job.leaseId ?? '' };
    await expect(
      stores.transaction(async (tx) => {
        await tx.jobs.heartbeat(lease);
        await tx.jobs.complete({ ...lease, result: 1 });
        return tx.jobs.heartbeatMany({ leases: [lease] });
      }),
    ).resolves.toEqual({ lost: [job.id], cancelRequested: [] });
  });
});
