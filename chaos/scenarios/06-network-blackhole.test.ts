import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { createChaosWorker } from '../src/chaos-worker.js';
import { checkOracle, oracleViolations } from '../src/oracle.js';
import { pause, report, until } from '../src/report.js';
import { TcpProxy } from '../src/tcp-proxy.js';
import { WorkerProcess } from '../src/worker-process.js';
import { enqueueWorkload, unfinished, workloadJobIds } from '../src/workload.js';

const LEASE_MS = 2000;
const POLL_MS = 1000;
let db: ChaosDatabase;
let proxy: TcpProxy;
const workers: WorkerProcess[] = [];
beforeAll(async () => {
  db = await startChaosDatabase();
  proxy = new TcpProxy({ host: '127.0.0.1', port: db.server.port });
  await proxy.start();
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.kill()));
  await proxy?.stop();
  await db?.close();
});

function spawn(workerId: string, url: string): WorkerProcess {
  const w = new WorkerProcess({
    url,
    workerId,
    leaseMs: LEASE_MS,
    heartbeatIntervalMs: 400,
    pollIntervalMs: POLL_MS,
    listenHealthMs: 400,
    maxConcurrent: 20,
  });
  workers.push(w);
  return w;
}

describe('scenario 6: network black-hole of one worker for twice its lease', () => {
  it('aborts its handlers before their leases are reassigned; each job runs again once', async () => {
    const rounds = size(1, 5);
    const f = { held: 0, abortedBeforeReset: 0, abortedLate: 0, notAborted: 0, listenLostMs: 0 };
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
    const heldIds: string[] = [];
    const executionIds: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const cut = spawn(`cut-${round}`, proxy.url(db.url));
      await cut.next('ready');
      const workload = await enqueueWorkload(control, {
        plain: 10,
        executions: 5,
        workMs: [4000, 4000],
      });
      executionIds.push(...workload.executionIds);
      // Held and started, as in scenario 2: a job still in the prefetch buffer has no
      // handler to abort.
      await until(
        'the cut-off worker holds all 15 and runs their handlers',
        async () => {
          const { rows } = await db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM flowmonkey.jobs WHERE status = 'running' AND runner_id = $1`,
            [`cut-${round}`],
          );
          const started = new Set(
            cut.events.filter((e) => e.event === 'started').map((e) => e.jobId),
          );
          return Number(rows[0]?.n) === 15 && started.size === 15;
        },
        15_000,
        50,
      );
      const { rows: held } = await db.pool.query<{ id: string }>(
        `SELECT id FROM flowmonkey.jobs WHERE status = 'running' AND runner_id = $1`,
        [`cut-${round}`],
      );
      f.held += held.length;
      heldIds.push(...held.map((h) => h.id));
      const holeAt = Date.now();
      proxy.blackhole();
      control.reaper?.start();
      const rescuer = spawn(`rescuer-${round}`, db.url);
      await pause(LEASE_MS * 2);
      proxy.heal();
      await until(
        'every job finished',
        async () => (await unfinished(db.pool, workload)) === 0,
        30_000,
      );
      await control.reaper?.stop();
      const lost = cut.events.find((e) => e.event === 'listen-lost' && Number(e.at) >= holeAt);
      f.listenLostMs = Math.max(
        f.listenLostMs,
        lost === undefined ? Number.POSITIVE_INFINITY : Number(lost.at) - holeAt,
      );
      const { rows: resets } = await db.pool.query<{ job_id: string; at: Date }>(
        `SELECT job_id, min(at) AS at FROM flowmonkey.job_events WHERE kind = 'reset' AND job_id = ANY($1::uuid[]) GROUP BY job_id`,
        [held.map((h) => h.id)],
      );
      for (const { id } of held) {
        const abort = cut.events.find((e) => e.event === 'aborted' && e.jobId === id);
        const reset = resets.find((r) => r.job_id === id);
        if (abort === undefined) f.notAborted++;
        else if (reset === undefined || Number(abort.at) < reset.at.getTime())
          f.abortedBeforeReset++;
        else f.abortedLate++;
      }
      jobIds.push(...(await workloadJobIds(db.pool, workload)));
      await Promise.all([cut.kill(), rescuer.kill()]);
    }
    await control.stop();
    const figures = await checkOracle(db.pool, { jobIds, executionIds, steps: ['a', 'b', 'done'] });
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM flowmonkey.jobs WHERE id = ANY($1::uuid[]) AND attempts <> 2`,
      [heldIds],
    );
    const ranOtherThanTwice = Number(rows[0]?.n);
    report('06-network-blackhole', {
      ...figures,
      rounds,
      faults: rounds,
      blackholeMs: LEASE_MS * 2,
      ...f,
      ranOtherThanTwice,
      pollIntervalMs: POLL_MS,
    });
    expect(oracleViolations(figures)).toEqual([]);
    expect([f.notAborted, f.abortedLate, ranOtherThanTwice]).toEqual([0, 0, 0]);
    expect(f.listenLostMs).toBeLessThanOrEqual(POLL_MS);
  });
});
