import { noopLogger } from '@flowmonkey/core';
import { ExecutionSweeper } from '@flowmonkey/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { createChaosWorker } from '../src/chaos-worker.js';
import { checkOracle, oracleViolations } from '../src/oracle.js';
import { pause, report, until } from '../src/report.js';
import { WorkerProcess } from '../src/worker-process.js';
import { enqueueWorkload, unfinished, workloadJobIds } from '../src/workload.js';

const LEASE_MS = 2000;
const REAPER = { stalledThresholdMs: LEASE_MS, checkIntervalMs: 500 };

let db: ChaosDatabase;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  db = await startChaosDatabase();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await db?.close();
});

function spawnWorker(n: number): WorkerProcess {
  const w = new WorkerProcess({
    url: db.url,
    workerId: `churn-${n}`,
    leaseMs: LEASE_MS,
    heartbeatIntervalMs: 400,
    pollIntervalMs: 250,
    maxConcurrent: 10,
  });
  workers.push(w);
  return w;
}

describe('scenario 1: kill churn (SIGKILL of worker processes)', () => {
  it('loses nothing, completes nothing twice, leaves nothing running after threshold + reaper interval', async () => {
    const total = size(5000, 20_000);
    const churnMs = size(20_000, 60_000);
    const control = createChaosWorker({
      url: db.url,
      workerId: 'control',
      leaseMs: LEASE_MS,
      heartbeatIntervalMs: 400,
      pollIntervalMs: 250,
      maxConcurrent: 1,
      reaper: REAPER,
    });
    // As deployed: a worker killed after committing a step job's completion, before the
    // execution's next step is written, leaves the execution `running`; the sweeper's
    // recoverStale runs it on (see Engine.recoverStale).
    const sweeper = new ExecutionSweeper({
      engine: control.engine,
      intervalMs: 250,
      recoverAfterMs: 1000,
      logger: noopLogger,
    });
    const executions = Math.round(total / 20);
    const workload = await enqueueWorkload(control, {
      plain: total - executions * 2,
      executions,
      workMs: [20, size(300, 240)],
    });
    control.reaper?.start();
    sweeper.start();
    let n = 0;
    const alive = () => workers.filter((w) => w.alive);
    await Promise.all(Array.from({ length: 4 }, () => spawnWorker(n++).next('ready')));
    let kills = 0;
    const killed: string[] = [];
    const started = Date.now();
    while (Date.now() - started < churnMs) {
      await pause(2000);
      const pool = alive();
      const victim = pool[Math.floor(Math.random() * pool.length)];
      if (victim === undefined) continue;
      await victim.kill();
      kills++;
      killed.push(`churn-${workers.indexOf(victim)}`);
      spawnWorker(n++);
    }
    const lastKill = Date.now();
    // Nothing may stay running under a dead runner past threshold + reaper interval.
    await pause(REAPER.stalledThresholdMs + REAPER.checkIntervalMs + 1000);
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM flowmonkey.jobs WHERE status = 'running' AND runner_id = ANY($1)`,
      [killed],
    );
    const heldByDead = Number(rows[0]?.n ?? 0);
    const drainMs = await until(
      'all jobs terminal',
      async () => (await unfinished(db.pool, workload)) === 0,
      120_000,
      250,
    );
    const recoveryMs = Date.now() - lastKill;
    await control.reaper?.stop();
    await sweeper.stop();
    await control.stop();
    const jobIds = await workloadJobIds(db.pool, workload);
    const figures = await checkOracle(db.pool, {
      jobIds,
      executionIds: workload.executionIds,
      steps: ['a', 'b', 'done'],
    });
    report('01-kill-churn', {
      ...figures,
      workers: 4,
      faults: kills,
      runningUnderDeadRunner: heldByDead,
      churnMs,
      drainAfterChurnMs: drainMs,
      recoveryMs,
    });
    expect(oracleViolations(figures)).toEqual([]);
    expect(heldByDead).toBe(0);
    expect(kills).toBeGreaterThanOrEqual(Math.floor(churnMs / 2000) - 1);
  });
});
