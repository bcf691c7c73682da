import { describe, expect, it } from 'vitest';
import { createPgStores } from '../src/create-pg-stores.js';
import { JobListener } from '../src/job-listener.js';
import { useTestDatabase } from '../src/testing/index.js';

const db = useTestDatabase();

function next(listener: JobListener, event: 'jobs' | 'connected' | 'cancel'): Promise<unknown[]> {
  return new Promise((resolve) => listener.once(event, (...args: unknown[]) => resolve(args)));
}

describe('JobListener', () => {
  it('wakes on enqueue and on cancellation of a running job', async () => {
    const listener = new JobListener({ pool: db().pool });
    const connected = next(listener, 'connected');
    await listener.start();
    await connected;
    try {
      const stores = createPgStores({ pool: db().pool });
      const woke = next(listener, 'jobs');
      await stores.jobs.create({ handler: 'listen-test' });
      await woke;
      const [claimed] = await stores.jobs.claimBatch({
        runnerId: 'r',
        limit: 1,
        handlers: ['listen-test'],
      });
      const cancel = next(listener, 'cancel');
      await stores.jobs.cancel({ jobId: claimed?.id as string });
      expect(await cancel).toEqual([claimed?.id]);
    } finally {
      await listener.stop();
    }
  });

  it('reconnects by itself after its backend is terminated', async () => {
    const listener = new JobListener({ pool: db().pool, reconnectMinDelayMs: 10 });
    const first = next(listener, 'connected');
    await listener.start();
    await first;
    try {
      const reconnected = next(listener, 'connected');
      const killed = await db().pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND query LIKE 'LISTEN%'`,
      );
      expect(killed.rowCount).toBe(1);
      await reconnected;
      expect(listener.connected).toBe(true);
      const woke = next(listener, 'jobs');
      await createPgStores({ pool: db().pool }).jobs.create({ handler: 'after-reconnect' });
      await woke;
    } finally {
      await listener.stop();
    }
  });

  it('opens no connection in poll-only mode', async () => {
    const listener = new JobListener({ pool: db().pool, listen: false });
    await listener.start();
    expect(listener.connected).toBe(false);
    await listener.stop();
  });
});
