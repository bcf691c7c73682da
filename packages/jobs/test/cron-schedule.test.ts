import { ValidationError } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { CronSchedule } from '../src/cron/cron-schedule.js';
import { planFires } from '../src/cron/fire-plan.js';
import { resolveRunAt } from '../src/cron/resolve-run-at.js';

const NOW = Date.UTC(2026, 0, 1);
const iso = (ms: number) => new Date(ms).toISOString();

function fieldOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return (error as ValidationError).field;
  }
  throw new Error('expected a ValidationError');
}

describe('CronSchedule.parse', () => {
  it.each([
    ['malformed', 'every day at nine'],
    ['too few fields', '0 9 * *'],
    ['too many fields', '0 0 9 * * * 2026'],
    ['out of range', '61 * * * *'],
    ['empty', '   '],
    ['step of zero', '*/0 * * * *'],
    ['an unknown alias', '@fortnightly'],
    ['an impossible date (30 February)', '0 0 30 2 *'],
    ['an impossible date (31 April)', '0 0 31 4 *'],
  ])('refuses %s with a ValidationError naming cron', (_, cron) => {
    expect(fieldOf(() => CronSchedule.parse({ cron, now: NOW }))).toBe('cron');
  });

  it('explains an impossible date in the message', () => {
    expect(() => CronSchedule.parse({ cron: '0 0 30 2 *', now: NOW })).toThrow(/cron: .*30 2/);
  });

  it('accepts a rare but real date, and refuses one with no fire time left before the year 10000', () => {
    const fifthMondayOfFeb = '0 0 * 2 1#5';
    expect(CronSchedule.parse({ cron: fifthMondayOfFeb, now: NOW }).nextAfter(NOW)).toBe(
      Date.UTC(2044, 1, 29),
    );
    const late = Date.UTC(9999, 5, 1);
    expect(() => CronSchedule.parse({ cron: '0 0 1 1 *', now: late })).toThrow(/never fires/);
  });

  it.each(['Mars/Olympus', 'EST+5', '', 'Europe/Londn'])(
    'refuses the unknown time zone %j naming timezone',
    (timezone) => {
      expect(fieldOf(() => CronSchedule.parse({ cron: '0 9 * * *', timezone, now: NOW }))).toBe(
        'timezone',
      );
    },
  );

  it('accepts five fields, six with seconds, and aliases', () => {
    expect(iso(CronSchedule.parse({ cron: '0 9 * * 1-5', now: NOW }).nextAfter(NOW) ?? 0)).toBe(
      '2026-01-01T09:00:00.000Z',
    );
    const everySecond = CronSchedule.parse({ cron: '* * * * * *', now: NOW });
    expect(everySecond.fireTimes(NOW, 3)).toEqual([NOW + 1000, NOW + 2000, NOW + 3000]);
    expect(CronSchedule.parse({ cron: '@daily', now: NOW }).nextAfter(NOW)).toBe(
      Date.UTC(2026, 0, 2),
    );
  });

  it('derives the same ticks for an H (hash) field in every scheduler of one schedule', () => {
    const a = CronSchedule.parse({ cron: 'H * * * *', seed: 'digest', now: NOW });
    const b = CronSchedule.parse({ cron: 'H * * * *', seed: 'digest', now: NOW });
    expect(a.fireTimes(NOW, 3)).toEqual(b.fireTimes(NOW, 3));
  });
});

describe('CronSchedule daylight saving (the sequence of fire times)', () => {
  const seq = (cron: string, timezone: string, fromIso: string, n: number) =>
    CronSchedule.parse({ cron, timezone, now: Date.parse(fromIso) })
      .fireTimes(Date.parse(fromIso), n)
      .map(iso);

  it('New York, 2026-03-08 spring forward: 02:30 does not exist and fires at 03:30 EDT', () => {
    expect(seq('30 2 * * *', 'America/New_York', '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00.000Z', // 02:30 EST
      '2026-03-08T07:30:00.000Z', // 03:30 EDT: shifted one hour later, once
      '2026-03-09T06:30:00.000Z', // 02:30 EDT
    ]);
  });

  it('New York, 2026-11-01 fall back: 01:30 happens twice and fires once, at the first', () => {
    expect(seq('30 1 * * *', 'America/New_York', '2026-10-31T00:00:00Z', 3)).toEqual([
      '2026-10-31T05:30:00.000Z', // 01:30 EDT
      '2026-11-01T05:30:00.000Z', // 01:30 EDT (the first 01:30); not 06:30Z (01:30 EST)
      '2026-11-02T06:30:00.000Z', // 01:30 EST
    ]);
  });

  it('London, 2026-03-29 spring forward: 01:30 does not exist and fires at 02:30 BST', () => {
    expect(seq('30 1 * * *', 'Europe/London', '2026-03-28T00:00:00Z', 3)).toEqual([
      '2026-03-28T01:30:00.000Z', // 01:30 GMT
      '2026-03-29T01:30:00.000Z', // 02:30 BST: shifted one hour later, once
      '2026-03-30T00:30:00.000Z', // 01:30 BST
    ]);
  });

  it('London, 2026-10-25 fall back: 01:30 happens twice and fires once, at the first', () => {
    expect(seq('30 1 * * *', 'Europe/London', '2026-10-24T00:00:00Z', 3)).toEqual([
      '2026-10-24T00:30:00.000Z', // 01:30 BST
      '2026-10-25T00:30:00.000Z', // 01:30 BST (the first); not 01:30Z (01:30 GMT)
      '2026-10-26T01:30:00.000Z', // 01:30 GMT
    ]);
  });

  it('an hourly schedule fires in both copies of a repeated hour and skips the missing one', () => {
    expect(seq('0 * * * *', 'America/New_York', '2026-11-01T04:30:00Z', 3)).toEqual([
      '2026-11-01T05:00:00.000Z', // 01:00 EDT
      '2026-11-01T06:00:00.000Z', // 01:00 EST (one real hour later)
      '2026-11-01T07:00:00.000Z', // 02:00 EST
    ]);
    expect(seq('0 * * * *', 'America/New_York', '2026-03-08T05:30:00Z', 3)).toEqual([
      '2026-03-08T06:00:00.000Z', // 01:00 EST
      '2026-03-08T07:00:00.000Z', // 03:00 EDT: no 02:00 and no second 03:00
      '2026-03-08T08:00:00.000Z', // 04:00 EDT
    ]);
  });
});

describe('planFires', () => {
  const everyMinute = CronSchedule.parse({ cron: '* * * * *', now: NOW });
  const MIN = 60_000;

  it('fires exactly the due tick in steady state', () => {
    expect(
      planFires({
        cron: everyMinute,
        dueAt: NOW,
        now: NOW + 5,
        catchUpWindowMs: 3_600_000,
        maxCatchUpFires: 60,
      }),
    ).toEqual({
      missed: 0,
      skipTo: null,
      fires: [{ fireAt: NOW, nextFireAt: NOW + MIN }],
      next: NOW + MIN,
    });
  });

  it('fires every tick inside the window once, oldest first, and skips older ones', () => {
    const plan = planFires({
      cron: everyMinute,
      dueAt: NOW,
      now: NOW + 10 * MIN,
      catchUpWindowMs: 3 * MIN,
      maxCatchUpFires: 60,
    });
    expect(plan.fires.map((f) => f.fireAt)).toEqual([
      NOW + 7 * MIN,
      NOW + 8 * MIN,
      NOW + 9 * MIN,
      NOW + 10 * MIN,
    ]);
    expect(plan).toMatchObject({ missed: 7, skipTo: NOW + 7 * MIN, next: NOW + 11 * MIN });
  });

  it('never fires more than maxCatchUpFires, keeping the most recent', () => {
    const plan = planFires({
      cron: everyMinute,
      dueAt: NOW,
      now: NOW + 59 * MIN,
      catchUpWindowMs: 3_600_000,
      maxCatchUpFires: 2,
    });
    expect(plan.fires.map((f) => f.fireAt)).toEqual([NOW + 58 * MIN, NOW + 59 * MIN]);
    expect(plan.missed).toBe(58);
  });

  it('stays cheap after a very long outage (counts up to a bound, then jumps)', () => {
    const everySecond = CronSchedule.parse({ cron: '* * * * * *', now: NOW });
    const plan = planFires({
      cron: everySecond,
      dueAt: NOW,
      now: NOW + 365 * 86_400_000,
      catchUpWindowMs: 3_600_000,
      maxCatchUpFires: 1,
    });
    expect(plan.missed).toBeGreaterThanOrEqual(10_000);
    expect(plan.fires).toEqual([
      { fireAt: NOW + 365 * 86_400_000, nextFireAt: NOW + 365 * 86_400_000 + 1000 },
    ]);
  });
});

describe('resolveRunAt', () => {
  it('accepts a Date, epoch ms, an ISO string with an offset, a delay, or nothing (now)', () => {
    const at = Date.UTC(2026, 2, 8, 9, 30);
    expect(resolveRunAt({ runAt: new Date(at) }, NOW)).toBe(at);
    expect(resolveRunAt({ runAt: at }, NOW)).toBe(at);
    expect(resolveRunAt({ runAt: '2026-03-08T09:30:00Z' }, NOW)).toBe(at);
    expect(resolveRunAt({ runAt: '2026-03-08T04:30:00.000-05:00' }, NOW)).toBe(at);
    expect(resolveRunAt({ runAt: '2026-03-08' }, NOW)).toBe(Date.UTC(2026, 2, 8));
    expect(resolveRunAt({ delayMs: 1500 }, NOW)).toBe(NOW + 1500);
    expect(resolveRunAt({}, NOW)).toBe(NOW);
  });

  it.each([
    ['delayMs', { delayMs: -1 }],
    ['delayMs', { delayMs: Number.NaN }],
    ['delayMs', { delayMs: Number.POSITIVE_INFINITY }],
    ['delayMs', { delayMs: '5s' }],
    ['delayMs', { delayMs: 9e15 }],
    ['runAt', { runAt: Number.NaN }],
    ['runAt', { runAt: Number.NEGATIVE_INFINITY }],
    ['runAt', { runAt: -1 }],
    ['runAt', { runAt: new Date('nope') }],
    ['runAt', { runAt: Date.UTC(10000, 0, 1) }],
    ['runAt', { runAt: '10000-01-01T00:00:00Z' }],
    ['runAt', { runAt: '+010000-01-01T00:00:00Z' }],
    ['runAt', { runAt: 'tomorrow' }],
    ['runAt', { runAt: '1' }],
    ['runAt', { runAt: '2026-02-30T00:00:00Z' }],
    ['runAt', { runAt: '2026-03-08T25:00:00Z' }],
    ['runAt', { runAt: '2026-03-08T09:30:00' }],
    ['runAt', { runAt: { at: 1 } }],
    ['runAt', { runAt: NOW, delayMs: 10 }],
  ])('refuses a bad time naming %s (%j)', (field, params) => {
    expect(fieldOf(() => resolveRunAt(params, NOW))).toBe(field);
  });
});
