import { ConfigError, noopLogger, type ScheduleStore } from '@flowmonkey/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobScheduler } from '../src/job-scheduler.js';
import type { JobSchedulerOptions } from '../src/scheduler-options.js';
import { alwaysLeader } from './fixtures/always-leader.js';

import { fireTimes, MIN, SEC, T0, world } from './fixtures/scheduler-world.js';

describe('JobScheduler.runOnce', () => {
  it('fires one job per tick at the tick time and reports the counts', async () => {
    const { clock, stores, scheduler } = world();
    await scheduler.scheduleRecurring({
      name: 'tick',
      cron: '* * * * *',
      handler: 'h',
      input: { a: 1 },
    });
    expect(await scheduler.runOnce()).toEqual({ leader: true, fired: 0, skipped: 0, missed: 0 });
    clock.advance(MIN);
    expect(await scheduler.runOnce()).toEqual({ leader: true, fired: 1, skipped: 0, missed: 0 });
    expect(await scheduler.runOnce()).toMatchObject({ fired: 0 });
    const [job] = await stores.jobs.listByStatus({ status: 'pending', limit: 10 });
    expect(job).toMatchObject({ handler: 'h', input: { a: 1 }, runAt: T0 + MIN });
    expect(await stores.schedules.get('tick')).toMatchObject({
      lastFireAt: T0 + MIN,
      nextFireAt: T0 + 2 * MIN,
    });
  });

  it('lets only the leader fire, and a follower takes over once the lease lapses', async () => {
    const { clock, stores, make } = world();
    const a = make('a');
    const b = make('b');
    await a.scheduleRecurring({ name: 'tick', cron: '* * * * * *', handler: 'h' });
    expect((await a.runOnce()).leader).toBe(true);
    clock.advance(SEC);
    expect(await b.runOnce()).toEqual({ leader: false, fired: 0, skipped: 0, missed: 0 });
    expect(await a.runOnce()).toMatchObject({ leader: true, fired: 1 });
    clock.advance(5 * SEC); // a dies silently: its lease lapses
    expect(await b.runOnce()).toMatchObject({ leader: true, fired: 5, missed: 0 });
    expect(b.isLeader).toBe(true);
    expect(await fireTimes(stores)).toEqual([1, 2, 3, 4, 5, 6].map((i) => T0 + i * SEC));
  });

  it('hands over at once when the leader stops (it releases the lease)', async () => {
    const { make } = world();
    const a = make('a');
    const b = make('b');
    await a.runOnce();
    await a.stop();
    expect(a.isLeader).toBe(false);
    expect((await b.runOnce()).leader).toBe(true);
  });

  it('makes no duplicate when several schedulers all believe they lead', async () => {
    const { clock, stores } = world();
    const many = ['x', 'y', 'z'].map(
      (id) =>
        new JobScheduler({
          jobStore: stores.jobs,
          scheduleStore: alwaysLeader(stores.schedules),
          schedulerId: id,
          logger: noopLogger,
          clock,
        }),
    );
    await many[0]?.scheduleRecurring({ name: 'tick', cron: '* * * * * *', handler: 'h' });
    for (let i = 0; i < 20; i++) {
      clock.advance(700);
      const counts = await Promise.all(many.map((s) => s.runOnce()));
      expect(counts.every((c) => c.leader)).toBe(true);
    }
    const fired = await fireTimes(stores);
    expect(fired).toEqual(Array.from({ length: 14 }, (_, i) => T0 + (i + 1) * SEC));
  });

  it('after an outage fires each tick inside the catch-up window once, and skips older ones', async () => {
    const { clock, stores, scheduler } = world({ catchUpWindowMs: 10 * MIN });
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * *', handler: 'h' });
    clock.advance(60 * MIN); // every scheduler down for an hour
    expect(await scheduler.runOnce()).toEqual({ leader: true, fired: 11, skipped: 0, missed: 49 });
    expect(await fireTimes(stores)).toEqual(
      Array.from({ length: 11 }, (_, i) => T0 + (50 + i) * MIN),
    );
    clock.advance(MIN);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 1, missed: 0 });
  });

  it('caps a catch-up at maxCatchUpFires, firing the most recent ticks', async () => {
    const { clock, stores, scheduler } = world({ maxCatchUpFires: 3 });
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * * *', handler: 'h' });
    clock.advance(30 * SEC);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 3, missed: 27 });
    expect(await fireTimes(stores)).toEqual([28, 29, 30].map((i) => T0 + i * SEC));
  });

  it("with overlap 'skip' skips ticks while the previous fire's job is unfinished", async () => {
    const { clock, stores, scheduler } = world();
    await scheduler.scheduleRecurring({
      name: 'tick',
      cron: '* * * * *',
      handler: 'h',
      overlap: 'skip',
    });
    clock.advance(MIN);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 1, skipped: 0 });
    const [claimed] = await stores.jobs.claimBatch({ runnerId: 'r', limit: 1 });
    clock.advance(MIN);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 0, skipped: 1 });
    await stores.jobs.complete({
      jobId: claimed?.id ?? '',
      leaseId: claimed?.leaseId ?? '',
      result: null,
    });
    clock.advance(MIN);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 1, skipped: 0 });
    expect(await fireTimes(stores)).toEqual([T0 + MIN, T0 + 3 * MIN]);
  });

  it('moves past ticks recorded before instead of leaving the schedule due', async () => {
    const { clock, stores, scheduler } = world();
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * * *', handler: 'h' });
    clock.advance(3 * SEC);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 3 });
    // A scheduler with a lagging clock sets the schedule back onto ticks already fired.
    await stores.schedules.advance({
      name: 'tick',
      expectedNextFireAt: T0 + 4 * SEC,
      nextFireAt: T0 + SEC,
    });
    expect(await scheduler.runOnce()).toMatchObject({ fired: 0, missed: 0 });
    expect((await stores.schedules.get('tick'))?.nextFireAt).toBe(T0 + 4 * SEC);
    clock.advance(SEC);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 1 });
    expect(await fireTimes(stores)).toEqual([1, 2, 3, 4].map((i) => T0 + i * SEC));
  });

  it('shrugs off a schedule removed while the tick works on it', async () => {
    const { clock, stores } = world();
    const removing = new Proxy(stores.schedules, {
      get(target, prop) {
        if (prop === 'listDue') {
          return async (p: Parameters<ScheduleStore['listDue']>[0]) => {
            const due = await target.listDue(p);
            for (const s of due.schedules) await target.remove(s.name);
            return due;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const scheduler = new JobScheduler({
      jobStore: stores.jobs,
      scheduleStore: removing,
      logger: noopLogger,
      clock,
    });
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * * *', handler: 'h' });
    clock.advance(SEC);
    expect(await scheduler.runOnce()).toEqual({ leader: true, fired: 0, skipped: 0, missed: 0 });
    expect(await fireTimes(stores)).toEqual([]);
  });

  it("with overlap 'allow' fires while the previous job is still pending", async () => {
    const { clock, stores, scheduler } = world();
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * *', handler: 'h' });
    clock.advance(MIN);
    await scheduler.runOnce();
    clock.advance(MIN);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 1, skipped: 0 });
    expect(await fireTimes(stores)).toHaveLength(2);
  });
});

describe('JobScheduler.start', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('ticks on its own every tickIntervalMs until stopped, then releases the lease', async () => {
    vi.useFakeTimers();
    const { clock, stores, make } = world({ random: () => 0 });
    const scheduler = make('timed');
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * * *', handler: 'h' });
    scheduler.start();
    for (let i = 0; i < 3; i++) {
      clock.advance(SEC);
      await vi.advanceTimersByTimeAsync(SEC);
    }
    expect(scheduler.isLeader).toBe(true);
    await scheduler.stop();
    clock.advance(SEC);
    await vi.advanceTimersByTimeAsync(5 * SEC);
    expect(await fireTimes(stores)).toEqual([1, 2, 3].map((i) => T0 + i * SEC));
    expect((await make('other').runOnce()).leader).toBe(true);
  });
});

describe('JobScheduler options', () => {
  it.each([
    ['leaseMs', { tickIntervalMs: 1000, leaseMs: 1500 }],
    ['catchUpWindowMs', { leaseMs: 10_000, catchUpWindowMs: 5000 }],
    ['tickIntervalMs', { tickIntervalMs: 0 }],
    ['tickIntervalMs', { tickIntervalMs: 2 ** 31, leaseMs: 2 ** 32 }],
    ['maxCatchUpFires', { maxCatchUpFires: 0 }],
    ['tickInterval', { tickInterval: 1000 }],
  ])('refuses a bad %s with a ConfigError', (field, patch) => {
    const { stores } = world();
    const options = {
      jobStore: stores.jobs,
      scheduleStore: stores.schedules,
      ...patch,
    } as JobSchedulerOptions;
    let error: unknown;
    try {
      new JobScheduler(options);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).field).toBe(field);
  });
});
