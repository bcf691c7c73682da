import { type Execution, uuidv7 } from '@flowmonkey/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPgStores, type PgStores } from '../src/create-pg-stores.js';
import { insertExecution, insertJob, useTestDatabase } from '../src/testing/index.js';
import { truncateAll } from './helpers.js';

const db = useTestDatabase();
let stores: PgStores;

beforeEach(async () => {
  await truncateAll(db().pool);
  stores = createPgStores({ pool: db().pool, notify: false });
});

async function runningJobOfWaitingExecution(): Promise<{
  execution: Execution;
  lease: { jobId: string; leaseId: string };
}> {
  const execution = await insertExecution(db().pool, { status: 'waiting', currentStepId: 'pay' });
  const job = await insertJob(db().pool, {
    status: 'running',
    executionId: execution.id,
    stepId: 'pay',
  });
  return { execution, lease: { jobId: job.id, leaseId: job.leaseId as string } };
}

describe('PgStores.transaction', () => {
  it('commits a job completion and the execution resume together', async () => {
    const { execution, lease } = await runningJobOfWaitingExecution();
    await stores.transaction(async (tx) => {
      await tx.jobs.complete({ ...lease, result: 1 });
      await tx.executions.update({
        execution: { ...execution, status: 'running', updatedAt: Date.now() },
        expectedVersion: 0,
      });
    });
    expect((await stores.jobs.get(lease.jobId))?.status).toBe('completed');
    expect((await stores.executions.get(execution.id))?.version).toBe(1);
  });

  it('rolls back the completion when the resume fails', async () => {
    const { execution, lease } = await runningJobOfWaitingExecution();
    const outcome = stores.transaction(async (tx) => {
      await tx.jobs.complete({ ...lease, result: 1 });
      await tx.executions.update({
        execution: { ...execution, status: 'running' },
        expectedVersion: 7,
      });
    });
    await expect(outcome).rejects.toMatchObject({ code: 'CONCURRENCY_CONFLICT' });
    expect((await stores.jobs.get(lease.jobId))?.status).toBe('running');
    expect((await stores.executions.get(execution.id))?.status).toBe('waiting');
    const { rows } = await db().pool.query(
      "SELECT count(*)::int AS n FROM flowmonkey.job_events WHERE kind = 'completed'",
    );
    expect(rows[0].n).toBe(0);
  });

  it('leaves nothing visible when the connection dies between the two statements', async () => {
    const { execution, lease } = await runningJobOfWaitingExecution();
    const outcome = stores.transaction(async (tx) => {
      await tx.jobs.complete({ ...lease, result: 1 });
      const { rows } = await db().pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND state = 'idle in transaction'`,
      );
      expect(rows).toHaveLength(1);
      await tx.executions.update({
        execution: { ...execution, status: 'running' },
        expectedVersion: 0,
      });
    });
    await expect(outcome).rejects.toThrow();
    expect((await stores.jobs.get(lease.jobId))?.status).toBe('running');
    expect((await stores.executions.get(execution.id))?.version).toBe(0);
  });

  it('sends the wake-up only after commit, and none after a rollback', async () => {
    const sent: string[] = [];
    const notifying = createPgStores({ pool: db().pool });
    notifying.notifier.jobsDue = () => {
      sent.push('jobs');
    };
    await notifying
      .transaction(async (tx) => {
        await tx.jobs.create({ handler: 'h' });
        expect(sent).toEqual([]);
        throw new Error('abort');
      })
      .catch(() => {});
    expect(sent).toEqual([]);
    await notifying.transaction(async (tx) => {
      await tx.jobs.createMany([{ handler: 'a', id: uuidv7() }, { handler: 'b' }]);
      expect(sent).toEqual([]);
    });
    expect(sent).toEqual(['jobs']);
  });
});
