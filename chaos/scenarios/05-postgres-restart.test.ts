import { noopLogger } from '@flowmonkey/core';
import { ExecutionSweeper } from '@flowmonkey/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { createChaosWorker } from '../src/chaos-worker.js';
import { checkOracle, oracleViolations } from '../src/oracle.js';
import { pause, report, until } from '../src/report.js';
import { WorkerProcess } from '../src/worker-process.js';
import { enqueueWorkload, unfinished, workloadJobIds } from '../src/workload.js';

const LEASE_MS = 4000;
let db: ChaosDatabase;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  db = await startChaosDatabase();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await db?.close();
});

/** True once a job was claimed after `since` (epoch ms); false while the database is down. */
async function claimedSince(since: number): Promise<boolean> {
  try {
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM flowmonkey.job_events WHERE kind = 'claimed' AND at > $1`,
      [new Date(since)],
    );
    return Number(rows[0]?.n) > 0;
  } catch {
    return false;
  }
}

describe('scenario 5: PostgreSQL immediate restarts under load', () => {
  it('resumes claiming within 15 s of each restart and loses nothing', async () => {
    const restarts = size(3, 10);
    const control = createChaosWorker({
      url: db.url,
      workerId: 'control',
      leaseMs: LEASE_MS,
      heartbeatIntervalMs: 500,
      pollIntervalMs: 250,
      maxConcurrent: 1,
      reaper: { stalledThresholdMs: LEASE_MS, checkIntervalMs: 500 },
    });
    const sweeper = new ExecutionSweeper({
      engine: control.engine,
      intervalMs: 500,
      recoverAfterMs: 2000,
      logger: noopLogger,
    });
    const workload = await enqueueWorkload(control, {
      plain: size(2000, 6000),
      executions: size(200, 600),
      workMs: [50, 150],
    });
    for (const id of ['pg-a', 'pg-b']) {
      const w = new WorkerProcess({
        url: db.url,
        workerId: id,
        leaseMs: LEASE_MS,
        heartbeatIntervalMs: 500,
        pollIntervalMs: 250,
        maxConcurrent: 10,
      });
      workers.push(w);
      await w.next('ready');
    }
    control.reaper?.start();
    sweeper.start();
    const resumeMs: number[] = [];
    for (let i = 0; i < restarts; i++) {
      await pause(1500);
      await db.server.crash();
      await pause(500);
      await db.server.restart();
      const back = Date.now();
      resumeMs.push(await until('claiming resumed', () => claimedSince(back), 15_000, 100));
    }
    const drainMs = await until(
      'every job finished',
      async () => (await unfinished(db.pool, workload).catch(() => 1)) === 0,
      120_000,
      250,
    );
    await Promise.all([sweeper.stop(), control.stop()]);
    const figures = await checkOracle(db.pool, {
      jobIds: await workloadJobIds(db.pool, workload),
      executionIds: workload.executionIds,
      steps: ['a', 'b', 'done'],
    });
    report('05-postgres-restart', {
      ...figures,
      faults: restarts,
      workersAlive: workers.filter((w) => w.alive).length,
      maxClaimResumeMs: Math.max(...resumeMs),
      claimResumeMs: resumeMs.join(' / '),
      drainAfterLastRestartMs: drainMs,
    });
    expect(oracleViolations(figures)).toEqual([]);
    expect(Math.max(...resumeMs)).toBeLessThanOrEqual(15_000);
    expect(workers.every((w) => w.alive)).toBe(true);
  });
});
