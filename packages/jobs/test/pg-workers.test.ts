import { noopLogger } from '@flowmonkey/core';
import { createPgStores } from '@flowmonkey/postgres';
import { useTestDatabase } from '@flowmonkey/postgres/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { JobReaper } from '../src/job-reaper.js';
import { type ChargeMode, orderEngine } from './fixtures/order-flow.js';
import { WorkerProcess } from './fixtures/worker-process.js';

const db = useTestDatabase();
const workers: WorkerProcess[] = [];

function worker(
  mode: ChargeMode,
  workerId: string,
  env: Record<string, string> = { HEARTBEAT_INTERVAL_SECONDS: '0.1', LEASE_DURATION_SECONDS: '30' },
): WorkerProcess {
  const w = new WorkerProcess({ databaseUrl: db().connectionString, workerId, mode, env });
  workers.push(w);
  return w;
}

afterEach(async () => {
  for (const w of workers.splice(0)) {
    if (w.child.exitCode === null && w.child.signalCode === null) {
      w.kill('SIGCONT');
      w.kill('SIGKILL');
      await w.exited;
    }
  }
});

function world() {
  const stores = createPgStores({ pool: db().pool });
  const engine = orderEngine(stores, 'complete');
  return { stores, engine };
}

/** Makes the job's heartbeat look ten minutes old (the lease ran out), without waiting. */
async function ageHeartbeat(jobId: string): Promise<void> {
  await db().pool.query(
    `UPDATE flowmonkey.jobs SET heartbeat_at = now() - interval '10 minutes' WHERE id = $1`,
    [jobId],
  );
}

async function stepVisits(engine: ReturnType<typeof orderEngine>, executionId: string) {
  const execution = await engine.get(executionId);
  return execution?.history.map((h) => h.stepId) ?? [];
}

describe('BasicJobRunner across processes (PostgreSQL)', () => {
  it('runs a stateful step in a separate worker process and resumes the execution to the end', async () => {
    const { engine, stores } = world();
    const w = worker('complete', 'worker-1');
    await w.next('ready');
    const execution = await engine.start('order', { amount: 12 });
    expect(execution.status).toBe('waiting');
    const [job] = await stores.jobs.getByExecution(execution.id);
    await w.next('job:completed', { jobId: job?.id });
    const done = await engine.get(execution.id);
    expect(done?.status).toBe('completed');
    expect(done?.output).toEqual({ receiptFor: { by: w.child.pid, amount: 12 } });
    w.kill('SIGTERM');
    await w.next('stopped');
    expect(await w.exited).toBe(0);
  });

  it('after SIGKILL mid-job, the reaper resets the job and another runner completes it once', async () => {
    const { engine, stores } = world();
    const victim = worker('hang', 'victim');
    await victim.next('ready');
    const execution = await engine.start('order', { amount: 3 });
    const [job] = await stores.jobs.getByExecution(execution.id);
    const jobId = job?.id ?? '';
    await victim.next('started', { jobId });
    victim.kill('SIGKILL');
    await victim.exited;
    await ageHeartbeat(jobId);
    const reaper = new JobReaper({ jobStore: stores.jobs, engine, logger: noopLogger });
    expect(await reaper.runOnce()).toEqual({
      reset: 1,
      failed: 0,
      cancelled: 0,
      lost: 0,
      errors: 0,
      skipped: 0,
    });
    const survivor = new BasicJobRunner({ jobStore: stores.jobs, engine, logger: noopLogger });
    expect(await survivor.runOnce()).toEqual({ claimed: 1 });
    await survivor.whenIdle();
    const after = await stores.jobs.get(jobId);
    expect([after?.status, after?.attempts, after?.error?.code]).toEqual([
      'completed',
      2,
      'JOB_STALLED',
    ]);
    expect((await engine.get(execution.id))?.status).toBe('completed');
    expect(await stepVisits(engine, execution.id)).toEqual(['charge', 'receipt']);
    expect(await reaper.runOnce()).toEqual({
      reset: 0,
      failed: 0,
      cancelled: 0,
      lost: 0,
      errors: 0,
      skipped: 0,
    });
  });

  it('refuses every write of a worker paused past its lease, aborts its handler, and moves the execution once', async () => {
    const { engine, stores } = world();
    const paused = worker('stubborn', 'paused');
    await paused.next('ready');
    const execution = await engine.start('order', { amount: 8 });
    const [job] = await stores.jobs.getByExecution(execution.id);
    const jobId = job?.id ?? '';
    await paused.next('started', { jobId });
    paused.kill('SIGSTOP');
    await ageHeartbeat(jobId);
    const reaper = new JobReaper({ jobStore: stores.jobs, engine, logger: noopLogger });
    expect(await reaper.runOnce()).toMatchObject({ reset: 1 });
    const other = new BasicJobRunner({ jobStore: stores.jobs, engine, logger: noopLogger });
    await other.runOnce();
    await other.whenIdle();
    const completed = await stores.jobs.get(jobId);
    expect(completed?.status).toBe('completed');
    paused.kill('SIGCONT');
    await paused.next('job:lease-lost', { jobId });
    const aborted = await paused.next('aborted', { jobId });
    expect(aborted.code).toBe('LEASE_LOST');
    const after = await stores.jobs.get(jobId);
    expect(after).toEqual(completed);
    expect(after?.result).toMatchObject({ by: process.pid, amount: 8 });
    expect(await stepVisits(engine, execution.id)).toEqual(['charge', 'receipt']);
    expect(paused.events.some((e) => e.event === 'job:completed')).toBe(false);
  });

  it('refuses the stale COMPLETE of a worker that finishes right after SIGCONT, before any heartbeat could notice', async () => {
    const { engine, stores } = world();
    // No heartbeat within the test (first one after 60 s): only the COMPLETE meets the fence.
    const paused = worker('late', 'late', {
      HEARTBEAT_INTERVAL_SECONDS: '60',
      LEASE_DURATION_SECONDS: '180',
    });
    await paused.next('ready');
    const execution = await engine.start('order', { amount: 5 });
    const [job] = await stores.jobs.getByExecution(execution.id);
    const jobId = job?.id ?? '';
    await paused.next('started', { jobId });
    paused.kill('SIGSTOP');
    await ageHeartbeat(jobId);
    const reaper = new JobReaper({ jobStore: stores.jobs, engine, logger: noopLogger });
    expect(await reaper.runOnce()).toMatchObject({ reset: 1 });
    const other = new BasicJobRunner({ jobStore: stores.jobs, engine, logger: noopLogger });
    await other.runOnce();
    await other.whenIdle();
    const completed = await stores.jobs.get(jobId);
    expect([completed?.status, completed?.attempts]).toEqual(['completed', 2]);
    paused.kill('SIGCONT');
    paused.send('release');
    const refused = await paused.next('complete-refused', { jobId });
    expect(refused.code).toBe('LEASE_LOST');
    expect((await paused.next('returning', { jobId })).aborted).toBe(false);
    await paused.next('job:lease-lost', { jobId });
    expect(paused.events.some((e) => e.event === 'job:completed')).toBe(false);
    const after = await stores.jobs.get(jobId);
    expect(after).toEqual(completed);
    expect(after?.result).toMatchObject({ by: process.pid, amount: 5 });
    expect(await stepVisits(engine, execution.id)).toEqual(['charge', 'receipt']);
    expect((await engine.get(execution.id))?.status).toBe('completed');
  });
});
