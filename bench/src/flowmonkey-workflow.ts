import {
  defineFlow,
  Engine,
  type Flow,
  noopLogger,
  Result,
  type StepHandler,
} from '@flowmonkey/core';
import { BasicJobRunner } from '@flowmonkey/jobs';
import { createPgStores, JobListener } from '@flowmonkey/postgres';
import pg from 'pg';
import type { BenchJob } from './adapter.js';
import { BATCH, PREFETCH } from './flowmonkey-settings.js';

/** The benchmark flow's handlers; `onDone` is called by the last (inline) step. */
export function workflowHandlers(onDone: (job: BenchJob) => void): StepHandler[] {
  const prepare: StepHandler<BenchJob> = {
    type: 'bench-prepare',
    metadata: {},
    async execute({ input }) {
      return Result.success({ i: input.i, prepared: true });
    },
  };
  const work: StepHandler<BenchJob> = {
    type: 'bench-stateful',
    metadata: { stateful: true },
    async execute({ input }) {
      return Result.success({ i: input.i, worked: true });
    },
  };
  const finish: StepHandler<BenchJob> = {
    type: 'bench-finish',
    metadata: {},
    async execute({ input }) {
      onDone({ i: input.i });
      return Result.success(null);
    },
  };
  return [prepare, work, finish] as StepHandler[];
}

/** Three steps: inline, stateful (a job run by a worker), inline. */
export const benchFlow: Flow = defineFlow({
  id: 'bench',
  version: 1,
  initialStepId: 'prepare',
  steps: {
    prepare: { type: 'bench-prepare', input: 'input', transitions: { onSuccess: 'work' } },
    work: { type: 'bench-stateful', input: 'prepare', transitions: { onSuccess: 'finish' } },
    finish: { type: 'bench-finish', input: 'work' },
  },
});

/** A worker that runs the flow's stateful step (see {@link openWorkflowWorker}). */
export interface WorkflowWorker {
  /** Starts the runner (and, the first time, the listener). */
  start: () => Promise<void>;
  /** Stops the runner gracefully, keeping the pool and listener, for a later `start`. */
  pause: () => Promise<void>;
  /** Stops everything and ends the pool. */
  close: () => Promise<void>;
  /** The worker's pool (for the studies' own queries on its connections). */
  pool: pg.Pool;
}

/** Builds a worker that runs the flow's stateful step, not started. */
export async function openWorkflowWorker(
  url: string,
  concurrency: number,
  onDone: (job: BenchJob) => void,
): Promise<WorkflowWorker> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // As the plain-jobs adapter's: a database dropped right after `close()` ends connections
  // the pool has let go, and that error would otherwise end the process.
  pool.on('error', () => {});
  const stores = createPgStores({ pool });
  const engine = new Engine({ stores, handlers: workflowHandlers(onDone), flows: [benchFlow] });
  const listener = new JobListener({ pool });
  const runner = new BasicJobRunner({
    jobStore: stores.jobs,
    engine,
    wakeups: listener,
    maxConcurrent: concurrency,
    batchSize: BATCH,
    prefetch: PREFETCH,
    logger: noopLogger,
  });
  let listening = false;
  return {
    start: async () => {
      if (!listening) await listener.start();
      listening = true;
      await runner.start();
    },
    pause: () => runner.stop({ graceful: true, timeoutMs: 2000 }),
    close: async () => {
      await runner.stop({ graceful: true, timeoutMs: 2000 });
      await listener.stop();
      await pool.end();
    },
    pool,
  };
}

/**
 * Starts executions of the flow on `pool` from `producers` concurrent callers, numbering
 * their inputs from `from` on across calls: `startUpTo(count)` starts them until `count`
 * have been started in all. `flush` sends the wake-ups still held.
 */
export function executionStarter(
  pool: pg.Pool,
  producers: number,
  from = 0,
): { startUpTo: (count: number) => Promise<void>; flush: () => Promise<void> } {
  const stores = createPgStores({ pool });
  const engine = new Engine({ stores, handlers: workflowHandlers(() => {}), flows: [benchFlow] });
  let next = 0;
  return {
    startUpTo: async (count) => {
      await Promise.all(
        Array.from({ length: producers }, async () => {
          while (next < count) await engine.start('bench', { i: from + next++ });
        }),
      );
    },
    flush: () => stores.notifier.flush(),
  };
}

/**
 * Starts `n` executions, inputs `from` to `from + n - 1`, from `producers` concurrent
 * callers; returns how long it took (ms).
 */
export async function startExecutions(
  url: string,
  n: number,
  producers: number,
  from = 0,
): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: producers });
  const { startUpTo, flush } = executionStarter(pool, producers, from);
  const began = performance.now();
  await startUpTo(n);
  const ms = performance.now() - began;
  await flush();
  await pool.end();
  return ms;
}

/** Counts executions by status. */
export async function executionCounts(url: string): Promise<Record<string, number>> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ status: string; n: number }>(
      'SELECT status, count(*)::int AS n FROM flowmonkey.executions GROUP BY status',
    );
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  } finally {
    await client.end();
  }
}
