import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPgStores } from '../src/create-pg-stores.js';
import { createTestPool, useTestDatabase } from '../src/testing/index.js';

const db = useTestDatabase();

/** What `synchronous_commit` is for the rest of the transaction the job store ran its claim in. */
async function settingAfterClaimInTransaction(pool: pg.Pool): Promise<string> {
  let seen = '';
  // The store's transaction client, observed: after the claim, ask it in the same transaction.
  const observed = new Proxy(pool, {
    get(target, prop) {
      if (prop !== 'connect') {
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return async () => {
        const client = await target.connect();
        // The test servers run with synchronous_commit off; make the caller's session 'on'.
        await client.query('SET synchronous_commit TO on');
        const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
        (client as { query: unknown }).query = async (...args: unknown[]) => {
          const result = await query(...args);
          const config = args[0] as { name?: string };
          if (typeof config === 'object' && config.name?.includes('claimBatch')) {
            const { rows } = await query("SELECT current_setting('synchronous_commit') AS s");
            seen = String(rows[0]?.s);
          }
          return result;
        };
        return client;
      };
    },
  });
  const stores = createPgStores({ pool: observed, notify: false });
  await stores.jobs.create({ handler: 'h' });
  await stores.transaction((tx) => tx.jobs.claimBatch({ runnerId: 'r', limit: 1 }));
  return seen;
}

describe('PgJobStore lazy commits (claimBatch, heartbeatMany, recordEvents)', () => {
  it('turn synchronous commit off for their own transaction only, leaving the session as it was', async () => {
    const pool = createTestPool(db().connectionString, { max: 1 });
    try {
      // The test servers run with synchronous_commit off; this session says 'on'.
      await pool.query('SET synchronous_commit TO on');
      const stores = createPgStores({ pool, notify: false });
      await stores.jobs.create({ handler: 'h' });
      const [job] = await stores.jobs.claimBatch({ runnerId: 'r', limit: 1 });
      const lease = { jobId: job?.id ?? '', leaseId: job?.leaseId ?? '' };
      expect(await stores.jobs.heartbeatMany({ leases: [lease] })).toEqual({
        lost: [],
        cancelRequested: [],
      });
      await stores.jobs.recordEvents({ events: [{ ...lease, kind: 'started', attempt: 1 }] });
      const { rows } = await pool.query('SHOW synchronous_commit');
      expect(rows[0]?.synchronous_commit).toBe('on');
    } finally {
      await pool.end();
    }
  });

  it('never turn synchronous commit off for a caller’s transaction', async () => {
    expect(await settingAfterClaimInTransaction(db().pool)).toBe('on');
  });
});
