import { EventEmitter } from 'node:events';
import { CancelledError, LeaseLostError } from '@flowmonkey/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { deferred, mustGet, recordEvents, setup, untilAborted } from './helpers.js';

describe('BasicJobRunner timeouts', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('aborts at timeoutMs and records the attempt as JOB_TIMEOUT, retried by policy', async () => {
    const { stores, runner, events } = setup({ cancelGraceMs: 1000 });
    const seen = recordEvents(events);
    runner.registerHandler('slow', async (_input, ctx) => untilAborted(ctx.signal));
    const job = await stores.jobs.create({
      handler: 'slow',
      timeoutMs: 100,
      maxAttempts: 2,
      retry: { strategy: 'FIXED', baseDelayMs: 10, jitter: false },
    });
    await runner.runOnce();
    await vi.advanceTimersByTimeAsync(99);
    expect((await mustGet(stores.jobs, job.id)).status).toBe('running');
    await vi.advanceTimersByTimeAsync(1);
    await runner.whenIdle();
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.error?.code]).toEqual(['pending', 'JOB_TIMEOUT']);
    expect(seen.slice(2)).toEqual([`job:timeout:${job.id}`, `job:retrying:${job.id}`]);
  });

  it('records a timeout after cancelGraceMs when the handler ignores its signal, keeping the slot', async () => {
    const { stores, runner, clock } = setup({ cancelGraceMs: 1000, maxConcurrent: 1 });
    const gate = deferred<string>();
    runner.registerHandler('stubborn', async () => gate.promise);
    const job = await stores.jobs.create({ handler: 'stubborn', timeoutMs: 100, maxAttempts: 1 });
    clock.advance(1);
    await stores.jobs.create({ handler: 'stubborn' });
    await runner.runOnce();
    await vi.advanceTimersByTimeAsync(100);
    expect((await mustGet(stores.jobs, job.id)).status).toBe('running');
    await vi.advanceTimersByTimeAsync(1000);
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.error?.code]).toEqual(['failed', 'JOB_TIMEOUT']);
    expect(runner.stats()).toMatchObject({ active: 1, overdueCount: 1 });
    expect(await runner.runOnce()).toEqual({ claimed: 0 });
    gate.resolve('too late');
    await runner.whenIdle();
    expect(runner.stats()).toMatchObject({ active: 0, overdueCount: 0, failed: 1 });
    expect((await mustGet(stores.jobs, job.id)).result).toBeNull();
  });
});

describe('BasicJobRunner cancellation', () => {
  it('never runs a job cancelled while pending', async () => {
    const { stores, runner } = setup();
    const handler = vi.fn(async () => 1);
    runner.registerHandler('c', handler);
    const job = await stores.jobs.create({ handler: 'c' });
    await stores.jobs.cancel({ jobId: job.id, reason: 'no longer needed' });
    expect(await runner.runOnce()).toEqual({ claimed: 0 });
    expect((await mustGet(stores.jobs, job.id)).status).toBe('cancelled');
    expect(handler).not.toHaveBeenCalled();
  });

  it('aborts a running job whose cancellation is seen at heartbeat, then confirms it', async () => {
    const { stores, runner, events } = setup();
    const seen = recordEvents(events);
    let reason: unknown;
    runner.registerHandler('c', async (_input, ctx) => {
      try {
        return await untilAborted(ctx.signal);
      } catch (e) {
        reason = e;
        throw e;
      }
    });
    const job = await stores.jobs.create({ handler: 'c' });
    await runner.runOnce();
    await stores.jobs.cancel({ jobId: job.id });
    expect(await runner.heartbeatOnce()).toEqual({ extended: 1, lost: 0, cancelRequested: 1 });
    await runner.whenIdle();
    expect(reason).toBeInstanceOf(CancelledError);
    expect((await mustGet(stores.jobs, job.id)).status).toBe('cancelled');
    expect(seen.at(-1)).toBe(`job:cancelled:${job.id}`);
    expect(runner.stats().cancelled).toBe(1);
  });

  it('wakes on the wakeups source for new jobs and cancellations', async () => {
    const wakeups = new EventEmitter();
    // Poll and heartbeat far beyond the test's timeout: only the wake-ups can deliver.
    const { stores, runner } = setup({
      wakeups,
      pollIntervalMs: 3_600_000,
      heartbeatIntervalMs: 60_000,
      leaseMs: 180_000,
    });
    const started = deferred();
    runner.registerHandler('c', async (_input, ctx) => {
      started.resolve();
      return untilAborted(ctx.signal);
    });
    await runner.start();
    const job = await stores.jobs.create({ handler: 'c' });
    wakeups.emit('jobs');
    await started.promise;
    await stores.jobs.cancel({ jobId: job.id });
    wakeups.emit('cancel', job.id);
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, job.id)).status).toBe('cancelled');
    await runner.stop();
    expect(wakeups.listenerCount('jobs')).toBe(0);
  });
});

describe('BasicJobRunner lost leases', () => {
  it('aborts the handler when a heartbeat finds the lease gone, and drops its result', async () => {
    const { stores, runner, events, clock } = setup();
    const seen = recordEvents(events);
    const gate = deferred();
    let abortReason: unknown;
    runner.registerHandler('l', async (_input, ctx) => {
      await gate.promise;
      abortReason = ctx.signal.reason;
      return 'stale result';
    });
    const job = await stores.jobs.create({ handler: 'l' });
    await runner.runOnce();
    const claimed = await mustGet(stores.jobs, job.id);
    clock.advance(120_000);
    await stores.jobs.resetStalled({ jobId: job.id, leaseId: claimed.leaseId ?? '' });
    expect(await runner.heartbeatOnce()).toMatchObject({ lost: 1 });
    gate.resolve();
    await runner.whenIdle();
    expect(abortReason).toBeInstanceOf(LeaseLostError);
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.result]).toEqual(['pending', null]);
    expect(seen).toContain(`job:lease-lost:${job.id}`);
    expect(seen).not.toContain(`job:completed:${job.id}`);
    expect(runner.stats().leaseLost).toBe(1);
  });

  it('drops the result when the completing write finds the lease gone', async () => {
    const { stores, runner, clock } = setup();
    const gate = deferred();
    runner.registerHandler('l', async () => {
      await gate.promise;
      return 'stale';
    });
    const job = await stores.jobs.create({ handler: 'l' });
    await runner.runOnce();
    const claimed = await mustGet(stores.jobs, job.id);
    clock.advance(120_000);
    await stores.jobs.resetStalled({ jobId: job.id, leaseId: claimed.leaseId ?? '' });
    const { runner: other } = setup({ jobStore: stores.jobs, clock, runnerId: 'runner-b' });
    other.registerHandler('l', async () => 'fresh');
    await other.runOnce();
    await other.whenIdle();
    gate.resolve();
    await runner.whenIdle();
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.result, after.runnerId]).toEqual([
      'completed',
      'fresh',
      'runner-b',
    ]);
    expect(runner.stats()).toMatchObject({ completed: 0, leaseLost: 1 });
  });
});

describe('BasicJobRunner.stop', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits for running handlers to finish when they do so in time', async () => {
    const { stores, runner } = setup();
    const gate = deferred();
    runner.registerHandler('s', async () => {
      await gate.promise;
      return 'finished';
    });
    await runner.start();
    const job = await stores.jobs.create({ handler: 's' });
    await runner.runOnce();
    let stopped = false;
    const stopping = runner.stop({ timeoutMs: 10_000 }).then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(5000);
    expect(stopped).toBe(false);
    gate.resolve();
    await stopping;
    expect((await mustGet(stores.jobs, job.id)).status).toBe('completed');
  });

  it('aborts handlers still running at the timeout and releases their jobs, attempt refunded', async () => {
    const { stores, runner } = setup();
    let reason: unknown;
    runner.registerHandler('s', async (_input, ctx) => {
      try {
        return await untilAborted(ctx.signal);
      } catch (e) {
        reason = e;
        throw e;
      }
    });
    await runner.start();
    const job = await stores.jobs.create({ handler: 's' });
    await runner.runOnce();
    const stopping = runner.stop({ timeoutMs: 1000 });
    await vi.advanceTimersByTimeAsync(1000);
    await stopping;
    expect(reason).toBeInstanceOf(CancelledError);
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.attempts, after.leaseId]).toEqual(['pending', 0, null]);
    expect(runner.stats()).toMatchObject({ released: 1, running: false, active: 0 });
    expect(await runner.runOnce()).toEqual({ claimed: 1 });
  });

  it('is idempotent and fine before start', async () => {
    const { runner } = setup();
    await runner.stop();
    await runner.start();
    await runner.start();
    await Promise.all([runner.stop(), runner.stop()]);
    await runner.stop();
    expect(runner.stats().running).toBe(false);
  });
});

describe('BasicJobRunner timeouts, late results', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps a result that arrives within cancelGraceMs after the timeout', async () => {
    const { stores, runner } = setup({ cancelGraceMs: 1000 });
    runner.registerHandler('finishes-anyway', async (_input, ctx) => {
      await new Promise<void>((resolve) => {
        ctx.signal.addEventListener('abort', () => setTimeout(resolve, 500), { once: true });
      });
      return 'saved';
    });
    const job = await stores.jobs.create({ handler: 'finishes-anyway', timeoutMs: 100 });
    await runner.runOnce();
    await vi.advanceTimersByTimeAsync(600);
    await runner.whenIdle();
    const after = await mustGet(stores.jobs, job.id);
    expect([after.status, after.result]).toEqual(['completed', 'saved']);
  });
});
