import { hasErrorCode, noopLogger, ValidationError } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob, type TypedJobHandler } from '../src/define-job.js';
import { JobFailedError } from '../src/job-failed-error.js';
import { createJobRegistry } from '../src/job-registry.js';
import { mustGet, setup } from './helpers.js';

const Input = z.object({ to: z.email(), times: z.number().int().min(1).default(1) });
const Output = z.object({ sent: z.number() });

function sendEmail(
  handler: TypedJobHandler<typeof Input, typeof Output> = async (input) => ({ sent: input.times }),
) {
  return defineJob({
    name: 'send-email',
    input: Input,
    output: Output,
    retry: { strategy: 'IMMEDIATE' },
    maxAttempts: 2,
    handler,
  });
}

/** Memory stores, a runner, and a registry attached to it with the job registered. */
function withJob(job = sendEmail()) {
  const env = setup();
  const registry = createJobRegistry({
    jobStore: env.stores.jobs,
    runner: env.runner,
    logger: noopLogger,
    clock: env.clock,
  }).register(job);
  const runAll = async () => {
    await env.runner.runOnce();
    await env.runner.whenIdle();
  };
  return { ...env, registry, job, runAll };
}

describe('defineJob', () => {
  it('refuses a definition without a Standard Schema, naming the field', () => {
    const bad = {
      name: 'x',
      input: { parse: () => 1 },
      output: Output,
      handler: async () => ({ sent: 1 }),
    };
    expect(() => defineJob(bad as never)).toThrow(/input: must be a Standard Schema/);
    expect(() => defineJob({ ...bad, input: Input, maxAttempts: 0 } as never)).toThrow(
      /maxAttempts/,
    );
  });
});

describe('TypedJob.later', () => {
  it('refuses a bad input with the schema issues and stores nothing', async () => {
    const { stores, job } = withJob();
    const error = await job.later({ to: 'not-an-email' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('input.to');
    expect((error as ValidationError).details.issues).toEqual([
      { message: expect.stringMatching(/email/i), path: ['to'] },
    ]);
    expect(await stores.jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
  });

  it('enqueues a job a runner completes; wait returns the typed result', async () => {
    const { job, runAll, stores } = withJob();
    const handle = await job.later({ to: 'a@example.com', times: 3 }, { correlationId: 'order-7' });
    const stored = await mustGet(stores.jobs, handle.id);
    expect(stored).toMatchObject({
      handler: 'send-email',
      maxAttempts: 2,
      correlationId: 'order-7',
    });
    expect(await handle.isDone()).toBe(false);
    await runAll();
    const result = await handle.wait({ timeoutMs: 1000 });
    expect(result).toEqual({ sent: 3 });
    expect(await handle.isDone()).toBe(true);
  });

  it('delays by delayMs on the registry clock and honours the idempotency key', async () => {
    const { job, clock, stores } = withJob();
    const first = await job.later({ to: 'a@example.com' }, { delayMs: 5000, idempotencyKey: 'k1' });
    const second = await job.later({ to: 'a@example.com' }, { idempotencyKey: 'k1' });
    expect(second.id).toBe(first.id);
    expect((await mustGet(stores.jobs, first.id)).runAt).toBe(clock.now() + 5000);
    await expect(job.later({ to: 'a@example.com' }, { delayMs: -1 })).rejects.toThrow(/delayMs/);
  });

  it('fails an attempt whose output does not pass the schema, retried by policy', async () => {
    const job = sendEmail(async () => ({ sent: 'many' }) as unknown as { sent: number });
    const { runAll } = withJob(job);
    const handle = await job.later({ to: 'a@example.com' });
    await runAll();
    const afterFirst = await handle.status();
    expect(afterFirst).toMatchObject({ status: 'pending', attempts: 1, retrying: true });
    expect(afterFirst.error).toMatchObject({
      code: 'VALIDATION_ERROR',
      details: { field: 'output.sent' },
    });
    await runAll();
    const error = await handle.wait({ timeoutMs: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobFailedError);
    expect(hasErrorCode(error, 'VALIDATION_ERROR')).toBe(true);
    expect((error as JobFailedError).attempts).toBe(2);
  });

  it('fails without retry a stored input that no longer passes the schema when claimed', async () => {
    const { runAll, stores, job } = withJob();
    const row = await stores.jobs.create({
      handler: 'send-email',
      input: { to: 42 },
      maxAttempts: 3,
    });
    await runAll();
    const failed = await job.handle(row.id).status();
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: { code: 'VALIDATION_ERROR' },
    });
  });

  it('needs a registry with a store', async () => {
    const loose = sendEmail();
    await expect(loose.later({ to: 'a@example.com' })).rejects.toThrow(/jobStore/);
  });
});

describe('TypedJob.now', () => {
  it('runs in-process and returns the parsed result (defaults applied to the input)', async () => {
    const seen: unknown[] = [];
    const job = sendEmail(async (input, ctx) => {
      seen.push([input, ctx.job]);
      return { sent: input.times };
    });
    expect(await job.now({ to: 'a@example.com' })).toEqual({ sent: 1 });
    expect(seen).toEqual([[{ to: 'a@example.com', times: 1 }, null]]);
  });

  it('rejects a bad input with a ValidationError before calling the handler', async () => {
    let called = false;
    const job = sendEmail(async () => {
      called = true;
      return { sent: 1 };
    });
    await expect(job.now({ to: 'nope' })).rejects.toBeInstanceOf(ValidationError);
    expect(called).toBe(false);
  });

  it('with persist records a completed row with the progress the handler reported', async () => {
    const job = sendEmail(async (input, ctx) => {
      await ctx.progress(50, 'half way');
      return { sent: input.times };
    });
    const { stores } = withJob(job);
    expect(await job.now({ to: 'a@example.com', times: 2 }, { persist: true })).toEqual({
      sent: 2,
    });
    const [row] = await stores.jobs.listByStatus({ status: 'completed', limit: 10 });
    expect(row).toMatchObject({
      handler: 'send-email',
      result: { sent: 2 },
      attempts: 1,
      progress: { percent: 50, message: 'half way' },
    });
  });

  it('with persist records a failed row and rethrows the handler error', async () => {
    const job = sendEmail(async () => {
      throw new Error('smtp down');
    });
    const { stores } = withJob(job);
    await expect(job.now({ to: 'a@example.com' }, { persist: true })).rejects.toThrow('smtp down');
    const [row] = await stores.jobs.listDeadLetters({ limit: 10 });
    expect(row).toMatchObject({ status: 'failed', error: { message: 'smtp down' } });
  });
});

describe('TypedJob.batch', () => {
  it('returns one result per input, in input order', async () => {
    const job = sendEmail(async (input) => {
      if (input.times === 2) throw new Error('second fails');
      await new Promise((resolve) => setImmediate(resolve, input.times));
      return { sent: input.times };
    });
    const results = await job.batch(
      [1, 2, 3, 4].map((times) => ({ to: 'a@example.com', times })),
      { concurrency: 2 },
    );
    expect(results.map((r) => (r.ok ? r.value.sent : 'error'))).toEqual([1, 'error', 3, 4]);
  });

  it('with stopOnError skips the items not started after a failure', async () => {
    const ran: number[] = [];
    const job = sendEmail(async (input) => {
      ran.push(input.times);
      if (input.times === 1) throw new Error('first fails');
      return { sent: input.times };
    });
    const results = await job.batch(
      [1, 2, 3].map((times) => ({ to: 'a@example.com', times })),
      { concurrency: 1, stopOnError: true },
    );
    expect(ran).toEqual([1]);
    expect(results.map((r) => (r.ok ? 'ok' : r.skipped === true ? 'skipped' : 'failed'))).toEqual([
      'failed',
      'skipped',
      'skipped',
    ]);
  });
});

describe('TypedJob.executeFromDatabase', () => {
  it('claims a pending row by id, runs it here and records the result', async () => {
    const { job, stores } = withJob();
    const handle = await job.later({ to: 'a@example.com', times: 4 }, { delayMs: 60_000 });
    expect(await job.executeFromDatabase(handle.id)).toEqual({ sent: 4 });
    expect((await mustGet(stores.jobs, handle.id)).status).toBe('completed');
    await expect(job.executeFromDatabase(handle.id)).rejects.toThrow(/not found/);
  });
});
