import { EventBus, noopLogger } from '@flowmonkey/core';
import { createPgStores } from '@flowmonkey/postgres';
import { useTestDatabase } from '@flowmonkey/postgres/testing';
import { describe, expect, it, vi } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { JobReaper } from '../src/job-reaper.js';
import { orderEngine } from './fixtures/order-flow.js';
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

/** Lets the reaper take `jobId` back, as after ten minutes without a heartbeat. */
async function reapNow(jobId: string): Promise<void> {
  await db().pool.query(
    `UPDATE flowmonkey.jobs SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1`,
    [jobId],
  );
  const reaper = new JobReaper({
    jobStore: createPgStores({ pool: db().pool }).jobs,
    stalledThresholdMs: 60_000,
    logger: noopLogger,
  });
  expect(await reaper.runOnce()).toMatchObject({ reset: 1 });
}

/** The history of a job whose first attempt completed. */
const COMPLETED_AT_ONCE = ['created', 'claimed', 'started', 'completed'];

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

  it('writes the started row of a handler that settles at once in its completion, one statement for both', async () => {
    const { stores, runner } = pgRunner();
    runner.registerHandler('quick', async () => 'done');
    const recordEvents = vi.spyOn(stores.jobs, 'recordEvents');
    const completeMany = vi.spyOn(stores.jobs, 'completeMany');
    const job = await stores.jobs.create({ handler: 'quick' });
    await runner.runOnce();
    await runner.whenIdle();
    await runner.stop();
    expect((await history(job.id)).map((r) => r.kind)).toEqual(COMPLETED_AT_ONCE);
    expect(recordEvents).not.toHaveBeenCalled();
    expect(completeMany).toHaveBeenCalledTimes(1);
  });

  it('writes the started row of a step job with its completion and the resume of its execution', async () => {
    const stores = createPgStores({ pool: db().pool });
    const engine = orderEngine(stores, 'complete');
    const runner = new BasicJobRunner({ jobStore: stores.jobs, engine, logger: noopLogger });
    const recordEvents = vi.spyOn(stores.jobs, 'recordEvents');
    const execution = await engine.start('order', { amount: 5 });
    await runner.runOnce();
    await runner.whenIdle();
    await runner.stop();
    expect(await stores.executions.get(execution.id)).toMatchObject({ status: 'completed' });
    const [job] = await stores.jobs.getByExecution(execution.id);
    expect((await history(job?.id ?? '')).map((r) => r.kind)).toEqual(COMPLETED_AT_ONCE);
    expect(recordEvents).not.toHaveBeenCalled();
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
    // A handler still running after the turn it started in has its `started` row written
    // on its own; a reaper, minutes later, finds it there.
    await expect.poll(async () => (await history(job.id)).map((r) => r.kind)).toContain('started');
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

describe('BasicJobRunner job history on PostgreSQL: a prefetched job whose lease is lost', () => {
  it('reports the loss once, as for a running job (event and lease-lost row), and never starts the job', async () => {
    const stores = createPgStores({ pool: db().pool });
    const events = new EventBus();
    const lostEvents: { job: unknown }[] = [];
    events.on('job:lease-lost', (payload) => void lostEvents.push(payload));
    const stale = new BasicJobRunner({
      jobStore: stores.jobs,
      runnerId: 'stale-runner',
      logger: noopLogger,
      events,
      random: () => 0.5,
      maxConcurrent: 1,
      prefetch: 1,
      batchSize: 2,
    });
    const gate = deferred();
    const first = deferred();
    const ranHere: string[] = [];
    stale.registerHandler('work', async (_input, ctx) => {
      ranHere.push(ctx.job.id);
      first.resolve();
      await gate.promise;
      return 'stale';
    });
    const now = Date.now();
    const running = await stores.jobs.create({ handler: 'work', runAt: now - 2000 });
    const buffered = await stores.jobs.create({ handler: 'work', runAt: now - 1000 });
    expect(await stale.runOnce()).toEqual({ claimed: 2 });
    await first.promise;
    const lease = (await stores.jobs.get(buffered.id))?.leaseId;
    expect([ranHere, stale.activeCount()]).toEqual([[running.id], 1]);

    // The reaper resets the buffered job (this runner was paused, say) and another runs it.
    await reapNow(buffered.id);
    const rescuer = new BasicJobRunner({
      jobStore: stores.jobs,
      runnerId: 'rescuer',
      logger: noopLogger,
      random: () => 0.5,
    });
    rescuer.registerHandler('work', async () => 'rescued');
    expect(await rescuer.runOnce()).toEqual({ claimed: 1 });
    await rescuer.whenIdle();
    await rescuer.stop();

    expect(await stale.heartbeatOnce()).toEqual({ extended: 1, lost: 1, cancelRequested: 0 });
    expect(lostEvents).toEqual([
      {
        job: expect.objectContaining({
          id: buffered.id,
          leaseId: lease,
          runnerId: 'stale-runner',
          attempts: 1,
        }),
      },
    ]);
    // Reported once: the next heartbeat no longer carries the lost lease.
    expect(await stale.heartbeatOnce()).toEqual({ extended: 1, lost: 0, cancelRequested: 0 });
    gate.resolve();
    await stale.whenIdle();
    await stale.stop();

    expect(ranHere).toEqual([running.id]);
    expect(lostEvents).toHaveLength(1);
    expect(stale.stats()).toMatchObject({ completed: 1, leaseLost: 1 });
    const job = await stores.jobs.get(buffered.id);
    expect([job?.status, job?.result, job?.runnerId]).toEqual(['completed', 'rescued', 'rescuer']);
    const rows = await history(buffered.id);
    expect(rows.map((r) => r.kind)).toEqual([
      'created',
      'claimed',
      'reset',
      'claimed',
      'started',
      'completed',
      'lease-lost',
    ]);
    expect(rows[6]).toEqual({
      kind: 'lease-lost',
      attempt: 1,
      data: { runnerId: 'stale-runner' },
    });
    const { rows: leases } = await db().pool.query(
      `SELECT lease_id FROM flowmonkey.job_events WHERE job_id = $1 AND kind = 'lease-lost'`,
      [buffered.id],
    );
    expect(leases).toEqual([{ lease_id: lease }]);
  });
});
