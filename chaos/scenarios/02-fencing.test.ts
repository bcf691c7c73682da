import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { createChaosWorker } from '../src/chaos-worker.js';
import { checkOracle, oracleViolations } from '../src/oracle.js';
import { pause, report, until } from '../src/report.js';
import { WorkerProcess } from '../src/worker-process.js';
import { enqueueWorkload, unfinished, workloadJobIds } from '../src/workload.js';

const LEASE_MS = 2000;
let db: ChaosDatabase;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  db = await startChaosDatabase();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await db?.close();
});

function spawn(workerId: string): WorkerProcess {
  const w = new WorkerProcess({
    url: db.url,
    workerId,
    leaseMs: LEASE_MS,
    heartbeatIntervalMs: 400,
    pollIntervalMs: 200,
    maxConcurrent: 50,
  });
  workers.push(w);
  return w;
}

async function heldBy(runnerId: string): Promise<{ id: string; lease_id: string }[]> {
  const { rows } = await db.pool.query<{ id: string; lease_id: string }>(
    `SELECT id, lease_id FROM flowmonkey.jobs WHERE status = 'running' AND runner_id = $1`,
    [runnerId],
  );
  return rows;
}

describe('scenario 2: fencing (a worker SIGSTOPped past its lease)', () => {
  it('refuses every write of the stale worker; each parent execution resumes once', async () => {
    const rounds = size(1, 5);
    const totals = { held: 0, staleWritesAccepted: 0, staleLeaseLost: 0, staleCompleted: 0 };
    const control = createChaosWorker({
      url: db.url,
      workerId: 'control',
      leaseMs: LEASE_MS,
      heartbeatIntervalMs: 400,
      pollIntervalMs: 200,
      maxConcurrent: 1,
      reaper: { stalledThresholdMs: LEASE_MS, checkIntervalMs: 200 },
    });
    const jobIds: string[] = [];
    const executionIds: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const stale = spawn(`stale-${round}`);
      await stale.next('ready');
      const workload = await enqueueWorkload(control, {
        plain: 10,
        executions: 10,
        workMs: [1500, 1500],
      });
      executionIds.push(...workload.executionIds);
      // Held and started, so that every stale lease is a running handler's: a job still in
      // the runner's prefetch buffer when it stops has no handler to abort or write (it is
      // only reported lost, unstarted, once a heartbeat finds its lease gone).
      await until(
        'stale worker holds all 20 and runs their handlers',
        async () =>
          (await heldBy(`stale-${round}`)).length === 20 &&
          new Set(stale.events.filter((e) => e.event === 'started').map((e) => e.jobId)).size ===
            20,
        15_000,
        50,
      );
      const leases = await heldBy(`stale-${round}`);
      totals.held += leases.length;
      stale.signal('SIGSTOP');
      control.reaper?.start();
      const rescuer = spawn(`rescuer-${round}`);
      await until(
        'rescuer finished every job',
        async () => (await unfinished(db.pool, workload)) === 0,
        30_000,
        100,
      );
      await control.reaper?.stop();
      stale.signal('SIGCONT');
      // Give the stale worker time to try its writes (its timers all fire on SIGCONT).
      await until(
        'stale worker saw every lease lost',
        () => stale.events.filter((e) => e.event === 'lease-lost').length >= 20,
        10_000,
        50,
      );
      await pause(500);
      // Writes under a stale lease other than its claim, its start (written while it held),
      // the reset that took it, and the stale runner's own record of the refusal.
      const { rows } = await db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM flowmonkey.job_events e
          JOIN unnest($1::uuid[], $2::uuid[]) AS l(id, lease_id) ON e.job_id = l.id AND e.lease_id = l.lease_id
          WHERE e.kind NOT IN ('claimed', 'started', 'reset', 'lease-lost')`,
        [leases.map((l) => l.id), leases.map((l) => l.lease_id)],
      );
      totals.staleWritesAccepted += Number(rows[0]?.n ?? 0);
      totals.staleLeaseLost += stale.events.filter((e) => e.event === 'lease-lost').length;
      totals.staleCompleted += stale.events.filter((e) => e.event === 'completed').length;
      jobIds.push(...(await workloadJobIds(db.pool, workload)));
      await Promise.all([stale.kill(), rescuer.kill()]);
    }
    await control.stop();
    const figures = await checkOracle(db.pool, { jobIds, executionIds, steps: ['a', 'b', 'done'] });
    report('02-fencing', { ...figures, rounds, faults: rounds, ...totals });
    expect(oracleViolations(figures)).toEqual([]);
    expect(totals.staleWritesAccepted).toBe(0);
    expect(totals.staleLeaseLost).toBe(totals.held);
  });
});
