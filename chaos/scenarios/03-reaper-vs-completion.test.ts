import type { Job, JobStore } from '@flowmonkey/core';
import { LeaseLostError, noopLogger } from '@flowmonkey/core';
import { JobReaper } from '@flowmonkey/jobs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { type ChaosWorker, createChaosWorker } from '../src/chaos-worker.js';
import { checkOracle, oracleViolations } from '../src/oracle.js';
import { report, until } from '../src/report.js';
import { enqueueWorkload, unfinished, type Workload, workloadJobIds } from '../src/workload.js';

let db: ChaosDatabase;
beforeAll(async () => {
  db = await startChaosDatabase();
});
afterAll(async () => {
  await db?.close();
});

/** Completes a claimed job as its handler's runner would: side effect, then the fenced write. */
async function complete(w: ChaosWorker, job: Job): Promise<'completed' | 'refused'> {
  const lease = { jobId: job.id, leaseId: job.leaseId ?? '' };
  await db.pool.query(
    'INSERT INTO chaos_side_effects (job_id, attempt, runner) VALUES ($1, $2, $3)',
    [job.id, job.attempts, 'racer'],
  );
  try {
    if (job.executionId === null) await w.stores.jobs.complete({ ...lease, result: 'raced' });
    else await w.engine.completeJob({ ...lease, result: 'raced' });
    return 'completed';
  } catch (error) {
    if (error instanceof LeaseLostError) return 'refused';
    throw error;
  }
}

/**
 * The reaper's store, with completions injected right after its read: the first half of
 * each page completes before the reaper writes (deterministically between its read and its
 * write), the other half races the reaper's writes.
 */
function racingStore(w: ChaosWorker, tally: { completed: number; refused: number }): JobStore {
  const inFlight: Promise<void>[] = [];
  const count = (r: 'completed' | 'refused') => {
    tally[r]++;
  };
  return new Proxy(w.stores.jobs, {
    get(target, prop) {
      if (prop === 'findStalled') {
        return async (params: Parameters<JobStore['findStalled']>[0]) => {
          const page = await target.findStalled(params);
          const half = Math.ceil(page.length / 2);
          for (const job of page.slice(0, half)) count(await complete(w, job));
          for (const job of page.slice(half)) inFlight.push(complete(w, job).then(count));
          return page;
        };
      }
      if (prop === 'settle') return () => Promise.all(inFlight.splice(0));
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('scenario 3: the reaper racing completions', () => {
  it('never moves a terminal job back to a non-terminal state', async () => {
    const rounds = size(40, 400);
    const w = createChaosWorker({
      url: db.url,
      workerId: 'after',
      leaseMs: 2000,
      heartbeatIntervalMs: 400,
      pollIntervalMs: 100,
      maxConcurrent: 20,
    });
    const tally = { completed: 0, refused: 0 };
    const store = racingStore(w, tally);
    const reaper = new JobReaper({
      jobStore: store,
      engine: w.engine,
      stalledThresholdMs: 60_000,
      batchSize: 10,
      logger: noopLogger,
    });
    const reaped = { reset: 0, lost: 0 };
    const workloads: Workload[] = [];
    for (let round = 0; round < rounds; round++) {
      const workload = await enqueueWorkload(w, { plain: 15, executions: 5, workMs: [0, 0] });
      workloads.push(workload);
      await w.stores.jobs.claimBatch({ runnerId: 'racer', limit: 100 });
      await db.pool.query(
        `UPDATE flowmonkey.jobs SET heartbeat_at = now() - interval '1 hour' WHERE status = 'running' AND runner_id = 'racer'`,
      );
      const counts = await reaper.runOnce();
      await (store as unknown as { settle(): Promise<void> }).settle();
      reaped.reset += counts.reset;
      reaped.lost += counts.lost;
    }
    // Whatever the reaper reset runs again on a real runner.
    await w.start();
    const all: Workload = {
      plainJobIds: workloads.flatMap((x) => x.plainJobIds),
      executionIds: workloads.flatMap((x) => x.executionIds),
    };
    await until('every job finished', async () => (await unfinished(db.pool, all)) === 0, 60_000);
    await w.stop();
    const figures = await checkOracle(db.pool, {
      jobIds: await workloadJobIds(db.pool, all),
      executionIds: all.executionIds,
      steps: ['a', 'b', 'done'],
    });
    report('03-reaper-vs-completion', {
      ...figures,
      races: tally.completed + tally.refused,
      faults: tally.completed + tally.refused,
      completionsWon: tally.completed,
      completionsRefused: tally.refused,
      reaperReset: reaped.reset,
      reaperLost: reaped.lost,
    });
    expect(oracleViolations(figures)).toEqual([]);
    expect(tally.completed + tally.refused).toBeGreaterThanOrEqual(rounds * 20);
    expect(reaped.reset + reaped.lost).toBe(tally.completed + tally.refused);
    expect(tally.completed).toBe(reaped.lost);
  });
});
