import { noopLogger } from '@flowmonkey/core';
import { ExecutionSweeper } from '@flowmonkey/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { createChaosWorker } from '../src/chaos-worker.js';
import { checkOracle, oracleViolations } from '../src/oracle.js';
import { report, until } from '../src/report.js';
import { TcpProxy } from '../src/tcp-proxy.js';
import { enqueueWorkload, unfinished, workloadJobIds } from '../src/workload.js';

const LEASE_MS = 2000;
let db: ChaosDatabase;
let proxy: TcpProxy;
beforeAll(async () => {
  db = await startChaosDatabase();
  proxy = new TcpProxy({ host: '127.0.0.1', port: db.server.port });
  await proxy.start();
});
afterAll(async () => {
  await proxy?.stop();
  await db?.close();
});

describe('scenario 4: lost acknowledgement of a completion COMMIT', () => {
  it('ends each job in one terminal state and moves each step once', async () => {
    const cuts = size(30, 200);
    const control = createChaosWorker({
      url: db.url,
      workerId: 'control',
      leaseMs: LEASE_MS,
      heartbeatIntervalMs: 400,
      pollIntervalMs: 200,
      maxConcurrent: 1,
      reaper: { stalledThresholdMs: LEASE_MS, checkIntervalMs: 200 },
    });
    const sweeper = new ExecutionSweeper({
      engine: control.engine,
      intervalMs: 200,
      recoverAfterMs: 1000,
      logger: noopLogger,
    });
    const worker = createChaosWorker({
      url: proxy.url(db.url),
      workerId: 'acked',
      leaseMs: LEASE_MS,
      heartbeatIntervalMs: 400,
      pollIntervalMs: 200,
      maxConcurrent: 8,
    });
    const workload = await enqueueWorkload(control, {
      plain: 0,
      executions: size(80, 500),
      workMs: [20, 80],
    });
    control.reaper?.start();
    sweeper.start();
    // The first `cuts` COMMITs of the worker's transactions (its completions) lose their answer.
    proxy.cutAfterCommit(cuts);
    await worker.start();
    const drainMs = await until(
      'every execution finished',
      async () => (await unfinished(db.pool, workload)) === 0,
      60_000,
    );
    await Promise.all([worker.stop(), sweeper.stop(), control.stop()]);
    const figures = await checkOracle(db.pool, {
      jobIds: await workloadJobIds(db.pool, workload),
      executionIds: workload.executionIds,
      steps: ['a', 'b', 'done'],
    });
    const stats = worker.runner.stats();
    report('04-lost-ack', {
      ...figures,
      faults: proxy.commitsCut,
      storeErrorsSeenByRunner: stats.storeErrors,
      drainMs,
    });
    expect(oracleViolations(figures)).toEqual([]);
    expect(proxy.commitsCut).toBe(cuts);
  });
});
