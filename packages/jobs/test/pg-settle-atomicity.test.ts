import type { Job } from '@flowmonkey/core';
import { createPgStores } from '@flowmonkey/postgres';
import { useTestDatabase } from '@flowmonkey/postgres/testing';
import { describe, expect, it } from 'vitest';
import { orderEngine } from './fixtures/order-flow.js';

const db = useTestDatabase();

/** Starts an order and claims its charge job, as a runner would. */
async function claimedCharge() {
  const stores = createPgStores({ pool: db().pool });
  const engine = orderEngine(stores, 'complete');
  const execution = await engine.start('order', { amount: 4 });
  const [claimed] = await stores.jobs.claimBatch({ runnerId: 'runner-a', limit: 1 });
  if (claimed?.leaseId == null) throw new Error('expected the charge job to be claimed');
  const lease = { jobId: claimed.id, leaseId: claimed.leaseId };
  return { stores, engine, execution, lease };
}

/** Makes every UPDATE of an execution fail, inside whatever transaction runs it. */
async function refuseExecutionUpdates(): Promise<() => Promise<void>> {
  await db().pool.query(`
    CREATE FUNCTION flowmonkey.test_refuse_resume() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'execution update refused by the test'; END $$`);
  await db().pool.query(`
    CREATE TRIGGER test_refuse_resume BEFORE UPDATE ON flowmonkey.executions
    FOR EACH ROW EXECUTE FUNCTION flowmonkey.test_refuse_resume()`);
  return async () => {
    await db().pool.query('DROP TRIGGER test_refuse_resume ON flowmonkey.executions');
    await db().pool.query('DROP FUNCTION flowmonkey.test_refuse_resume()');
  };
}

describe('Engine.completeJob and Engine.failJob on PostgreSQL', () => {
  it('commit nothing when the execution resume fails: the job stays running under its lease', async () => {
    const { stores, engine, execution, lease } = await claimedCharge();
    const jobBefore = await stores.jobs.get(lease.jobId);
    const executionBefore = await engine.get(execution.id);
    expect([jobBefore?.status, executionBefore?.status]).toEqual(['running', 'waiting']);
    const allow = await refuseExecutionUpdates();
    try {
      await expect(engine.completeJob({ ...lease, result: { charged: 4 } })).rejects.toThrow(
        /refused by the test/,
      );
      await expect(
        engine.failJob({
          ...lease,
          error: { code: 'DECLINED', message: 'card declined' },
          retryAt: null,
        }),
      ).rejects.toThrow(/refused by the test/);
    } finally {
      await allow();
    }
    const jobAfter: Job | undefined = await stores.jobs.get(lease.jobId);
    expect(jobAfter).toEqual(jobBefore);
    expect(await engine.get(execution.id)).toEqual(executionBefore);
    // The same lease still settles once the execution can be written: only the trigger failed.
    const settled = await engine.completeJob({ ...lease, result: { charged: 4 } });
    expect(settled.job.status).toBe('completed');
    expect((await engine.get(execution.id))?.status).toBe('completed');
  });

  it('commit nothing for a final failure when the resume fails, and then fail the execution once allowed', async () => {
    const { stores, engine, execution, lease } = await claimedCharge();
    const jobBefore = await stores.jobs.get(lease.jobId);
    const allow = await refuseExecutionUpdates();
    const error = { code: 'DECLINED', message: 'card declined' };
    try {
      await expect(engine.failJob({ ...lease, error, retryAt: null })).rejects.toThrow(
        /refused by the test/,
      );
    } finally {
      await allow();
    }
    expect(await stores.jobs.get(lease.jobId)).toEqual(jobBefore);
    expect((await engine.get(execution.id))?.status).toBe('waiting');
    const settled = await engine.failJob({ ...lease, error, retryAt: null });
    expect(settled.job.status).toBe('failed');
    expect((await engine.get(execution.id))?.status).toBe('failed');
  });
});
