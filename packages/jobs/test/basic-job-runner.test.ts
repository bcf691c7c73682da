import { isRetrying, JobPriority, NonRetryableError, noopLogger, Result } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { BasicJobRunner } from '../src/basic-job-runner.js';
import type { JobHookContext } from '../src/job-handler.js';
import { deferred, ignoringHandlerFilter, mustGet, recordEvents, setup } from './helpers.js';

describe('BasicJobRunner.runOnce', () => {
  it('runs a plain handler and completes the job with its result', async () => {
    const { stores, runner, events } = setup();
    const seen = recordEvents(events);
    const contexts: unknown[] = [];
    runner.registerHandler('double', async (input, ctx) => {
      contexts.push({ attempt: ctx.attempt, executionId: ctx.executionId, stepId: ctx.stepId });
      return (input as { n: number }).n * 2;
    });
    const job = await stores.jobs.create({ handler: 'double', input: { n: 21 } });
    expect(await runner.runOnce()).toEqual({ claimed: 1 });
    await runner.whenIdle();
    const done = await mustGet(stores.jobs, job.id);
    expect(done.status).toBe('completed');
    expect(done.result).toBe(42);
    expect(contexts).toEqual([{ attempt: 1, executionId: null, stepId: null }]);
    expect(runner.completedCount()).toBe(1);
    expect(runner.failedCount()).toBe(0);
    expect(seen).toEqual([
      `job:claimed:${job.id}`,
      `job:started:${job.id}`,
      `job:completed:${job.id}`,
    ]);
  });

  it('claims only the types it has handlers for', async () => {
    const { stores, runner } = setup();
    runner.registerHandler('mine', async () => 'ok');
    const mine = await stores.jobs.create({ handler: 'mine' });
    const other = await stores.jobs.create({ handler: 'not-mine' });
    await runner.runOnce();
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, mine.id)).status).toBe('completed');
    expect((await mustGet(stores.jobs, other.id)).status).toBe('pending');
  });

  it('claims no more than its free slots and refills as handlers finish', async () => {
    const { stores, runner, clock, events } = setup({ maxConcurrent: 2, batchSize: 10 });
    const gates = [deferred(), deferred(), deferred()];
    let started = 0;
    runner.registerHandler('gated', async (input) => {
      started++;
      await gates[input as number]?.promise;
      return input;
    });
    for (const i of [0, 1, 2]) {
      await stores.jobs.create({ handler: 'gated', input: i });
      clock.advance(1);
    }
    expect(await runner.runOnce()).toEqual({ claimed: 2 });
    expect(await runner.runOnce()).toEqual({ claimed: 0 });
    expect(runner.activeCount()).toBe(2);
    const firstDone = new Promise<void>((resolve) => {
      events.on('job:completed', () => resolve());
    });
    gates[0]?.resolve();
    await firstDone;
    await new Promise((r) => setImmediate(r));
    expect(runner.activeCount()).toBe(1);
    expect(await runner.runOnce()).toEqual({ claimed: 1 });
    expect(started).toBe(3);
    gates[1]?.resolve();
    gates[2]?.resolve();
    await runner.whenIdle();
    expect(runner.completedCount()).toBe(3);
  });

  it('never claims more than its free slots, even when calls overlap', async () => {
    const { stores, runner } = setup({ maxConcurrent: 3, batchSize: 3 });
    const gate = deferred();
    runner.registerHandler('g', async () => gate.promise);
    for (let i = 0; i < 6; i++) await stores.jobs.create({ handler: 'g' });
    const claims = await Promise.all([runner.runOnce(), runner.runOnce(), runner.runOnce()]);
    expect(claims.reduce((n, c) => n + c.claimed, 0)).toBe(3);
    expect(runner.activeCount()).toBe(3);
    gate.resolve();
    await runner.whenIdle();
  });

  it('runs higher priorities first, FIFO within a priority', async () => {
    const { stores, runner, clock } = setup({ maxConcurrent: 1 });
    const order: string[] = [];
    runner.registerHandler('p', async (input) => void order.push(input as string));
    const make = async (name: string, priority: number) => {
      await stores.jobs.create({ handler: 'p', input: name, priority });
      clock.advance(1);
    };
    await make('low', JobPriority.LOW);
    await make('normal-1', JobPriority.NORMAL);
    await make('critical', JobPriority.CRITICAL);
    await make('normal-2', JobPriority.NORMAL);
    await make('high', JobPriority.HIGH);
    for (let i = 0; i < 5; i++) {
      await runner.runOnce();
      await runner.whenIdle();
    }
    expect(order).toEqual(['critical', 'high', 'normal-1', 'normal-2', 'low']);
  });

  it('reports progress and extends the lease', async () => {
    const { stores, runner, events, clock } = setup();
    const progress: unknown[] = [];
    events.on('job:progress', ({ progress: p }) => {
      progress.push([p.percent, p.message]);
    });
    runner.registerHandler('slow', async (_input, ctx) => {
      clock.advance(5000);
      await ctx.progress(50, 'half way');
      return 'done';
    });
    const job = await stores.jobs.create({ handler: 'slow' });
    await runner.runOnce();
    await runner.whenIdle();
    expect(progress).toEqual([[50, 'half way']]);
    const done = await mustGet(stores.jobs, job.id);
    expect(done.progress?.percent).toBe(50);
    expect(done.status).toBe('completed');
  });

  it('releases untouched a claimed job it has no handler for', async () => {
    const { stores, clock } = setup();
    const { runner } = setup({ jobStore: ignoringHandlerFilter(stores.jobs), clock });
    runner.registerHandler('known', async () => 1);
    const job = await stores.jobs.create({ handler: 'unknown' });
    await runner.runOnce();
    await runner.whenIdle();
    const after = await mustGet(stores.jobs, job.id);
    expect(after.status).toBe('pending');
    expect(after.attempts).toBe(0);
  });
});

describe('BasicJobRunner retries', () => {
  it('retries a thrown error with the policy delay, then fails when attempts run out', async () => {
    const { stores, runner, clock, events } = setup();
    const retryAts: number[] = [];
    events.on('job:retrying', ({ retryAt }) => {
      retryAts.push(retryAt);
    });
    runner.registerHandler('flaky', async () => {
      throw new Error('boom');
    });
    const job = await stores.jobs.create({
      handler: 'flaky',
      maxAttempts: 3,
      retry: { strategy: 'EXPONENTIAL', baseDelayMs: 1000, jitter: false },
    });
    const t0 = clock.now();
    await runner.runOnce();
    await runner.whenIdle();
    let after = await mustGet(stores.jobs, job.id);
    expect(isRetrying(after)).toBe(true);
    expect(after.runAt).toBe(t0 + 1000);
    expect(after.error?.message).toBe('boom');
    expect(await runner.runOnce()).toEqual({ claimed: 0 });
    clock.advance(1000);
    await runner.runOnce();
    await runner.whenIdle();
    after = await mustGet(stores.jobs, job.id);
    expect(after.runAt).toBe(t0 + 1000 + 2000);
    clock.advance(2000);
    await runner.runOnce();
    await runner.whenIdle();
    after = await mustGet(stores.jobs, job.id);
    expect(after.status).toBe('failed');
    expect(after.attempts).toBe(3);
    expect(retryAts).toEqual([t0 + 1000, t0 + 3000]);
    expect(runner.failedCount()).toBe(1);
    expect(runner.stats().retried).toBe(2);
  });

  it.each([
    ['IMMEDIATE', [0, 0]],
    ['FIXED', [500, 500]],
    ['LINEAR', [500, 1000]],
    ['EXPONENTIAL', [500, 1000]],
  ] as const)('%s delays follow the strategy', async (strategy, delays) => {
    const { stores, runner, clock } = setup();
    runner.registerHandler('x', async () => {
      throw new Error('again');
    });
    const job = await stores.jobs.create({
      handler: 'x',
      maxAttempts: 3,
      retry: { strategy, baseDelayMs: 500, jitter: false },
    });
    const observed: number[] = [];
    for (let i = 0; i < 2; i++) {
      const before = clock.now();
      await runner.runOnce();
      await runner.whenIdle();
      const after = await mustGet(stores.jobs, job.id);
      observed.push(after.runAt - before);
      clock.set(after.runAt);
    }
    expect(observed).toEqual(delays);
  });

  it('applies jitter from the injected random source', async () => {
    const { stores, runner, clock } = setup({ random: () => 0 });
    runner.registerHandler('x', async () => {
      throw new Error('again');
    });
    const job = await stores.jobs.create({
      handler: 'x',
      retry: { strategy: 'FIXED', baseDelayMs: 1000, jitterFactor: 0.5 },
    });
    await runner.runOnce();
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, job.id)).runAt - clock.now()).toBe(500);
  });

  it('fails at once on NonRetryableError', async () => {
    const { stores, runner, events } = setup();
    const failed: string[] = [];
    events.on('job:failed', ({ error }) => {
      failed.push(error.code);
    });
    runner.registerHandler('strict', async () => {
      throw new NonRetryableError('bad card', { code: 'CARD_DECLINED' });
    });
    const job = await stores.jobs.create({ handler: 'strict', maxAttempts: 5 });
    await runner.runOnce();
    await runner.whenIdle();
    const after = await mustGet(stores.jobs, job.id);
    expect(after.status).toBe('failed');
    expect(after.attempts).toBe(1);
    expect(after.error?.code).toBe('CARD_DECLINED');
    expect(failed).toEqual(['CARD_DECLINED']);
  });

  it('uses the handler isRetryable and the handler default policy', async () => {
    const { stores, runner, clock } = setup();
    runner.registerHandler(
      'http',
      async (input) => {
        throw new Error(input as string);
      },
      {
        isRetryable: (e) => (e as Error).message !== '404',
        retry: { strategy: 'FIXED', baseDelayMs: 42, jitter: false },
      },
    );
    const notFound = await stores.jobs.create({ handler: 'http', input: '404' });
    const busy = await stores.jobs.create({ handler: 'http', input: '503' });
    await runner.runOnce();
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, notFound.id)).status).toBe('failed');
    const retried = await mustGet(stores.jobs, busy.id);
    expect(retried.status).toBe('pending');
    expect(retried.runAt).toBe(clock.now() + 42);
  });

  it('maps a StepHandler result: failure retried only when retryable, wait snoozes', async () => {
    const { stores, runner, clock } = setup();
    const step = (result: ReturnType<typeof Result.failure> | ReturnType<typeof Result.wait>) => ({
      type: 't',
      metadata: { stateful: true },
      execute: async () => result,
    });
    runner.registerHandler('final', step(Result.failure('nope')));
    runner.registerHandler(
      'transient',
      step(Result.failure({ code: 'BUSY', message: 'try later', retryable: true })),
    );
    runner.registerHandler('later', step(Result.wait({ until: clock.now() + 60_000 })));
    const a = await stores.jobs.create({ handler: 'final' });
    const b = await stores.jobs.create({ handler: 'transient' });
    const c = await stores.jobs.create({ handler: 'later' });
    await runner.runOnce();
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, a.id)).status).toBe('failed');
    const bAfter = await mustGet(stores.jobs, b.id);
    expect([bAfter.status, bAfter.error?.code]).toEqual(['pending', 'BUSY']);
    const cAfter = await mustGet(stores.jobs, c.id);
    expect([cAfter.status, cAfter.attempts, cAfter.runAt]).toEqual([
      'pending',
      0,
      clock.now() + 60_000,
    ]);
  });
});

describe('BasicJobRunner hooks', () => {
  it('calls onStart, onSuccess/onFail, onEnd in order; a throwing hook changes nothing', async () => {
    const { stores, runner } = setup();
    const calls: string[] = [];
    const hooks = {
      onStart: (c: JobHookContext) => {
        calls.push(`start:${c.job.input}`);
        throw new Error('hook bug');
      },
      onSuccess: () => void calls.push('success'),
      onFail: (c: { willRetry: boolean }) => void calls.push(`fail:${c.willRetry}`),
      onEnd: async (c: { outcome: string }) => {
        calls.push(`end:${c.outcome}`);
        throw new Error('async hook bug');
      },
    };
    runner.registerHandler(
      'h',
      async (input) => {
        if (input === 'bad') throw new NonRetryableError('bad');
        return input;
      },
      hooks,
    );
    const ok = await stores.jobs.create({ handler: 'h', input: 'good' });
    await runner.runOnce();
    await runner.whenIdle();
    await stores.jobs.create({ handler: 'h', input: 'bad' });
    await runner.runOnce();
    await runner.whenIdle();
    expect(calls).toEqual([
      'start:good',
      'success',
      'end:completed',
      'start:bad',
      'fail:false',
      'end:failed',
    ]);
    expect((await mustGet(stores.jobs, ok.id)).status).toBe('completed');
  });
});

describe('BasicJobRunner.start', () => {
  it('claims the jobs already due at once, not after a random share of the poll interval', async () => {
    // No wake-up comes for jobs created before the runner started; a jittered first poll
    // (random 0.99 of a minute here) would leave them waiting.
    const { stores, runner, events } = setup({ pollIntervalMs: 60_000, random: () => 0.99 });
    runner.registerHandler('waiting', async () => 'done');
    const job = await stores.jobs.create({ handler: 'waiting' });
    const completed = new Promise<void>((resolve) => events.on('job:completed', () => resolve()));
    await runner.start();
    try {
      await expect(
        Promise.race([
          completed.then(() => 'completed'),
          new Promise((resolve) => setTimeout(() => resolve('still waiting'), 2000)),
        ]),
      ).resolves.toBe('completed');
      expect((await mustGet(stores.jobs, job.id)).status).toBe('completed');
    } finally {
      await runner.stop();
    }
  });
});

describe('BasicJobRunner.registerHandler', () => {
  it('rejects a duplicate type and a malformed handler', () => {
    const { runner } = setup();
    runner.registerHandler('a', async () => 1);
    expect(() => runner.registerHandler('a', async () => 2)).toThrow(/already registered/);
    expect(() => runner.registerHandler('', async () => 2)).toThrow(/type/);
    expect(() => runner.registerHandler('b', {} as never)).toThrow(/handler/);
  });
});

describe('BasicJobRunner constructor', () => {
  it('accepts the positional form with the engine as second argument', async () => {
    const { stores } = setup();
    const runner = new BasicJobRunner(stores.jobs, undefined, 'worker-1', { logger: noopLogger });
    expect(runner.runnerId).toBe('worker-1');
    runner.registerHandler('p', async () => 'ok');
    const job = await stores.jobs.create({ handler: 'p' });
    await runner.runOnce();
    await runner.whenIdle();
    expect((await mustGet(stores.jobs, job.id)).runnerId).toBe('worker-1');
  });

  it('refuses an execution store in the engine position, which could never resume executions', () => {
    const { stores } = setup();
    expect(() => new BasicJobRunner(stores.jobs, stores.executions as never, 'worker-1')).toThrow(
      /must be the Engine/,
    );
  });
});
