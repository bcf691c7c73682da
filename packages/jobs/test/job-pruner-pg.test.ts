import { noopLogger } from '@flowmonkey/core';
import { createPgStores } from '@flowmonkey/postgres';
import { insertExecution, insertJob, useTestDatabase } from '@flowmonkey/postgres/testing';
import { describe, expect, it } from 'vitest';
import { DeadLetters } from '../src/dead-letters.js';
import { JobPruner } from '../src/job-pruner.js';

const db = useTestDatabase();
const HOUR = 3_600_000;

async function count(table: 'jobs' | 'job_events', jobId: string): Promise<number> {
  const column = table === 'jobs' ? 'id' : 'job_id';
  const { rows } = await db().pool.query(
    `SELECT count(*)::int AS n FROM flowmonkey.${table} WHERE ${column} = $1`,
    [jobId],
  );
  return rows[0].n;
}

async function addEvent(jobId: string): Promise<void> {
  await db().pool.query(
    `INSERT INTO flowmonkey.job_events (job_id, kind, attempt) VALUES ($1, 'completed', 1)`,
    [jobId],
  );
}

describe('JobPruner.runOnce on PostgreSQL', () => {
  it('deletes only the finished jobs (and their events) past their age, in database time', async () => {
    const pool = db().pool;
    const jobStore = createPgStores({ pool }).jobs;
    const now = Date.now();
    const old = await insertJob(pool, { status: 'completed', finishedAt: now - 3 * HOUR });
    const young = await insertJob(pool, { status: 'completed', finishedAt: now - HOUR });
    const oldFailed = await insertJob(pool, { status: 'failed', finishedAt: now - 3 * HOUR });
    const running = await insertJob(pool, { status: 'running' });
    for (const job of [old, young, oldFailed]) await addEvent(job.id);
    const pruner = new JobPruner({
      jobStore,
      completedMaxAgeMs: 2 * HOUR,
      failedMaxAgeMs: 24 * HOUR,
      batchSize: 1,
      logger: noopLogger,
    });
    expect(await pruner.runOnce()).toEqual({ completed: 1, failed: 0, cancelled: 0, events: 1 });
    expect(await count('jobs', old.id)).toBe(0);
    expect(await count('job_events', old.id)).toBe(0);
    expect(await count('jobs', young.id)).toBe(1);
    expect(await count('job_events', young.id)).toBe(1);
    expect(await count('jobs', oldFailed.id)).toBe(1);
    expect(await count('jobs', running.id)).toBe(1);
  });

  it('keeps an old finished job whose execution is still waiting', async () => {
    const pool = db().pool;
    const jobStore = createPgStores({ pool }).jobs;
    const waiting = await insertExecution(pool, { status: 'waiting' });
    const done = await insertExecution(pool, { status: 'completed' });
    const finishedAt = Date.now() - 48 * HOUR;
    const kept = await insertJob(pool, {
      status: 'failed',
      executionId: waiting.id,
      stepId: 's',
      finishedAt,
    });
    const gone = await insertJob(pool, {
      status: 'failed',
      executionId: done.id,
      stepId: 's',
      finishedAt,
    });
    // Older than any failed job of the other tests in this file's database.
    const pruner = new JobPruner({ jobStore, failedMaxAgeMs: 40 * HOUR, logger: noopLogger });
    expect((await pruner.runOnce()).failed).toBe(1);
    expect(await count('jobs', kept.id)).toBe(1);
    expect(await count('jobs', gone.id)).toBe(0);
  });
});

describe('DeadLetters.redrive on PostgreSQL', () => {
  it('records a redriven event with the attempts spent and the last error', async () => {
    const pool = db().pool;
    const jobStore = createPgStores({ pool }).jobs;
    const error = { code: 'BOOM', message: 'broke', attempt: 3, at: Date.now() };
    const dead = await insertJob(pool, {
      handler: 'redrive-me',
      status: 'failed',
      attempts: 3,
      maxAttempts: 3,
      error,
      finishedAt: Date.now(),
    });
    const deadLetters = new DeadLetters({ jobStore });
    expect((await deadLetters.list({ limit: 10, handler: 'redrive-me' })).map((j) => j.id)).toEqual(
      [dead.id],
    );
    const redriven = await deadLetters.redrive({ jobId: dead.id });
    expect(redriven).toMatchObject({ status: 'pending', attempts: 0, error: { code: 'BOOM' } });
    const { rows } = await pool.query(
      `SELECT kind, attempt, data FROM flowmonkey.job_events WHERE job_id = $1`,
      [dead.id],
    );
    expect(rows).toEqual([{ kind: 'redriven', attempt: 0, data: { attempts: 3, error } }]);
    const [claimed] = await jobStore.claimBatch({
      runnerId: 'r',
      limit: 1,
      handlers: ['redrive-me'],
    });
    expect(claimed).toMatchObject({ id: dead.id, attempts: 1 });
  });
});
