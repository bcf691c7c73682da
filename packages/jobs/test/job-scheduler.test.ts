import {
  ConfigError,
  createMemoryStores,
  type Job,
  ManualClock,
  NotFoundError,
  noopLogger,
  type ScheduleStore,
  type Stores,
  ValidationError,
} from '@flowmonkey/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { JobScheduler } from '../src/job-scheduler.js';
import type { JobSchedulerOptions } from '../src/scheduler-options.js';
import { alwaysLeader } from './fixtures/always-leader.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const SEC = 1000;
const MIN = 60 * SEC;

function world(options: Partial<JobSchedulerOptions> = {}) {
  const clock = new ManualClock(T0);
  const stores = createMemoryStores({ clock });
  const make = (id: string, extra: Partial<JobSchedulerOptions> = {}) =>
    new JobScheduler({
      jobStore: stores.jobs,
      scheduleStore: stores.schedules,
      schedulerId: id,
      tickIntervalMs: SEC,
      leaseMs: 5 * SEC,
      logger: noopLogger,
      clock,
      ...options,
      ...extra,
    });
  return { clock, stores, make, scheduler: make('s1') };
}

/** The fire times of the jobs a schedule made, ascending (each job is one tick). */
async function fireTimes(stores: Stores, name = 'tick'): Promise<number[]> {
  const jobs: Job[] = [];
  for (const status of ['pending', 'running', 'completed', 'failed', 'cancelled'] as const) {
    jobs.push(...(await stores.jobs.listByStatus({ status, limit: 100_000 })));
  }
  return jobs
    .filter((j) => j.correlationId === `schedule:${name}` && j.idempotencyKey === null)
    .map((j) => j.runAt)
    .sort((a, b) => a - b);
}

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

describe('JobScheduler.scheduleRecurring', () => {
  it.each([
    ['cron', { cron: 'every minute' }],
    ['cron', { cron: '0 0 30 2 *' }],
    ['cron', { cron: '0 9 * *' }],
    ['timezone', { timezone: 'Mars/Olympus' }],
    ['overlap', { overlap: 'queue' }],
    ['enabled', { enabled: 'yes' }],
    ['name', { name: '' }],
    ['cronExpression', { cronExpression: '* * * * *' }],
  ])('refuses a bad %s with a ValidationError and stores nothing', async (field, patch) => {
    const { stores, scheduler } = world();
    const params = { name: 'tick', cron: '* * * * *', handler: 'h', ...patch } as Parameters<
      JobScheduler['scheduleRecurring']
    >[0];
    const error = await scheduler.scheduleRecurring(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(await stores.schedules.list()).toEqual([]);
  });

  it('keeps an existing schedule untouched when the new version is refused', async () => {
    const { stores, scheduler } = world();
    const saved = await scheduler.scheduleRecurring({
      name: 'tick',
      cron: '0 9 * * *',
      handler: 'h',
    });
    await expect(
      scheduler.scheduleRecurring({ name: 'tick', cron: '0 0 30 2 *', handler: 'h' }),
    ).rejects.toBeInstanceOf(ValidationError);
    expect(await stores.schedules.get('tick')).toEqual(saved);
  });

  it('upserts by name, keeping a pending tick when cron and time zone are unchanged', async () => {
    const { clock, stores, scheduler } = world();
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * *', handler: 'h' });
    clock.advance(3 * MIN); // nobody ticked; a deploy saves the schedules again
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * *', handler: 'h2' });
    expect(await scheduler.runOnce()).toMatchObject({ fired: 3 });
    await scheduler.scheduleRecurring({ name: 'tick', cron: '*/5 * * * *', handler: 'h2' });
    expect(await stores.schedules.list()).toHaveLength(1);
    expect((await stores.schedules.get('tick'))?.nextFireAt).toBe(T0 + 5 * MIN);
  });
});

describe('JobScheduler pause, resume, trigger, remove, list', () => {
  it('pause stops firing; resume starts from the next tick without catching up the pause', async () => {
    const { clock, stores, scheduler } = world();
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * *', handler: 'h' });
    expect((await scheduler.pause('tick')).enabled).toBe(false);
    clock.advance(10 * MIN);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 0, missed: 0 });
    clock.advance(30 * SEC);
    expect((await scheduler.resume('tick')).enabled).toBe(true);
    expect((await stores.schedules.get('tick'))?.nextFireAt).toBe(T0 + 11 * MIN);
    clock.advance(30 * SEC);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 1, missed: 0 });
    expect(await fireTimes(stores)).toEqual([T0 + 11 * MIN]);
  });

  it('trigger runs the job now, once, outside the tick sequence, also when paused', async () => {
    const { stores, scheduler } = world();
    await scheduler.scheduleRecurring({ name: 'tick', cron: '0 9 * * *', handler: 'h', input: 7 });
    await scheduler.pause('tick');
    const first = await scheduler.trigger('tick');
    const second = await scheduler.trigger('tick');
    expect(first.id).not.toBe(second.id);
    expect(first).toMatchObject({
      handler: 'h',
      input: 7,
      runAt: T0,
      correlationId: 'schedule:tick',
    });
    expect(await stores.schedules.get('tick')).toMatchObject({ lastFireAt: null });
  });

  it('remove deletes the schedule; unknown names throw NotFoundError or return false', async () => {
    const { clock, stores, scheduler } = world();
    await scheduler.scheduleRecurring({ name: 'tick', cron: '* * * * *', handler: 'h' });
    expect(await scheduler.remove('tick')).toBe(true);
    expect(await scheduler.remove('tick')).toBe(false);
    clock.advance(MIN);
    expect(await scheduler.runOnce()).toMatchObject({ fired: 0 });
    expect(await fireTimes(stores)).toEqual([]);
    for (const call of [
      () => scheduler.pause('nope'),
      () => scheduler.resume('nope'),
      () => scheduler.trigger('nope'),
    ]) {
      await expect(call()).rejects.toBeInstanceOf(NotFoundError);
    }
  });

  it('list returns every schedule with its next fire times in its time zone', async () => {
    const { scheduler } = world({ listFireTimes: 3 });
    await scheduler.scheduleRecurring({
      name: 'ny',
      cron: '30 2 * * *',
      timezone: 'America/New_York',
      handler: 'h',
    });
    await scheduler.scheduleRecurring({
      name: 'paused',
      cron: '* * * * *',
      handler: 'h',
      enabled: false,
    });
    const [ny, paused] = await scheduler.list();
    expect(ny?.name).toBe('ny');
    expect(ny?.nextFireTimes.map((t) => new Date(t).toISOString())).toEqual([
      '2026-01-02T07:30:00.000Z',
      '2026-01-03T07:30:00.000Z',
      '2026-01-04T07:30:00.000Z',
    ]);
    expect(paused).toMatchObject({ name: 'paused', enabled: false, nextFireTimes: [] });
  });
});

describe('JobScheduler.schedule', () => {
  it('creates a one-off job at runAt (Date, ms or ISO) or after delayMs', async () => {
    const { scheduler } = world();
    const at = T0 + 90 * MIN;
    expect((await scheduler.schedule({ handler: 'h', runAt: new Date(at) })).runAt).toBe(at);
    expect((await scheduler.schedule({ handler: 'h', runAt: at })).runAt).toBe(at);
    expect((await scheduler.schedule({ handler: 'h', runAt: '2026-01-01T13:30:00Z' })).runAt).toBe(
      at,
    );
    const delayed = await scheduler.schedule({
      handler: 'h',
      delayMs: 5000,
      priority: 10,
      maxAttempts: 7,
      input: { x: 1 },
    });
    expect(delayed).toMatchObject({
      runAt: T0 + 5000,
      priority: 10,
      maxAttempts: 7,
      status: 'pending',
    });
  });

  it('returns the first job for a repeated idempotency key', async () => {
    const { scheduler } = world();
    const a = await scheduler.schedule({ handler: 'h', delayMs: 10, idempotencyKey: 'k' });
    const b = await scheduler.schedule({ handler: 'h', delayMs: 99, idempotencyKey: 'k' });
    expect(b.id).toBe(a.id);
  });

  it.each([
    ['delayMs', { delayMs: -5 }],
    ['delayMs', { delayMs: Number.NaN }],
    ['runAt', { runAt: Number.POSITIVE_INFINITY }],
    ['runAt', { runAt: '10000-01-01T00:00:00Z' }],
    ['runAt', { runAt: 'next tuesday' }],
    ['runAt', { runAt: T0, delayMs: 1 }],
    ['delay', { delay: 5000 }],
    ['priority', { priority: 5000 }],
  ])('refuses a bad %s and stores nothing', async (field, patch) => {
    const { stores, scheduler } = world();
    const params = { handler: 'h', ...patch } as Parameters<JobScheduler['schedule']>[0];
    const error = await scheduler.schedule(params).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect(await stores.jobs.listByStatus({ status: 'pending', limit: 10 })).toEqual([]);
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
