import { randomUUID } from 'node:crypto';
import { type JobStore, noopLogger, type RunnerJobEvent } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import type { JobEngine } from '../src/job-engine.js';
import { JobWriteBatcher } from '../src/job-write-batcher.js';
import { deferred } from './helpers.js';

/** A store whose every write waits for the test to let it through, in order. */
function gatedStore() {
  const gates: ReturnType<typeof deferred<void>>[] = [];
  const writes: string[][] = [];
  const store = {
    async recordEvents({ events }: { events: readonly RunnerJobEvent[] }) {
      writes.push(events.map((e) => e.jobId));
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      return { recorded: events.length, fenced: 0 };
    },
  } as unknown as JobStore;
  return { store, gates, writes };
}

const started = (jobId: string = randomUUID()): RunnerJobEvent => ({
  jobId,
  leaseId: randomUUID(),
  kind: 'started',
  attempt: 1,
});

const settled = async (p: Promise<unknown>) =>
  Promise.race([p.then(() => true), new Promise((r) => setTimeout(() => r(false), 20))]);

describe('JobWriteBatcher.writtenThrough', () => {
  it('wakes each waiter once its own row is written, whatever order they began waiting in', async () => {
    const { store, gates, writes } = gatedStore();
    const batcher = new JobWriteBatcher(store, noopLogger);
    const first = batcher.record(started('a'));
    await new Promise((r) => setImmediate(r)); // the first write is in flight
    const second = batcher.record(started('b'));
    const waitsForSecond = batcher.writtenThrough(second);
    const waitsForFirst = batcher.writtenThrough(first);
    gates[0]?.resolve();
    expect(await settled(waitsForFirst)).toBe(true);
    expect(await settled(waitsForSecond)).toBe(false);
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual([['a'], ['b']]);
    gates[1]?.resolve();
    expect(await settled(waitsForSecond)).toBe(true);
  });

  it('resolves at once for 0 and for rows already written', async () => {
    const { store, gates } = gatedStore();
    const batcher = new JobWriteBatcher(store, noopLogger);
    expect(await settled(batcher.writtenThrough(0))).toBe(true);
    const seq = batcher.record(started());
    await new Promise((r) => setImmediate(r));
    gates[0]?.resolve();
    await batcher.idle();
    expect(await settled(batcher.writtenThrough(seq))).toBe(true);
  });
});

describe('JobWriteBatcher.complete', () => {
  it('fails the completions of a batch that broke unexpectedly, and goes on writing', async () => {
    let calls = 0;
    const store = {
      async completeMany({ items }: { items: { jobId: string }[] }) {
        calls++;
        if (calls === 1) return undefined; // a malformed answer: the batch cannot be read
        return { completed: items.map((i) => i.jobId), lost: [], finishedAt: 42 };
      },
    } as unknown as JobStore;
    const batcher = new JobWriteBatcher(store, noopLogger);
    const broken = batcher.complete({ jobId: randomUUID(), leaseId: randomUUID(), result: 1 });
    await expect(broken).rejects.toThrow();
    const next = batcher.complete({ jobId: randomUUID(), leaseId: randomUUID(), result: 2 });
    await expect(next).resolves.toBe(42);
  });
});

describe('JobWriteBatcher.completeStep', () => {
  it('fails step completions instead of leaving them waiting when even the logger throws', async () => {
    const throwing = {
      ...noopLogger,
      warn: () => {
        throw new Error('logger down');
      },
      error: () => {
        throw new Error('logger down');
      },
    };
    const engine = {
      completeJobs: async () => {
        throw new Error('connection lost'); // untyped: the batch may have committed
      },
    } as unknown as JobEngine;
    const batcher = new JobWriteBatcher({} as JobStore, throwing, engine);
    const step = batcher.completeStep({ jobId: randomUUID(), leaseId: randomUUID(), result: 1 });
    await expect(step).rejects.toThrow();
    await expect(batcher.idle()).resolves.toBeUndefined();
  });
});

describe('JobWriteBatcher.completeStep: a batch whose outcome is unknown', () => {
  it('queues its started and timeout rows again (lease-fenced), not its lease-lost rows', async () => {
    const written: RunnerJobEvent[][] = [];
    const store = {
      async recordEvents({ events }: { events: RunnerJobEvent[] }) {
        written.push(events);
        return { recorded: events.length, fenced: 0 };
      },
    } as unknown as JobStore;
    const engine = {
      completeJobs: async () => {
        throw new Error('connection lost'); // untyped: the batch may have committed
      },
    } as unknown as JobEngine;
    const batcher = new JobWriteBatcher(store, noopLogger, engine);
    const item = { jobId: randomUUID(), leaseId: randomUUID(), result: 1 };
    const begun = { ...started(item.jobId), leaseId: item.leaseId };
    const lost = { ...begun, kind: 'lease-lost' as const };
    await expect(batcher.completeStep(item, undefined, [begun, lost])).rejects.toThrow(
      'connection lost',
    );
    await batcher.idle();
    expect(written).toEqual([[begun]]);
  });
});

describe('JobWriteBatcher.complete: a batch whose outcome is unknown', () => {
  it('queues again the started rows of the jobs it completes, not those of jobs still running', async () => {
    const written: RunnerJobEvent[][] = [];
    let calls = 0;
    const store = {
      async completeMany() {
        calls++;
        throw new Error('connection lost'); // untyped: the batch may have committed
      },
      async recordEvents({ events }: { events: RunnerJobEvent[] }) {
        written.push(events);
        return { recorded: events.length, fenced: 0 };
      },
    } as unknown as JobStore;
    const batcher = new JobWriteBatcher(store, noopLogger);
    const running = started();
    const item = { jobId: randomUUID(), leaseId: randomUUID(), result: 1 };
    const begun = { ...started(item.jobId), leaseId: item.leaseId };
    batcher.record(running);
    await expect(batcher.complete(item, [begun])).rejects.toThrow('connection lost');
    await batcher.idle();
    expect(calls).toBe(1);
    expect(written).toEqual([[begun]]);
  });
});

describe('JobWriteBatcher.defer', () => {
  const turn = () => new Promise((r) => setImmediate(r));

  it('queues a held event at the end of the turn, as record would', async () => {
    const { store, gates, writes } = gatedStore();
    const batcher = new JobWriteBatcher(store, noopLogger);
    batcher.defer(started('a'));
    await Promise.resolve();
    expect(writes).toEqual([]);
    await turn();
    expect(writes).toEqual([['a']]);
    gates[0]?.resolve();
    await batcher.idle();
  });

  it('hands a taken event to the caller and never writes it itself', async () => {
    const { store, writes } = gatedStore();
    const batcher = new JobWriteBatcher(store, noopLogger);
    const event = started('a');
    const held = batcher.defer(event);
    expect(held && batcher.take(held)).toBe(event);
    await turn();
    await batcher.idle();
    expect(writes).toEqual([]);
  });

  it('release queues it at once; take after that finds nothing held', async () => {
    const { store, gates, writes } = gatedStore();
    const batcher = new JobWriteBatcher(store, noopLogger);
    const held = batcher.defer(started('a'));
    if (held === undefined) throw new Error('the store keeps history');
    const seq = batcher.release(held);
    expect(batcher.take(held)).toBeUndefined();
    await Promise.resolve();
    expect(writes).toEqual([['a']]);
    expect(await settled(batcher.writtenThrough(seq))).toBe(false);
    gates[0]?.resolve();
    expect(await settled(batcher.writtenThrough(seq))).toBe(true);
  });

  it('idle() writes what is still held', async () => {
    const { store, gates, writes } = gatedStore();
    const batcher = new JobWriteBatcher(store, noopLogger);
    batcher.defer(started('a'));
    const idle = batcher.idle();
    await Promise.resolve();
    expect(writes).toEqual([['a']]);
    gates[0]?.resolve();
    await idle;
  });

  it('holds nothing for a store that keeps no history', () => {
    const batcher = new JobWriteBatcher({} as JobStore, noopLogger);
    expect(batcher.defer(started())).toBeUndefined();
  });
});
