import { JobScheduler } from '@flowmonkey/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { createChaosWorker } from '../src/chaos-worker.js';
import { pause, report, until } from '../src/report.js';
import { WorkerProcess } from '../src/worker-process.js';

let db: ChaosDatabase;
const schedulers: WorkerProcess[] = [];
beforeAll(async () => {
  db = await startChaosDatabase();
});
afterAll(async () => {
  await Promise.all(schedulers.map((s) => s.kill()));
  await db?.close();
});

function spawn(n: number): WorkerProcess {
  const s = new WorkerProcess(
    { url: db.url, schedulerId: `sched-${n}`, tickIntervalMs: 200, leaseMs: 1000 },
    'scheduler',
  );
  schedulers.push(s);
  return s;
}

async function leader(): Promise<string | undefined> {
  const { rows } = await db.pool.query<{ holder_id: string }>(
    'SELECT holder_id FROM flowmonkey.leader_leases WHERE expires_at > now()',
  );
  return rows[0]?.holder_id;
}

describe('scenario 8: scheduler churn (the leader SIGKILLed across tick boundaries)', () => {
  it('creates exactly one job per tick', async () => {
    const churnMs = size(20_000, 60_000);
    const control = createChaosWorker({
      url: db.url,
      workerId: 'control',
      leaseMs: 2000,
      heartbeatIntervalMs: 400,
      pollIntervalMs: 200,
      maxConcurrent: 1,
    });
    const admin = new JobScheduler({
      jobStore: control.stores.jobs,
      scheduleStore: control.stores.schedules,
    });
    await admin.scheduleRecurring({
      name: 'every-second',
      cron: '* * * * * *',
      handler: 'chaos.tick',
    });
    let n = 0;
    await Promise.all([spawn(n++), spawn(n++), spawn(n++)].map((s) => s.next('ready')));
    const started = Date.now();
    let kills = 0;
    while (Date.now() - started < churnMs) {
      await pause(2000 + Math.random() * 1000);
      const holder = await leader();
      const victim = schedulers.find((s) => s.alive && `sched-${schedulers.indexOf(s)}` === holder);
      if (victim === undefined) continue;
      await victim.kill();
      kills++;
      spawn(n++);
    }
    const endedAt = Date.now();
    // Let the surviving leader catch up on ticks missed during the last failover.
    await until(
      'ticks up to the end of the churn fired',
      async () => {
        const { rows } = await db.pool.query<{ at: Date | null }>(
          `SELECT max(fire_at) AS at FROM flowmonkey.schedule_fires WHERE schedule_name = 'every-second'`,
        );
        return (rows[0]?.at?.getTime() ?? 0) >= endedAt;
      },
      15_000,
    );
    await Promise.all(schedulers.map((s) => s.kill()));
    await control.stop();
    const { rows } = await db.pool.query<{
      fires: string;
      distinct_fires: string;
      first: Date;
      last: Date;
      jobs: string;
    }>(
      `SELECT count(*) AS fires, count(DISTINCT fire_at) AS distinct_fires, min(fire_at) AS first, max(fire_at) AS last,
              (SELECT count(*) FROM flowmonkey.jobs WHERE handler = 'chaos.tick') AS jobs
         FROM flowmonkey.schedule_fires WHERE schedule_name = 'every-second'`,
    );
    const r = rows[0];
    const expected =
      r === undefined ? 0 : Math.round((r.last.getTime() - r.first.getTime()) / 1000) + 1;
    const fires = Number(r?.fires);
    const jobs = Number(r?.jobs);
    report('08-scheduler-churn', {
      schedulers: 3,
      faults: kills,
      ticks: expected,
      fires,
      jobs,
      missingTicks: expected - Number(r?.distinct_fires),
      duplicateJobs: jobs - Number(r?.distinct_fires),
    });
    expect(kills).toBeGreaterThan(0);
    expect([fires, jobs]).toEqual([expected, expected]);
  });
});
