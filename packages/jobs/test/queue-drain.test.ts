import { EventEmitter } from 'node:events';
import type { JobStore } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { QueueDrain } from '../src/queue-drain.js';
import { deferred, setup } from './helpers.js';

describe('QueueDrain', () => {
  it('reports a drained queue after a short claim, until the next wake-up', () => {
    const drain = new QueueDrain(true);
    expect([drain.drained, drain.backlog]).toEqual([false, true]);
    drain.claimed(drain.claiming(), 10, 3);
    expect([drain.drained, drain.backlog]).toEqual([true, false]);
    drain.woke();
    expect([drain.drained, drain.backlog]).toEqual([false, false]);
    drain.claimed(drain.claiming(), 10, 10);
    expect([drain.drained, drain.backlog]).toEqual([false, true]);
  });

  it('does not count a short claim that started before a wake-up as seeing it', () => {
    const drain = new QueueDrain(true);
    const token = drain.claiming();
    drain.woke(); // jobs written while the claim was in flight, perhaps after its snapshot
    drain.claimed(token, 10, 0);
    expect(drain.drained).toBe(false);
  });

  it('never reports a drained queue without a source of wake-ups', () => {
    const drain = new QueueDrain(false);
    drain.claimed(drain.claiming(), 10, 0);
    expect([drain.drained, drain.backlog]).toEqual([false, false]);
  });
});

/** The stores' job store, counting `claimBatch` calls. */
function countingClaims(store: JobStore): { store: JobStore; claims: () => number } {
  let claims = 0;
  const counted = new Proxy(store, {
    get(target, prop) {
      if (prop === 'claimBatch') {
        return (params: Parameters<JobStore['claimBatch']>[0]) => {
          claims++;
          return target.claimBatch(params);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: counted, claims: () => claims };
}

describe('BasicJobRunner claims against a drained queue', () => {
  // Poll and heartbeat far beyond the test's timeout: only wake-ups and freed slots claim.
  const quiet = { pollIntervalMs: 3_600_000, heartbeatIntervalMs: 60_000, leaseMs: 180_000 };

  it('with wake-ups, a freed slot does not claim after a short claim; the next wake-up does', async () => {
    const wakeups = new EventEmitter();
    const base = setup();
    const { store, claims } = countingClaims(base.stores.jobs);
    const { runner } = setup({ ...quiet, jobStore: store, wakeups, maxConcurrent: 2 });
    const done: number[] = [];
    const release = deferred();
    runner.registerHandler('h', async (input: number) => {
      await release.promise;
      done.push(input);
      return null;
    });
    await store.create({ handler: 'h', input: 1 });
    await runner.start(); // the first claim goes out at once and comes back short (1 of 2)
    await waitFor(() => claims() === 1);
    release.resolve();
    await runner.whenIdle();
    await settle();
    expect([done, claims()]).toEqual([[1], 1]); // the freed slot claimed nothing
    await store.create({ handler: 'h', input: 2 });
    wakeups.emit('jobs');
    await waitFor(() => done.length === 2);
    expect([done, claims()]).toEqual([[1, 2], 2]); // one claim per wake-up, none beside it
    await runner.stop();
  });

  it('claims again when a slot frees after an attempt that did not complete (a retry)', async () => {
    const wakeups = new EventEmitter();
    const base = setup();
    const { store, claims } = countingClaims(base.stores.jobs);
    const { runner } = setup({ ...quiet, jobStore: store, wakeups, maxConcurrent: 2 });
    let attempts = 0;
    runner.registerHandler(
      'h',
      async () => {
        attempts++;
        if (attempts === 1) throw new Error('once');
        return null;
      },
      { retry: { strategy: 'IMMEDIATE', jitter: false } },
    );
    const job = await store.create({ handler: 'h', maxAttempts: 2 });
    await runner.start();
    await waitFor(() => attempts === 2);
    await runner.whenIdle();
    expect((await store.get(job.id))?.status).toBe('completed');
    expect(claims()).toBeGreaterThanOrEqual(2);
    await runner.stop();
  });

  it('without wake-ups, a freed slot claims as before', async () => {
    const base = setup();
    const { store, claims } = countingClaims(base.stores.jobs);
    const { runner } = setup({ ...quiet, jobStore: store, maxConcurrent: 2 });
    runner.registerHandler('h', async () => null);
    await store.create({ handler: 'h' });
    await runner.start();
    await waitFor(() => claims() >= 1);
    await runner.whenIdle();
    await waitFor(() => claims() >= 2); // the freed slot's claim
    await runner.stop();
  });
});

/** Lets pending callbacks and immediates run (no wait for time to pass). */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Resolves once `condition` holds, checking after each turn of the event loop. */
async function waitFor(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) {
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  expect(condition()).toBe(true);
}
