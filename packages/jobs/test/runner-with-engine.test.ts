import type { StepHandler } from '@flowmonkey/core';
import {
  createMemoryStores,
  defineFlow,
  Engine,
  ManualClock,
  NonRetryableError,
  noopLogger,
  Result,
} from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { JobReaper } from '../src/job-reaper.js';
import { mustGet } from './helpers.js';

function charge(behaviour: (attempt: number) => Promise<unknown>): StepHandler {
  return {
    type: 'charge',
    metadata: { stateful: true, retry: { strategy: 'FIXED', baseDelayMs: 100, jitter: false } },
    async execute({ input, job }) {
      const value = await behaviour(job?.attempt ?? 0);
      return Result.success({ charged: (input as { amount: number }).amount, value });
    },
  };
}

const inline = (type: string, fn: (input: unknown) => unknown): StepHandler => ({
  type,
  metadata: {},
  execute: async ({ input }) => Result.success(fn(input)),
});

function world(chargeHandler: StepHandler) {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const flow = defineFlow({
    id: 'order',
    initialStepId: 'charge',
    steps: {
      charge: {
        type: 'charge',
        input: 'input',
        maxAttempts: 2,
        transitions: { onSuccess: 'receipt', onFailure: 'refund' },
      },
      receipt: { type: 'receipt', input: 'charge' },
      refund: { type: 'refund', input: 'input' },
    },
  });
  const engine = new Engine({
    stores,
    clock,
    handlers: [
      chargeHandler,
      inline('receipt', (i) => ({ receiptFor: i })),
      inline('refund', () => 'refunded'),
    ],
    flows: [flow],
  });
  const runner = new BasicJobRunner({
    jobStore: stores.jobs,
    engine,
    logger: noopLogger,
    clock,
    random: () => 0.5,
  });
  const drive = async () => {
    await runner.runOnce();
    await runner.whenIdle();
  };
  return { clock, stores, engine, runner, drive };
}

describe('BasicJobRunner with an engine', () => {
  it('runs a stateful step from the engine registry and resumes the execution to the end', async () => {
    const { engine, drive, runner } = world(charge(async () => 'ok'));
    expect(runner.handlerTypes()).toContain('charge');
    const started = await engine.start('order', { amount: 5 });
    expect(started.status).toBe('waiting');
    await drive();
    const done = await engine.get(started.id);
    expect(done?.status).toBe('completed');
    expect(done?.output).toEqual({ receiptFor: { charged: 5, value: 'ok' } });
  });

  it('takes the failure branch once attempts are exhausted', async () => {
    const { engine, drive, clock, stores } = world(
      charge(async () => {
        throw new Error('gateway down');
      }),
    );
    const started = await engine.start('order', { amount: 5 });
    await drive();
    expect((await engine.get(started.id))?.status).toBe('waiting');
    const [job] = await stores.jobs.getByExecution(started.id);
    expect(job?.runAt).toBe(clock.now() + 100);
    clock.advance(100);
    await drive();
    const done = await engine.get(started.id);
    expect(done?.status).toBe('completed');
    expect(done?.output).toBe('refunded');
    expect((await mustGet(stores.jobs, job?.id ?? '')).status).toBe('failed');
  });

  it('takes the failure branch at once on NonRetryableError', async () => {
    const { engine, drive, stores } = world(
      charge(async () => {
        throw new NonRetryableError('card declined');
      }),
    );
    const started = await engine.start('order', { amount: 5 });
    await drive();
    expect((await engine.get(started.id))?.output).toBe('refunded');
    const [job] = await stores.jobs.getByExecution(started.id);
    expect(job?.attempts).toBe(1);
  });

  it('fails the job and takes the failure branch when the step returns a result that is not JSON', async () => {
    const { engine, drive, stores } = world(charge(async () => 10n));
    const started = await engine.start('order', { amount: 5 });
    await drive();
    const [job] = await stores.jobs.getByExecution(started.id);
    expect([job?.status, job?.attempts, job?.error?.code]).toEqual([
      'failed',
      1,
      'VALIDATION_ERROR',
    ]);
    expect((await engine.get(started.id))?.output).toBe('refunded');
  });

  it('fails the step with a cancellation error when its running job is cancelled', async () => {
    let release: () => void = () => {};
    const { engine, stores, runner } = world(
      charge(
        () =>
          new Promise((_, reject) => {
            release = () => reject(new Error('aborted'));
          }),
      ),
    );
    const started = await engine.start('order', { amount: 5 });
    await runner.runOnce();
    const [job] = await stores.jobs.getByExecution(started.id);
    await stores.jobs.cancel({ jobId: job?.id ?? '' });
    await runner.heartbeatOnce();
    release();
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, job?.id ?? '')).status).toBe('cancelled');
    expect((await engine.get(started.id))?.output).toBe('refunded');
  });

  it('after a reaper resets a dead runner’s job, another runner completes it and the execution moves once', async () => {
    const { engine, stores, clock } = world(charge(async () => 'ok'));
    const started = await engine.start('order', { amount: 7 });
    await stores.jobs.claimBatch({ runnerId: 'dead', limit: 1 });
    clock.advance(61_000);
    const reaper = new JobReaper({ jobStore: stores.jobs, engine, logger: noopLogger });
    expect(await reaper.runOnce()).toMatchObject({ reset: 1 });
    const survivor = new BasicJobRunner({ jobStore: stores.jobs, engine, logger: noopLogger });
    await survivor.runOnce();
    await survivor.whenIdle();
    const done = await engine.get(started.id);
    expect(done?.status).toBe('completed');
    expect(done?.history.filter((h) => h.stepId === 'receipt')).toHaveLength(1);
  });
});
