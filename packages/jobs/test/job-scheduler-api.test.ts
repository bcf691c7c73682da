import { NotFoundError, ValidationError } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import type { JobScheduler } from '../src/job-scheduler.js';
import { fireTimes, MIN, SEC, T0, world } from './fixtures/scheduler-world.js';

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
