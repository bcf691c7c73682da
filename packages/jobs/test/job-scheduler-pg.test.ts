import { ManualClock, noopLogger } from '@flowmonkey/core';
import { createPgStores } from '@flowmonkey/postgres';
import { createTestPool, useTestDatabase } from '@flowmonkey/postgres/testing';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { JobScheduler } from '../src/job-scheduler.js';
import { alwaysLeader } from './fixtures/always-leader.js';

const db = useTestDatabase();
const pools: pg.Pool[] = [];

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.end().catch(() => undefined)));
  // Each test starts with no schedule, job or lease (the database is this file's own).
  await db().pool.query(
    'TRUNCATE flowmonkey.schedules, flowmonkey.schedule_fires, flowmonkey.leader_leases, flowmonkey.jobs CASCADE',
  );
});

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

/** A scheduler on a pool of its own, as in a separate process. */
function scheduler(id: string, clock?: ManualClock) {
  const pool = createTestPool(db().connectionString, { max: 2 });
  pools.push(pool);
  const stores = createPgStores({ pool });
  const s = new JobScheduler({
    jobStore: stores.jobs,
    scheduleStore: stores.schedules,
    schedulerId: id,
    tickIntervalMs: 1000,
    leaseMs: 3000,
    logger: noopLogger,
    ...(clock === undefined ? {} : { clock }),
  });
  return { id, pool, stores, s };
}

/** Every fire of schedule `name` with the number of jobs made for it. */
async function firesOf(name: string): Promise<{ fireAt: number; jobs: number }[]> {
  const { rows } = await db().pool.query<{ fire_at: Date; jobs: string }>(
    `SELECT f.fire_at, (SELECT count(*) FROM flowmonkey.jobs j
        WHERE j.correlation_id = 'schedule:' || f.schedule_name AND j.run_at = f.fire_at) AS jobs
      FROM flowmonkey.schedule_fires f WHERE f.schedule_name = $1 ORDER BY f.fire_at`,
    [name],
  );
  return rows.map((r) => ({ fireAt: r.fire_at.getTime(), jobs: Number(r.jobs) }));
}

describe('JobScheduler on PostgreSQL', () => {
  it('three schedulers, leader killed repeatedly: exactly one job per tick, no tick missed', async () => {
    const clock = new ManualClock(T0);
    let serial = 0;
    let alive = [1, 2, 3].map(() => scheduler(`sched-${++serial}`, clock));
    await alive[0]?.s.scheduleRecurring({ name: 'tick', cron: '* * * * * *', handler: 'h' });
    let killed = 0;
    let missed = 0;
    const terms = new Set<number>();
    // Deterministic uneven steps (250..1000 ms) so ticks land between and on tick boundaries.
    const steps = Array.from({ length: 240 }, (_, i) => 250 + ((i * 7919) % 4) * 250);
    for (const [i, step] of steps.entries()) {
      clock.advance(step);
      const counts = await Promise.all(alive.map((a) => a.s.runOnce()));
      missed += counts.reduce((n, c) => n + c.missed, 0);
      expect(counts.filter((c) => c.leader).length).toBeLessThanOrEqual(1);
      const leader = alive.find((a) => a.s.isLeader);
      const { rows } = await db().pool.query<{ term: string }>(
        `SELECT term FROM flowmonkey.leader_leases WHERE name = 'scheduler'`,
      );
      terms.add(Number(rows[0]?.term));
      if (i % 25 === 24 && leader !== undefined && i < 220) {
        // Kill the leader: it stops ticking and never releases its lease (it must lapse).
        alive = alive.filter((a) => a !== leader);
        await leader.pool.end();
        killed++;
        alive.push(scheduler(`sched-${++serial}`, clock));
      }
    }
    expect(killed).toBeGreaterThanOrEqual(8);
    expect(terms.size).toBeGreaterThanOrEqual(killed + 1);
    expect(missed).toBe(0);
    const fires = await firesOf('tick');
    const lastTick = Math.floor(clock.now() / 1000) * 1000;
    const expected = Array.from({ length: (lastTick - T0) / 1000 }, (_, i) => T0 + (i + 1) * 1000);
    expect(fires.map((f) => f.fireAt)).toEqual(expected);
    expect(fires.every((f) => f.jobs === 1)).toBe(true);
  });

  it('makes one job per tick when three schedulers all believe they lead (split brain)', async () => {
    const clock = new ManualClock(T0);
    const all = ['a', 'b', 'c'].map((id) => {
      const pool = createTestPool(db().connectionString, { max: 2 });
      pools.push(pool);
      const stores = createPgStores({ pool });
      return new JobScheduler({
        jobStore: stores.jobs,
        scheduleStore: alwaysLeader(stores.schedules),
        schedulerId: id,
        logger: noopLogger,
        clock,
      });
    });
    await all[0]?.scheduleRecurring({ name: 'tick', cron: '* * * * * *', handler: 'h' });
    let fired = 0;
    for (let i = 0; i < 40; i++) {
      clock.advance(i % 3 === 0 ? 1700 : 400);
      const counts = await Promise.all(all.map((s) => s.runOnce()));
      fired += counts.reduce((n, c) => n + c.fired, 0);
    }
    const fires = await firesOf('tick');
    const last = Math.floor(clock.now() / 1000) * 1000;
    expect(fires.map((f) => f.fireAt)).toEqual(
      Array.from({ length: (last - T0) / 1000 }, (_, i) => T0 + (i + 1) * 1000),
    );
    expect(fires.every((f) => f.jobs === 1)).toBe(true);
    expect(fired).toBe(fires.length);
  });

  it('judges due ticks by database time when no clock is injected', async () => {
    const { s } = scheduler('db-time');
    await s.scheduleRecurring({ name: 'minutely', cron: '* * * * *', handler: 'h' });
    await db().pool.query(
      `UPDATE flowmonkey.schedules
        SET next_fire_at = date_trunc('minute', now()) - interval '2 minutes'
        WHERE name = 'minutely'`,
    );
    expect(await s.runOnce()).toEqual({ leader: true, fired: 3, skipped: 0, missed: 0 });
    const { rows } = await db().pool.query<{ next_is_future: boolean }>(
      `SELECT next_fire_at > now() AS next_is_future FROM flowmonkey.schedules WHERE name = 'minutely'`,
    );
    expect(rows[0]?.next_is_future).toBe(true);
    expect((await firesOf('minutely')).map((f) => f.jobs)).toEqual([1, 1, 1]);
  });

  it("skips ticks with overlap 'skip' while the last fire's job runs, and resumes after", async () => {
    const clock = new ManualClock(T0);
    const { s, stores } = scheduler('overlap', clock);
    await s.scheduleRecurring({
      name: 'slow',
      cron: '*/10 * * * * *',
      handler: 'h',
      overlap: 'skip',
    });
    clock.advance(10_000);
    expect(await s.runOnce()).toMatchObject({ fired: 1, skipped: 0 });
    const [running] = await stores.jobs.claimBatch({ runnerId: 'r', limit: 1 });
    clock.advance(10_000);
    expect(await s.runOnce()).toMatchObject({ fired: 0, skipped: 1 });
    await stores.jobs.complete({
      jobId: running?.id ?? '',
      leaseId: running?.leaseId ?? '',
      result: 1,
    });
    clock.advance(10_000);
    expect(await s.runOnce()).toMatchObject({ fired: 1, skipped: 0 });
    expect((await firesOf('slow')).map((f) => f.fireAt)).toEqual([T0 + 10_000, T0 + 30_000]);
  });

  it('refuses bad cron and time zone input on PostgreSQL too, storing nothing', async () => {
    const { s, stores } = scheduler('input');
    await expect(
      s.scheduleRecurring({ name: 'x', cron: '0 0 30 2 *', handler: 'h' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'cron' });
    await expect(
      s.scheduleRecurring({ name: 'x', cron: '0 9 * * *', timezone: 'Nowhere/City', handler: 'h' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_ERROR', field: 'timezone' });
    expect(await stores.schedules.get('x')).toBeUndefined();
  });
});
