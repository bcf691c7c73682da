import { noopLogger, ValidationError } from '@flowmonkey/core';
import { createPgStores } from '@flowmonkey/postgres';
import { useTestDatabase } from '@flowmonkey/postgres/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { defineJob } from '../src/define-job.js';
import { JobFailedError } from '../src/job-failed-error.js';
import { createJobRegistry } from '../src/job-registry.js';

const db = useTestDatabase();

/** A typed report job on PostgreSQL; `rows: -1` makes the handler return a bad output. */
function world() {
  const stores = createPgStores({ pool: db().pool });
  const runner = new BasicJobRunner({
    jobStore: stores.jobs,
    logger: noopLogger,
    random: () => 0.5,
  });
  const Report = defineJob({
    name: 'report',
    input: z.object({ month: z.string().regex(/^\d{4}-\d{2}$/), rows: z.number().int() }),
    output: z.object({ month: z.string(), rows: z.number().int().nonnegative() }),
    maxAttempts: 1,
    handler: async (input, ctx) => {
      await ctx.progress(40, 'querying');
      await ctx.progress(90, 'rendering');
      return { month: input.month, rows: input.rows };
    },
  });
  createJobRegistry({ jobStore: stores.jobs, runner, logger: noopLogger }).register(Report);
  const drive = async () => {
    await runner.runOnce();
    await runner.whenIdle();
  };
  return { stores, Report, drive };
}

async function eventsOf(jobId: string): Promise<{ kind: string; data: unknown }[]> {
  const { rows } = await db().pool.query(
    'SELECT kind, data FROM flowmonkey.job_events WHERE job_id = $1 ORDER BY id',
    [jobId],
  );
  return rows;
}

describe('TypedJob.later on PostgreSQL', () => {
  it('refuses a bad input with the schema issues and inserts no row', async () => {
    const { Report } = world();
    const error = await Report.later({ month: 'May', rows: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('input.month');
    const { rows } = await db().pool.query('SELECT count(*)::int AS n FROM flowmonkey.jobs');
    expect(rows[0].n).toBe(0);
  });

  it('runs on a runner; wait returns the typed result and progress reaches status() and job_events', async () => {
    const { Report, drive } = world();
    const handle = await Report.later({ month: '2026-05', rows: 12 });
    await drive();
    expect(await handle.wait({ timeoutMs: 5000 })).toEqual({ month: '2026-05', rows: 12 });
    const status = await handle.status();
    expect(status).toMatchObject({ status: 'completed', attempts: 1, retrying: false });
    expect(status.progress).toMatchObject({ percent: 90, message: 'rendering' });
    const events = await eventsOf(handle.id);
    expect(events.map((e) => e.kind)).toEqual([
      'created',
      'claimed',
      'started',
      'progress',
      'progress',
      'completed',
    ]);
    expect(events[3]?.data).toEqual({ percent: 40, message: 'querying' });
  });

  it('fails an attempt whose output does not pass the schema with a validation error', async () => {
    const { Report, drive } = world();
    const handle = await Report.later({ month: '2026-05', rows: -1 });
    await drive();
    const error = await handle.wait({ timeoutMs: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error).toMatchObject({ code: 'VALIDATION_ERROR', status: 'failed', attempts: 1 });
    expect((error as JobFailedError).jobError?.details).toMatchObject({ field: 'output.rows' });
    expect((await eventsOf(handle.id)).map((e) => e.kind)).toContain('failed');
  });
});

describe('TypedJob.now on PostgreSQL', () => {
  it('with persist records a completed row and its progress events', async () => {
    const { Report, stores } = world();
    expect(await Report.now({ month: '2026-06', rows: 3 }, { persist: true })).toEqual({
      month: '2026-06',
      rows: 3,
    });
    const completed = await stores.jobs.listByStatus({ status: 'completed', limit: 100 });
    const row = completed.find((j) => (j.result as { month?: string }).month === '2026-06');
    expect(row).toMatchObject({ handler: 'report', result: { month: '2026-06', rows: 3 } });
    expect(row?.runAt).toBeLessThan(Date.now() + 60_000);
    const kinds = (await eventsOf(row?.id ?? '')).map((e) => e.kind);
    expect(kinds).toEqual(['created', 'claimed', 'progress', 'progress', 'completed']);
  });
});

describe('JobHandle.cancel on PostgreSQL', () => {
  it('cancels a pending job; wait then throws a CANCELLED JobFailedError', async () => {
    const { Report } = world();
    const handle = await Report.later({ month: '2026-05', rows: 1 }, { delayMs: 60_000 });
    expect(await handle.cancel('not needed')).toMatchObject({ status: 'cancelled' });
    await expect(handle.wait({ timeoutMs: 0 })).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(await handle.isDone()).toBe(true);
  });

  it('wait times out with a clear error while the job is pending', async () => {
    const { Report } = world();
    const handle = await Report.later({ month: '2026-05', rows: 1 }, { delayMs: 60_000 });
    await expect(handle.wait({ timeoutMs: 0 })).rejects.toThrow(
      /did not finish within 0 ms \(still pending\)/,
    );
  });
});
