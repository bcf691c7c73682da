import { noopLogger } from '@flowmonkey/core';
import { JobReaper } from '@flowmonkey/jobs';
import { createPgStores } from '@flowmonkey/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { createChaosWorker } from '../src/chaos-worker.js';
import { checkOracle, oracleViolations } from '../src/oracle.js';
import { report, until } from '../src/report.js';

const LEASE_MS = 1500;

let db: ChaosDatabase;
beforeAll(async () => {
  db = await startChaosDatabase();
});
afterAll(async () => {
  await db?.close();
});

describe('scenario 9: pool starvation (handlers hold every pooled connection)', () => {
  it('heartbeats still get through on the reserved connection; no job is falsely reaped', async () => {
    const poolMax = 3;
    const worker = createChaosWorker({
      url: db.url,
      workerId: 'starved',
      leaseMs: LEASE_MS,
      heartbeatIntervalMs: 300,
      pollIntervalMs: 200,
      maxConcurrent: poolMax * 2,
      poolMax,
      reservedConnections: 1,
    });
    const holdMs = LEASE_MS * 3;
    // Each handler checks out a connection of the runner's pool and keeps it for 3 leases.
    worker.runner.registerHandler('chaos.hog', async (_input, ctx) => {
      const client = await worker.pool.connect();
      try {
        await client.query('SELECT pg_sleep($1)', [holdMs / 1000]);
        await client.query(
          'INSERT INTO chaos_side_effects (job_id, attempt, runner) VALUES ($1, $2, $3)',
          [ctx.job.id, ctx.attempt, 'starved'],
        );
      } finally {
        client.release();
      }
      return { held: holdMs };
    });
    const control = createPgStores({ pool: db.pool });
    const jobs = await control.jobs.createMany(
      Array.from({ length: size(12, 60) }, () => ({ handler: 'chaos.hog', maxAttempts: 25 })),
    );
    const reaper = new JobReaper({
      jobStore: control.jobs,
      stalledThresholdMs: LEASE_MS,
      checkIntervalMs: 200,
      logger: noopLogger,
    });
    let reaped = 0;
    const sweeps = setInterval(() => {
      void reaper.runOnce().then((c) => {
        reaped += c.reset + c.failed;
      });
    }, 200);
    await worker.start();
    const ids = jobs.map((j) => j.id);
    const drainMs = await until(
      'all hog jobs terminal',
      async () => {
        const { rows } = await db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM flowmonkey.jobs WHERE id = ANY($1::uuid[]) AND status NOT IN ('completed', 'failed', 'cancelled')`,
          [ids],
        );
        return Number(rows[0]?.n) === 0;
      },
      size(60_000, 240_000),
      200,
    );
    clearInterval(sweeps);
    const stats = worker.runner.stats();
    await worker.stop();
    const figures = await checkOracle(db.pool, { jobIds: ids });
    report('09-pool-starvation', {
      ...figures,
      poolConnections: poolMax,
      handlerSlots: poolMax * 2,
      connectionHeldMs: holdMs,
      leaseMs: LEASE_MS,
      falselyReaped: reaped,
      leaseLost: stats.leaseLost,
      drainMs,
    });
    expect(oracleViolations(figures)).toEqual([]);
    expect(reaped).toBe(0);
    expect(stats.leaseLost).toBe(0);
  });
});
