import type { JobStore } from '@flowmonkey/core';
import { createMemoryStores, LeaseLostError, ManualClock, noopLogger } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import { deferred, mustGet, untilAborted } from './helpers.js';

/** A store whose `heartbeatMany` fails while `down.value` is true (the database is unreachable). */
function flakyStore(store: JobStore, down: { value: boolean }, completeGate?: Promise<void>) {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'heartbeatMany') {
        return async (params: Parameters<JobStore['heartbeatMany']>[0]) => {
          if (down.value) throw new Error('connection timed out');
          return target.heartbeatMany(params);
        };
      }
      // Plain-job outcomes are written through completeMany (batched) when the store has it.
      if ((prop === 'complete' || prop === 'completeMany') && completeGate !== undefined) {
        const write = Reflect.get(target, prop, target) as (params: unknown) => Promise<unknown>;
        return async (params: unknown) => {
          await completeGate;
          return write.call(target, params);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

function world(jobStore: JobStore) {
  return new BasicJobRunner({
    jobStore,
    runnerId: 'fenced',
    logger: noopLogger,
    clock: new ManualClock(),
    leaseMs: 10_000,
    heartbeatIntervalMs: 2_000,
  });
}

describe('BasicJobRunner.fenceOnce', () => {
  it('aborts a handler whose lease it could not extend for leaseMs - heartbeatIntervalMs, writing nothing', async () => {
    const stores = createMemoryStores({ clock: new ManualClock() });
    const down = { value: true };
    const runner = world(flakyStore(stores.jobs, down));
    let reason: unknown;
    runner.registerHandler('work', async (_input, ctx) => {
      await untilAborted(ctx.signal).catch((e: unknown) => {
        reason = e;
      });
      return 'stale';
    });
    const job = await stores.jobs.create({ handler: 'work' });
    const before = performance.now();
    await runner.runOnce();
    await expect(runner.heartbeatOnce()).rejects.toThrow('connection timed out');
    expect(runner.fenceOnce(before + 7_999).aborted).toBe(0);
    expect(runner.fenceOnce(performance.now() + 8_000).aborted).toBe(1);
    await runner.whenIdle();
    expect(reason).toBeInstanceOf(LeaseLostError);
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.result]).toEqual(['running', null]);
    expect(runner.stats().leaseLost).toBe(1);
  });

  it('counts from the last heartbeat that got through, not from the claim', async () => {
    const stores = createMemoryStores({ clock: new ManualClock() });
    const down = { value: false };
    const runner = world(flakyStore(stores.jobs, down));
    const gate = deferred<string>();
    runner.registerHandler('work', async () => gate.promise);
    await stores.jobs.create({ handler: 'work' });
    await runner.runOnce();
    const beat = performance.now();
    await runner.heartbeatOnce();
    expect(runner.fenceOnce(beat + 7_999).aborted).toBe(0);
    gate.resolve('done');
    await runner.whenIdle();
    expect(runner.completedCount()).toBe(1);
  });
});

describe('BasicJobRunner.heartbeatOnce', () => {
  it('keeps extending the lease while the outcome waits to be written', async () => {
    const stores = createMemoryStores({ clock: new ManualClock() });
    const gate = deferred();
    const runner = world(flakyStore(stores.jobs, { value: false }, gate.promise));
    runner.registerHandler('work', async () => 'done');
    const job = await stores.jobs.create({ handler: 'work' });
    await runner.runOnce();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await runner.heartbeatOnce()).toEqual({ extended: 1, lost: 0, cancelRequested: 0 });
    gate.resolve();
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, job.id)).status).toBe('completed');
    expect(await runner.heartbeatOnce()).toEqual({ extended: 0, lost: 0, cancelRequested: 0 });
  });
});
