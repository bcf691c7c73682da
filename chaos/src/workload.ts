import type { Engine } from '@flowmonkey/core';
import type { PgStores } from '@flowmonkey/postgres';
import type pg from 'pg';
import { WORK_JOB } from './chaos-worker.js';

/** What {@link enqueueWorkload} created. */
export interface Workload {
  /** Ids of the plain jobs. */
  plainJobIds: string[];
  /** Ids of the executions of `chaos-flow` (their step jobs appear as they run). */
  executionIds: string[];
}

/**
 * Creates `plain` plain jobs (in batches, `maxAttempts` 25) and starts `executions`
 * executions of `chaos-flow`, each handler working a random time in `workMs`.
 */
export async function enqueueWorkload(
  world: { stores: PgStores; engine: Engine },
  params: { plain: number; executions: number; workMs: [number, number]; runAt?: number },
): Promise<Workload> {
  const [min, max] = params.workMs;
  const workMs = () => Math.round(min + Math.random() * (max - min));
  const plainJobIds: string[] = [];
  for (let done = 0; done < params.plain; done += 1000) {
    const batch = Array.from({ length: Math.min(1000, params.plain - done) }, () => ({
      handler: WORK_JOB,
      input: { workMs: workMs() },
      maxAttempts: 25,
      ...(params.runAt === undefined ? {} : { runAt: params.runAt }),
    }));
    const jobs = await world.stores.jobs.createMany(batch);
    plainJobIds.push(...jobs.map((j) => j.id));
  }
  const executionIds: string[] = [];
  for (let i = 0; i < params.executions; i++) {
    const execution = await world.engine.start('chaos-flow', { workMs: workMs() });
    executionIds.push(execution.id);
  }
  return { plainJobIds, executionIds };
}

/** Every job of the workload: its plain jobs and the step jobs of its executions. */
export async function workloadJobIds(pool: pg.Pool, w: Workload): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    'SELECT id FROM flowmonkey.jobs WHERE execution_id = ANY($1::text[])',
    [w.executionIds],
  );
  return [...w.plainJobIds, ...rows.map((r) => r.id)];
}

/** Counts the workload's jobs that are not terminal yet (unstarted steps count too). */
export async function unfinished(pool: pg.Pool, w: Workload): Promise<number> {
  const { rows } = await pool.query<{ jobs: string; execs: string }>(
    `SELECT (SELECT count(*) FROM flowmonkey.jobs WHERE id = ANY($1::uuid[])
               AND status NOT IN ('completed', 'failed', 'cancelled')) AS jobs,
            (SELECT count(*) FROM flowmonkey.executions WHERE id = ANY($2::text[])
               AND status NOT IN ('completed', 'failed', 'cancelled')) AS execs`,
    [w.plainJobIds, w.executionIds],
  );
  return Number(rows[0]?.jobs ?? 0) + Number(rows[0]?.execs ?? 0);
}
