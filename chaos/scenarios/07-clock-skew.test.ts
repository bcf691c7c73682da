import { JobScheduler } from '@flowmonkey/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { createChaosWorker, FLAKY_JOB, WORK_JOB } from '../src/chaos-worker.js';
import { checkOracle, oracleViolations } from '../src/oracle.js';
import { report, until } from '../src/report.js';
import { WorkerProcess } from '../src/worker-process.js';

const LEASE_MS = 2000;
const SKEW_MS = 10 * 60_000;
const DELAY_MS = 3000;
const RETRY_MS = 2000;
let db: ChaosDatabase;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  db = await startChaosDatabase();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await db?.close();
});

describe('scenario 7: runners and schedulers whose clocks are 10 minutes ahead and behind', () => {
  it('reaps nothing early, runs no delayed job or retry early, fires each cron tick once', async () => {
    const control = createChaosWorker({
      url: db.url,
      workerId: 'control',
      leaseMs: LEASE_MS,
      heartbeatIntervalMs: 400,
      pollIntervalMs: 200,
      maxConcurrent: 1,
      reaper: { stalledThresholdMs: LEASE_MS, checkIntervalMs: 200 },
    });
    for (const [id, skew] of [
      ['ahead', SKEW_MS],
      ['behind', -SKEW_MS],
    ] as const) {
      const w = new WorkerProcess({
        url: db.url,
        workerId: id,
        leaseMs: LEASE_MS,
        heartbeatIntervalMs: 400,
        pollIntervalMs: 100,
        maxConcurrent: 20,
        clockSkewMs: skew,
      });
      workers.push(w);
      await w.next('ready');
    }
    for (const [id, skew] of [
      ['sched-ahead', SKEW_MS],
      ['sched-behind', -SKEW_MS],
    ] as const) {
      const s = new WorkerProcess(
        { url: db.url, schedulerId: id, tickIntervalMs: 200, leaseMs: 1000, clockSkewMs: skew },
        'scheduler',
      );
      workers.push(s);
      await s.next('ready');
    }
    const admin = new JobScheduler({
      jobStore: control.stores.jobs,
      scheduleStore: control.stores.schedules,
    });
    await admin.scheduleRecurring({
      name: 'skewed-ticks',
      cron: '* * * * * *',
      handler: 'chaos.tick',
    });
    control.reaper?.start();
    const n = size(40, 200);
    const { rows: now } = await db.pool.query<{ now: Date }>('SELECT now()');
    const dbNow = now[0]?.now.getTime() ?? Date.now();
    const delayed = await control.stores.jobs.createMany(
      Array.from({ length: n }, () => ({
        handler: WORK_JOB,
        input: { workMs: LEASE_MS * 2 },
        runAt: dbNow + DELAY_MS,
        maxAttempts: 5,
      })),
    );
    const flaky = await control.stores.jobs.createMany(
      Array.from({ length: n }, () => ({
        handler: FLAKY_JOB,
        input: { workMs: 100 },
        maxAttempts: 5,
        retry: { strategy: 'FIXED' as const, baseDelayMs: RETRY_MS, jitter: false },
      })),
    );
    const ids = [...delayed, ...flaky].map((j) => j.id);
    await until(
      'every job finished',
      async () => {
        const { rows } = await db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM flowmonkey.jobs WHERE id = ANY($1::uuid[]) AND status <> 'completed'`,
          [ids],
        );
        return Number(rows[0]?.n) === 0;
      },
      60_000,
    );
    await control.stop();
    const early = async (sql: string, values: unknown[]) => {
      const { rows } = await db.pool.query<{ n: string }>(sql, values);
      return Number(rows[0]?.n);
    };
    const delayedEarly = await early(
      `SELECT count(*) AS n FROM flowmonkey.job_events e JOIN flowmonkey.jobs j ON j.id = e.job_id
        WHERE e.job_id = ANY($1::uuid[]) AND e.kind = 'claimed' AND e.at < $2`,
      [delayed.map((j) => j.id), new Date(dbNow + DELAY_MS)],
    );
    const retriesEarly = await early(
      `SELECT count(*) AS n FROM flowmonkey.job_events c JOIN flowmonkey.job_events r
         ON r.job_id = c.job_id AND r.kind = 'retried' AND c.kind = 'claimed' AND c.attempt = r.attempt + 1
        WHERE c.job_id = ANY($1::uuid[]) AND c.at < r.at + $2 * interval '1 millisecond'`,
      [flaky.map((j) => j.id), RETRY_MS - 50],
    );
    const reaped = await early(
      `SELECT count(*) AS n FROM flowmonkey.job_events WHERE job_id = ANY($1::uuid[]) AND kind = 'reset'`,
      [ids],
    );
    const { rows: cron } = await db.pool.query<{
      fires: string;
      distinct_fires: string;
      early: string;
      span: string;
    }>(
      `SELECT count(*) AS fires, count(DISTINCT fire_at) AS distinct_fires,
              count(*) FILTER (WHERE created_at < fire_at) AS early,
              extract(epoch FROM max(fire_at) - min(fire_at))::int + 1 AS span
         FROM flowmonkey.schedule_fires WHERE schedule_name = 'skewed-ticks'`,
    );
    const c = cron[0];
    const cronTicks = Number(c?.fires);
    const cronDuplicated = cronTicks - Number(c?.distinct_fires);
    const cronMissing = Number(c?.span) - Number(c?.distinct_fires);
    const cronEarly = Number(c?.early);
    const figures = await checkOracle(db.pool, { jobIds: ids });
    report('07-clock-skew', {
      ...figures,
      skewMs: `+${SKEW_MS} / -${SKEW_MS}`,
      delayedJobsRunEarly: delayedEarly,
      retriesRunEarly: retriesEarly,
      prematureReaps: reaped,
      cronTicks,
      cronDuplicated,
      cronMissing,
      cronFiredEarly: cronEarly,
    });
    expect(oracleViolations(figures)).toEqual([]);
    expect([delayedEarly, retriesEarly, reaped]).toEqual([0, 0, 0]);
    expect(cronTicks).toBeGreaterThan(3);
    expect([cronDuplicated, cronMissing, cronEarly]).toEqual([0, 0, 0]);
  });
});
