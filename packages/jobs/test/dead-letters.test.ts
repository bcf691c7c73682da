import type { StepHandler } from '@flowmonkey/core';
import {
  createMemoryStores,
  defineFlow,
  Engine,
  InvalidStateError,
  ManualClock,
  NonRetryableError,
  noopLogger,
  Result,
} from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { DeadLetters } from '../src/dead-letters.js';
import { mustGet } from './helpers.js';

/** An order flow whose stateful `charge` step fails for good until `healthy` is set. */
function world() {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const gateway = { healthy: false, calls: 0 };
  const charge: StepHandler = {
    type: 'charge',
    metadata: { stateful: true },
    async execute() {
      gateway.calls++;
      if (!gateway.healthy) throw new NonRetryableError('card declined', { code: 'DECLINED' });
      return Result.success('charged');
    },
  };
  const refund: StepHandler = {
    type: 'refund',
    metadata: {},
    execute: async () => Result.success('refunded'),
  };
  const flow = defineFlow({
    id: 'order',
    initialStepId: 'charge',
    steps: {
      charge: { type: 'charge', input: 'input', transitions: { onFailure: 'refund' } },
      refund: { type: 'refund', input: 'input' },
    },
  });
  const engine = new Engine({ stores, clock, handlers: [charge, refund], flows: [flow] });
  const runner = new BasicJobRunner({ jobStore: stores.jobs, engine, logger: noopLogger, clock });
  const drive = async () => {
    await runner.runOnce();
    await runner.whenIdle();
  };
  const deadLetters = new DeadLetters({ jobStore: stores.jobs });
  return { clock, stores, engine, drive, gateway, deadLetters };
}

describe('DeadLetters.list', () => {
  it('lists a job failed with a non-retryable error, with its last error and attempts', async () => {
    const { engine, drive, deadLetters } = world();
    const execution = await engine.start('order', { amount: 5 });
    await drive();
    const [dead] = await deadLetters.list({ limit: 10, handler: 'charge' });
    expect(dead).toMatchObject({
      executionId: execution.id,
      status: 'failed',
      attempts: 1,
      error: { code: 'DECLINED', message: 'card declined' },
    });
    expect(await deadLetters.list({ limit: 10, handler: 'refund' })).toEqual([]);
  });
});

describe('DeadLetters.redrive', () => {
  it('runs the job again with fresh attempts; the parent, already on its failure path, is not resumed twice', async () => {
    const { engine, drive, deadLetters, gateway, stores } = world();
    const execution = await engine.start('order', { amount: 5 });
    await drive();
    const failedPath = await engine.get(execution.id);
    expect(failedPath).toMatchObject({ status: 'completed', output: 'refunded' });
    const [dead] = await deadLetters.list({ limit: 1 });
    if (dead === undefined) throw new Error('no dead letter');
    gateway.healthy = true;
    const redriven = await deadLetters.redrive({ jobId: dead.id });
    expect(redriven).toMatchObject({ status: 'pending', attempts: 0, error: { code: 'DECLINED' } });
    await drive();
    expect(gateway.calls).toBe(2);
    expect((await mustGet(stores.jobs, dead.id)).status).toBe('completed');
    const after = await engine.get(execution.id);
    expect(after).toEqual(failedPath);
  });

  it('refuses a job that is not a dead letter', async () => {
    const { stores, deadLetters } = world();
    const job = await stores.jobs.create({ handler: 'charge' });
    await expect(deadLetters.redrive({ jobId: job.id })).rejects.toBeInstanceOf(InvalidStateError);
  });
});

describe('DeadLetters.redriveMany', () => {
  it('redrives the dead letters matching the filter and returns how many', async () => {
    const { engine, drive, deadLetters, clock } = world();
    for (let i = 0; i < 3; i++) {
      await engine.start('order', { amount: i });
      clock.advance(1000);
    }
    await drive();
    expect(await deadLetters.list({ limit: 10 })).toHaveLength(3);
    expect(await deadLetters.redriveMany({ failedBefore: clock.now(), limit: 10 })).toBe(0);
    clock.advance(1);
    expect(
      await deadLetters.redriveMany({ handler: 'charge', failedBefore: clock.now(), limit: 2 }),
    ).toBe(2);
    expect(await deadLetters.list({ limit: 10 })).toHaveLength(1);
    expect(await deadLetters.redriveMany({ handler: 'other', limit: 10 })).toBe(0);
  });
});
