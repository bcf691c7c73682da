import { createMemoryStores, ManualClock, noopLogger } from '@flowmonkey/core';
import { describe, expect, it } from 'vitest';
import { JobScheduler } from '../src/job-scheduler.js';

const STEP_MS = 5 * 60_000;

/**
 * Runs a scheduler (ticking every five simulated minutes) over `[fromIso, toIso)` for one
 * schedule and returns the fire times of the jobs it made, in UTC and in the zone's
 * wall-clock time (en-GB names New York's offsets GMT-5 = EST and GMT-4 = EDT).
 */
async function fires(cron: string, timezone: string, fromIso: string, toIso: string) {
  const clock = new ManualClock(Date.parse(fromIso));
  const stores = createMemoryStores({ clock });
  const scheduler = new JobScheduler({
    jobStore: stores.jobs,
    scheduleStore: stores.schedules,
    tickIntervalMs: 60_000,
    leaseMs: 600_000,
    logger: noopLogger,
    clock,
  });
  await scheduler.scheduleRecurring({ name: 'daily', cron, timezone, handler: 'h' });
  let missed = 0;
  while (clock.now() < Date.parse(toIso)) {
    clock.advance(STEP_MS);
    missed += (await scheduler.runOnce()).missed;
  }
  expect(missed).toBe(0);
  const jobs = await stores.jobs.listByStatus({ status: 'pending', limit: 1000 });
  const wall = new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    dateStyle: 'short',
    timeStyle: 'long',
  });
  return jobs.map((j) => `${new Date(j.runAt).toISOString()} = ${wall.format(j.runAt)}`);
}

describe('JobScheduler across daylight-saving changes', () => {
  it('New York spring forward (2026-03-08): 02:30 is skipped by the clock and fires at 03:30 EDT, once', async () => {
    expect(
      await fires('30 2 * * *', 'America/New_York', '2026-03-07T00:00:00Z', '2026-03-10T00:00:00Z'),
    ).toEqual([
      '2026-03-07T07:30:00.000Z = 07/03/2026, 02:30:00 GMT-5',
      '2026-03-08T07:30:00.000Z = 08/03/2026, 03:30:00 GMT-4',
      '2026-03-09T06:30:00.000Z = 09/03/2026, 02:30:00 GMT-4',
    ]);
  });

  it('New York fall back (2026-11-01): 01:30 happens twice and fires once, at the first (EDT)', async () => {
    expect(
      await fires('30 1 * * *', 'America/New_York', '2026-10-31T00:00:00Z', '2026-11-03T00:00:00Z'),
    ).toEqual([
      '2026-10-31T05:30:00.000Z = 31/10/2026, 01:30:00 GMT-4',
      '2026-11-01T05:30:00.000Z = 01/11/2026, 01:30:00 GMT-4',
      '2026-11-02T06:30:00.000Z = 02/11/2026, 01:30:00 GMT-5',
    ]);
  });

  it('London spring forward (2026-03-29): 01:30 is skipped by the clock and fires at 02:30 BST, once', async () => {
    expect(
      await fires('30 1 * * *', 'Europe/London', '2026-03-28T00:00:00Z', '2026-03-31T00:00:00Z'),
    ).toEqual([
      '2026-03-28T01:30:00.000Z = 28/03/2026, 01:30:00 GMT',
      '2026-03-29T01:30:00.000Z = 29/03/2026, 02:30:00 BST',
      '2026-03-30T00:30:00.000Z = 30/03/2026, 01:30:00 BST',
    ]);
  });

  it('London fall back (2026-10-25): 01:30 happens twice and fires once, at the first (BST)', async () => {
    expect(
      await fires('30 1 * * *', 'Europe/London', '2026-10-24T00:00:00Z', '2026-10-27T00:00:00Z'),
    ).toEqual([
      '2026-10-24T00:30:00.000Z = 24/10/2026, 01:30:00 BST',
      '2026-10-25T00:30:00.000Z = 25/10/2026, 01:30:00 BST',
      '2026-10-26T01:30:00.000Z = 26/10/2026, 01:30:00 GMT',
    ]);
  });

  it('an hourly schedule fires 23 times on the spring-forward day and 25 on the fall-back day', async () => {
    const spring = await fires(
      '0 * * * *',
      'America/New_York',
      '2026-03-08T05:00:00Z', // 00:00 EST
      '2026-03-09T04:00:00Z', // 00:00 EDT the next day
    );
    const autumn = await fires(
      '0 * * * *',
      'America/New_York',
      '2026-11-01T04:00:00Z', // 00:00 EDT
      '2026-11-02T05:00:00Z', // 00:00 EST the next day
    );
    expect(spring).toHaveLength(23);
    expect(spring.some((f) => f.includes(', 02:00:00'))).toBe(false);
    expect(autumn).toHaveLength(25);
    expect(autumn.filter((f) => f.includes(', 01:00:00'))).toEqual([
      '2026-11-01T05:00:00.000Z = 01/11/2026, 01:00:00 GMT-4',
      '2026-11-01T06:00:00.000Z = 01/11/2026, 01:00:00 GMT-5',
    ]);
  });
});
