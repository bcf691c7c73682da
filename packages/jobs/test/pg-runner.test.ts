import type { StepHandler } from '@flowmonkey/core';
import {
  defineFlow,
  Engine,
  EventBus,
  JobPriority,
  NonRetryableError,
  noopLogger,
  Result,
} from '@flowmonkey/core';
import { createPgStores, JobListener } from '@flowmonkey/postgres';
import { useTestDatabase } from '@flowmonkey/postgres/testing';
import { describe, expect, it, vi } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import type { BasicJobRunnerOptions } from '../src/runner-options.js';
import { deferred, mustGet, recordEvents, untilAborted } from './helpers.js';

const db = useTestDatabase();

function pgRunner(options: Partial<BasicJobRunnerOptions> = {}) {
  const stores = createPgStores({ pool: db().pool });
  const events = new EventBus();
  const runner = new BasicJobRunner({
    jobStore: stores.jobs,
    logger: noopLogger,
    events,
    random: () => 0.5,
    ...options,
  });
  const drive = async () => {
    await runner.runOnce();
    await runner.whenIdle();
  };
  return { stores, runner, events, drive };
}

/** Makes the job due now (its retry delay has passed), without waiting. */
async function makeDue(jobId: string): Promise<void> {
  await db().pool.query('UPDATE flowmonkey.jobs SET run_at = now() WHERE id = $1', [jobId]);
}

describe('BasicJobRunner on PostgreSQL', () => {
  it('runs higher priorities first, FIFO within a priority', async () => {
    const { stores, runner, drive } = pgRunner({ maxConcurrent: 1 });
    const order: string[] = [];
    runner.registerHandler('prio', async (input) => {
      order.push(input as string);
    });
    const base = Date.now() - 60_000;
    const jobs: [string, number][] = [
      ['low', JobPriority.LOW],
      ['normal-1', JobPriority.NORMAL],
      ['critical', JobPriority.CRITICAL],
      ['normal-2', JobPriority.NORMAL],
      ['high', JobPriority.HIGH],
    ];
    for (const [i, [name, priority]] of jobs.entries()) {
      await stores.jobs.create({ handler: 'prio', input: name, priority, runAt: base + i });
    }
    for (let i = 0; i < jobs.length; i++) await drive();
    expect(order).toEqual(['critical', 'high', 'normal-1', 'normal-2', 'low']);
  });

  it('retries with the policy delay, and exhausting attempts takes the step failure branch', async () => {
    const flaky: StepHandler = {
      type: 'flaky-charge',
      metadata: { stateful: true },
      execute: async () => {
        throw new Error('gateway down');
      },
    };
    const refund: StepHandler = {
      type: 'refund',
      metadata: {},
      execute: async () => Result.success('refunded'),
    };
    const stores = createPgStores({ pool: db().pool });
    const engine = new Engine({
      stores,
      handlers: [flaky, refund],
      flows: [
        defineFlow({
          id: 'flaky-order',
          initialStepId: 'charge',
          steps: {
            charge: {
              type: 'flaky-charge',
              maxAttempts: 2,
              retry: { strategy: 'FIXED', baseDelayMs: 60_000, jitter: false },
              transitions: { onFailure: 'refund' },
            },
            refund: { type: 'refund' },
          },
        }),
      ],
    });
    const { drive } = pgRunner({ jobStore: stores.jobs, engine });
    const execution = await engine.start('flaky-order', {});
    const [job] = await stores.jobs.getByExecution(execution.id);
    const jobId = job?.id ?? '';
    const before = Date.now();
    await drive();
    const retrying = await mustGet(stores.jobs, jobId);
    expect([retrying.status, retrying.attempts, retrying.error?.message]).toEqual([
      'pending',
      1,
      'gateway down',
    ]);
    expect(retrying.runAt).toBeGreaterThanOrEqual(before + 60_000);
    expect(retrying.runAt).toBeLessThan(Date.now() + 60_000 + 1000);
    expect((await engine.get(execution.id))?.status).toBe('waiting');
    await makeDue(jobId);
    await drive();
    expect((await mustGet(stores.jobs, jobId)).status).toBe('failed');
    const done = await engine.get(execution.id);
    expect([done?.status, done?.output]).toEqual(['completed', 'refunded']);
  });

  it('fails at once on NonRetryableError', async () => {
    const { stores, runner, drive } = pgRunner();
    runner.registerHandler('strict', async () => {
      throw new NonRetryableError('invalid address', { code: 'BAD_ADDRESS' });
    });
    const job = await stores.jobs.create({ handler: 'strict', maxAttempts: 5 });
    await drive();
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.attempts, after.error?.code]).toEqual(['failed', 1, 'BAD_ADDRESS']);
  });

  it('times out a handler and records JOB_TIMEOUT', async () => {
    const { stores, runner, drive } = pgRunner({ cancelGraceMs: 50 });
    runner.registerHandler('sleepy', async (_input, ctx) => untilAborted(ctx.signal), {
      timeoutMs: 30,
    });
    const job = await stores.jobs.create({ handler: 'sleepy', maxAttempts: 1 });
    await drive();
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.error?.code]).toEqual(['failed', 'JOB_TIMEOUT']);
  });

  it('cancels a running job through NOTIFY, and a pending one at once', async () => {
    const wakeups = new JobListener({ pool: db().pool });
    await wakeups.start();
    // Poll and heartbeat far beyond the test's timeout: only NOTIFY can deliver the cancel.
    const { stores, runner } = pgRunner({
      wakeups,
      pollIntervalMs: 3_600_000,
      heartbeatIntervalMs: 60_000,
      leaseMs: 180_000,
    });
    const started = deferred();
    runner.registerHandler('cancellable', async (_input, ctx) => {
      started.resolve();
      return untilAborted(ctx.signal);
    });
    try {
      await runner.start();
      const running = await stores.jobs.create({ handler: 'cancellable' });
      await started.promise;
      const pending = await stores.jobs.create({
        handler: 'cancellable',
        runAt: Date.now() + 3_600_000,
      });
      await stores.jobs.cancel({ jobId: pending.id });
      await stores.jobs.cancel({ jobId: running.id });
      await runner.whenIdle();
      expect((await mustGet(stores.jobs, running.id)).status).toBe('cancelled');
      expect((await mustGet(stores.jobs, pending.id)).status).toBe('cancelled');
    } finally {
      await runner.stop();
      await wakeups.stop();
    }
  });

  it('releases unfinished jobs on stop, without spending an attempt', async () => {
    const { stores, runner } = pgRunner();
    runner.registerHandler('long', async (_input, ctx) => untilAborted(ctx.signal));
    const job = await stores.jobs.create({ handler: 'long' });
    // A started runner claims at once (a direct runOnce() next to that claim could find its
    // room reserved by it and claim nothing).
    await runner.start();
    await vi.waitFor(async () =>
      expect((await mustGet(stores.jobs, job.id)).status).toBe('running'),
    );
    await runner.stop({ timeoutMs: 0 });
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.attempts, after.leaseId]).toEqual(['pending', 0, null]);
  });

  it('emits events and calls hooks in order', async () => {
    const { stores, runner, events, drive } = pgRunner();
    const seen = recordEvents(events);
    const calls: string[] = [];
    runner.registerHandler(
      'hooked',
      async (_input, ctx) => {
        calls.push('handler');
        await ctx.progress(100, 'all done');
        return 'ok';
      },
      {
        onStart: () => void calls.push('onStart'),
        onSuccess: () => void calls.push('onSuccess'),
        onEnd: ({ outcome }) => void calls.push(`onEnd:${outcome}`),
      },
    );
    const job = await stores.jobs.create({ handler: 'hooked' });
    await drive();
    expect(calls).toEqual(['onStart', 'handler', 'onSuccess', 'onEnd:completed']);
    expect(seen).toEqual(
      ['job:claimed', 'job:started', 'job:progress', 'job:completed'].map((e) => `${e}:${job.id}`),
    );
  });
});
