import type { StepHandler } from '@flowmonkey/core';
import {
  createMemoryStores,
  defineFlow,
  Engine,
  ManualClock,
  noopLogger,
  Result,
} from '@flowmonkey/core';
import { describe, expect, it, vi } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { deferred } from './helpers.js';

function world(
  chargeFn: (amount: number) => Promise<unknown> = async (a) => a * 2,
  receiptFn: (input: unknown) => Promise<unknown> = async (input) => input,
) {
  const clock = new ManualClock();
  const stores = createMemoryStores({ clock });
  const charge: StepHandler = {
    type: 'charge',
    metadata: { stateful: true },
    execute: async ({ input }) =>
      Result.success({ charged: await chargeFn((input as { amount: number }).amount) }),
  };
  const receipt: StepHandler = {
    type: 'receipt',
    metadata: {},
    execute: async ({ input }) => Result.success({ receiptFor: await receiptFn(input) }),
  };
  const flow = defineFlow({
    id: 'order',
    initialStepId: 'charge',
    steps: {
      charge: { type: 'charge', input: 'input', transitions: { onSuccess: 'receipt' } },
      receipt: { type: 'receipt', input: 'charge' },
    },
  });
  const engine = new Engine({ stores, clock, handlers: [charge, receipt], flows: [flow] });
  const runner = new BasicJobRunner({
    jobStore: stores.jobs,
    engine,
    logger: noopLogger,
    clock,
    random: () => 0.5,
    maxConcurrent: 10,
    batchSize: 10,
  });
  return { stores, engine, runner };
}

describe('BasicJobRunner with an engine that settles in batches', () => {
  it('describes a claimed batch with one read and settles handlers that finish together in one completeJobs', async () => {
    const gate = deferred();
    const { engine, runner } = world(async (amount) => gate.promise.then(() => amount * 2));
    const describeJobs = vi.spyOn(engine, 'describeJobs');
    const describeJob = vi.spyOn(engine, 'describeJob');
    const completeJobs = vi.spyOn(engine, 'completeJobs');
    const completeJob = vi.spyOn(engine, 'completeJob');
    const ids: string[] = [];
    for (let i = 1; i <= 5; i++) ids.push((await engine.start('order', { amount: i })).id);
    await runner.runOnce();
    gate.resolve();
    await runner.whenIdle();
    expect(describeJobs).toHaveBeenCalledTimes(1);
    expect(describeJob).not.toHaveBeenCalled();
    expect(completeJobs).toHaveBeenCalledTimes(1);
    expect(completeJobs.mock.calls[0]?.[0]).toHaveLength(5);
    // The parents as described with the claim: the settlement need not read them again.
    expect(completeJobs.mock.calls[0]?.[1]?.executions?.map((e) => e.id).sort()).toEqual(
      [...ids].sort(),
    );
    expect(completeJob).not.toHaveBeenCalled();
    const done = await Promise.all(ids.map((id) => engine.get(id)));
    expect(done.map((e) => [e?.status, e?.output])).toEqual(
      [1, 2, 3, 4, 5].map((n) => ['completed', { receiptFor: { charged: n * 2 } }]),
    );
    expect(runner.completedCount()).toBe(5);
  });

  it('drops the result of a job in the batch whose lease was lost, and completes the others', async () => {
    const gate = deferred();
    const { engine, runner, stores } = world(async (amount) => gate.promise.then(() => amount));
    const lost: string[] = [];
    runner.events.on('job:lease-lost', ({ job }) => void lost.push(job.id));
    const first = await engine.start('order', { amount: 1 });
    const second = await engine.start('order', { amount: 2 });
    await runner.runOnce();
    const [taken] = await stores.jobs.getByExecution(second.id);
    await stores.jobs.resetStalled({ jobId: taken?.id ?? '', leaseId: taken?.leaseId ?? '' });
    gate.resolve();
    await runner.whenIdle();
    expect((await engine.get(first.id))?.status).toBe('completed');
    expect((await engine.get(second.id))?.status).toBe('waiting');
    expect(lost).toEqual([taken?.id]);
    expect(runner.stats()).toMatchObject({ completed: 1, leaseLost: 1 });
  });

  it('does not hold plain jobs back while a batch of step jobs runs its slow inline steps', async () => {
    const slowReceipt = deferred();
    const { engine, runner, stores } = world(
      async (amount) => amount,
      async (input) => slowReceipt.promise.then(() => input),
    );
    runner.registerHandler('plain', async () => 'done');
    const order = await engine.start('order', { amount: 3 });
    await runner.runOnce(); // the step job runs; its settlement waits in the slow receipt step
    await vi.waitFor(async () => {
      expect((await engine.get(order.id))?.currentStepId).toBe('receipt');
    });
    const plain = await stores.jobs.create({ handler: 'plain' });
    await runner.runOnce();
    await vi.waitFor(async () => {
      expect((await stores.jobs.get(plain.id))?.status).toBe('completed');
    });
    expect((await engine.get(order.id))?.status).toBe('running');
    slowReceipt.resolve();
    await runner.whenIdle();
    expect((await engine.get(order.id))?.status).toBe('completed');
  });
});
