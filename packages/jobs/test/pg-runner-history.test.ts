import { EventBus, noopLogger } from '@flowmonkey/core';
import { createPgStores } from '@flowmonkey/postgres';
import { useTestDatabase } from '@flowmonkey/postgres/testing';
import { describe, expect, it } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { deferred, recordEvents, untilAborted } from './helpers.js';

const db = useTestDatabase();

function pgRunner(options: { cancelGraceMs?: number } = {}) {
  const stores = createPgStores({ pool: db().pool });
  const events = new EventBus();
  const runner = new BasicJobRunner({
    jobStore: stores.jobs,
    runnerId: 'history-runner',
    logger: noopLogger,
    events,
    random: () => 0.5,
    ...options,
  });
  return { stores, runner, events };
}

/** The job's `job_events` rows, oldest first. */
async function history(jobId: string): Promise<{ kind: string; attempt: number; data: unknown }[]> {
  const { rows } = await db().pool.query(
    'SELECT kind, attempt, data FROM flowmonkey.job_events WHERE job_id = $1 ORDER BY id',
    [jobId],
  );
  return rows;
}

describe('BasicJobRunner job history on PostgreSQL', () => {
  it('writes every lifecycle event of an attempt to job_events, in the order emitted', async () => {
    const { stores, runner, events } = pgRunner();
    const emitted = recordEvents(events);
    runner.registerHandler('report', async (_input, ctx) => {
      await ctx.progress(50, 'half');
      return 'ok';
    });
    const job = await stores.jobs.create({ handler: 'report' });
    await runner.runOnce();
    await runner.whenIdle();
    await runner.stop();
    const rows = await history(job.id);
    expect(rows.map((r) => r.kind)).toEqual([
      'created',
      'claimed',
      'started',
      'progress',
      'completed',
    ]);
    expect(emitted.map((e) => e.split(':')[1])).toEqual(rows.slice(1).map((r) => r.kind));
    expect(rows[2]).toEqual({ kind: 'started', attempt: 1, data: { runnerId: 'history-runner' } });
  });

  it('records a timeout before the failed attempt it causes', async () => {
    const { stores, runner } = pgRunner({ cancelGraceMs: 50 });
    runner.registerHandler('sleepy', async (_input, ctx) => untilAborted(ctx.signal), {
      timeoutMs: 30,
    });
    const job = await stores.jobs.create({ handler: 'sleepy', maxAttempts: 1 });
    await runner.runOnce();
    await runner.whenIdle();
    await runner.stop();
    const rows = await history(job.id);
    expect(rows.map((r) => r.kind)).toEqual(['created', 'claimed', 'started', 'timeout', 'failed']);
    expect(rows[3]?.data).toEqual({ timeoutMs: 30 });
    expect(rows[4]?.data).toMatchObject({ code: 'JOB_TIMEOUT' });
  });

  it('records lease-lost when the runner finds its job was reaped, and nothing of its attempt after that', async () => {
    const { stores, runner } = pgRunner();
    const started = deferred();
    runner.registerHandler('slow', async (_input, ctx) => {
      started.resolve();
      await untilAborted(ctx.signal);
    });
    const job = await stores.jobs.create({ handler: 'slow', maxAttempts: 3 });
    await runner.runOnce();
    await started.promise;
    const [held] = await stores.jobs.listByStatus({ status: 'running', limit: 1 });
    await stores.jobs.resetStalled({ jobId: job.id, leaseId: held?.leaseId ?? '' });
    expect(await runner.heartbeatOnce()).toMatchObject({ lost: 1 });
    await runner.whenIdle();
    await runner.stop();
    expect((await history(job.id)).map((r) => r.kind)).toEqual([
      'created',
      'claimed',
      'started',
      'reset',
      'lease-lost',
    ]);
  });
});
