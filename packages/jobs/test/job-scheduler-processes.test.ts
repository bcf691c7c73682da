import { noopLogger } from '@flowmonkey/core';
import { createPgStores } from '@flowmonkey/postgres';
import { useTestDatabase } from '@flowmonkey/postgres/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { JobScheduler } from '../src/job-scheduler.js';
import { SchedulerProcess } from './fixtures/scheduler-process.js';

const db = useTestDatabase();
const processes: SchedulerProcess[] = [];

afterEach(async () => {
  for (const p of processes.splice(0)) {
    if (p.running) {
      p.kill('SIGKILL');
      await p.exited;
    }
  }
});

function spawnScheduler(id: string): SchedulerProcess {
  const p = new SchedulerProcess({ databaseUrl: db().connectionString, schedulerId: id });
  processes.push(p);
  return p;
}

/**
 * Polls `check` every 20 ms until it returns a value other than `undefined`. Real time
 * must pass here: the schedulers are separate processes on the database's clock.
 */
async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function fireCount(): Promise<number> {
  const { rows } = await db().pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM flowmonkey.schedule_fires WHERE schedule_name = 'every-second'`,
  );
  return Number(rows[0]?.n);
}

/** The holder of a live (unexpired, in database time) leadership lease, if any. */
async function liveHolder(): Promise<string | undefined> {
  const { rows } = await db().pool.query<{ holder_id: string }>(
    `SELECT holder_id FROM flowmonkey.leader_leases WHERE name = 'scheduler' AND expires_at > now()`,
  );
  return rows[0]?.holder_id;
}

describe('JobScheduler across processes (PostgreSQL)', () => {
  it('SIGKILLing the leader repeatedly: exactly one job per second, no second missed', async () => {
    const stores = createPgStores({ pool: db().pool });
    const admin = new JobScheduler({
      jobStore: stores.jobs,
      scheduleStore: stores.schedules,
      logger: noopLogger,
    });
    await admin.scheduleRecurring({ name: 'every-second', cron: '* * * * * *', handler: 'h' });
    let serial = 0;
    const alive = () => processes.filter((p) => p.running);
    for (let i = 0; i < 3; i++) spawnScheduler(`proc-${++serial}`);
    await Promise.all(processes.map((p) => p.next('ready')));
    const killedIds: string[] = [];
    // Kill at different offsets into the second, so crashes land before, on and after a tick.
    for (const offsetMs of [50, 500, 950, 0, 700]) {
      const before = await fireCount();
      await until('two more ticks', async () =>
        (await fireCount()) >= before + 2 ? true : undefined,
      );
      await until(`${offsetMs} ms into a second`, async () =>
        (Date.now() - offsetMs + 1000) % 1000 < 40 ? true : undefined,
      );
      // The lease of a killed leader lingers until it lapses: wait for a live process to hold it.
      const leader = await until('a live leader', async () => {
        const holder = await liveHolder();
        return alive().find((p) => p.schedulerId === holder);
      });
      const holder = leader.schedulerId;
      leader.kill('SIGKILL');
      await leader.exited;
      killedIds.push(holder);
      spawnScheduler(`proc-${++serial}`);
    }
    // The last leader died too: a survivor must take over and catch up.
    const afterLastKill = await fireCount();
    await until('ticks after the last kill', async () =>
      (await fireCount()) >= afterLastKill + 3 ? true : undefined,
    );
    for (const p of alive()) p.kill('SIGTERM');
    await Promise.all(processes.map((p) => p.exited));

    expect(new Set(killedIds).size).toBe(5);
    const { rows } = await db().pool.query<{ fire_ms: string; jobs: string }>(
      `SELECT floor(extract(epoch FROM f.fire_at) * 1000)::bigint AS fire_ms,
          (SELECT count(*) FROM flowmonkey.jobs j
            WHERE j.correlation_id = 'schedule:every-second' AND j.run_at = f.fire_at) AS jobs
        FROM flowmonkey.schedule_fires f WHERE f.schedule_name = 'every-second'
        ORDER BY f.fire_at`,
    );
    const fires = rows.map((r) => Number(r.fire_ms));
    expect(fires.length).toBeGreaterThanOrEqual(10);
    const first = fires[0] ?? 0;
    expect(fires).toEqual(fires.map((_, i) => first + i * 1000));
    expect(rows.every((r) => Number(r.jobs) === 1)).toBe(true);
    const { rows: jobs } = await db().pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM flowmonkey.jobs WHERE correlation_id = 'schedule:every-second'`,
    );
    expect(Number(jobs[0]?.n)).toBe(fires.length);
  }, 90_000);
});
