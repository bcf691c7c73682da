import {
  type Clock,
  defineFlow,
  Engine,
  noopLogger,
  Result,
  type StepHandler,
} from '@flowmonkey/core';
import { BasicJobRunner, JobReaper } from '@flowmonkey/jobs';
import { createPgStores, JobListener, type PgStores } from '@flowmonkey/postgres';
import pg from 'pg';

/** Handler type of the plain background jobs of the workload. */
export const WORK_JOB = 'chaos.work';
/** Handler type of plain jobs whose first attempt fails (then retried by the job's policy). */
export const FLAKY_JOB = 'chaos.flaky';
/** Handler type of the stateful steps of {@link chaosFlow}. */
export const STEP_JOB = 'chaos.step';

/** A flow of two stateful steps (`a`, `b`) then an inline `done`: three moves per execution. */
export const chaosFlow = defineFlow({
  id: 'chaos-flow',
  initialStepId: 'a',
  steps: {
    a: { type: STEP_JOB, input: 'input', maxAttempts: 25, transitions: { onSuccess: 'b' } },
    b: { type: STEP_JOB, input: 'input', maxAttempts: 25, transitions: { onSuccess: 'done' } },
    done: { type: 'chaos.done', input: 'input' },
  },
});

/** Input of a workload job or execution: how long the handler works, in ms. */
export interface WorkInput {
  workMs: number;
}

/** Settings of one runner of the workload. */
export interface ChaosWorkerOptions {
  url: string;
  workerId: string;
  leaseMs: number;
  heartbeatIntervalMs: number;
  pollIntervalMs: number;
  maxConcurrent: number;
  /** Connections of the runner's pool. @default 4 */
  poolMax?: number;
  /** Connections of a separate pool for lease heartbeats (0: none). @default 1 */
  reservedConnections?: number;
  /** Added to the runner's clock, in ms (a skewed machine). @default 0 */
  clockSkewMs?: number;
  /** LISTEN health-check interval in ms. @default pollIntervalMs / 2 */
  listenHealthMs?: number;
  /** Called with what the runner did worth reporting. */
  report?: (event: Record<string, unknown>) => void;
  /** Run a reaper in this process too, with this threshold and interval. */
  reaper?: { stalledThresholdMs: number; checkIntervalMs: number };
}

/** A runner of the workload with everything it owns. */
export interface ChaosWorker {
  runner: BasicJobRunner;
  stores: PgStores;
  engine: Engine;
  listener: JobListener;
  pool: pg.Pool;
  reaper: JobReaper | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}

/**
 * Builds a runner of the workload: plain `chaos.work` jobs and the stateful steps of
 * {@link chaosFlow}. Each handler works `input.workMs` (abortable), then writes its side
 * effect `(job id, attempt)` to `chaos_side_effects`, then returns.
 */
export function createChaosWorker(o: ChaosWorkerOptions): ChaosWorker {
  const report = o.report ?? (() => {});
  const pool = new pg.Pool({ connectionString: o.url, max: o.poolMax ?? 4 });
  pool.on('error', () => {});
  const reserved = o.reservedConnections ?? 1;
  const heartbeatPool =
    reserved > 0 ? new pg.Pool({ connectionString: o.url, max: reserved }) : undefined;
  heartbeatPool?.on('error', () => {});
  const stores = createPgStores({
    pool,
    ...(heartbeatPool === undefined ? {} : { heartbeatPool }),
  });
  const work = async (jobId: string, attempt: number, input: unknown, signal: AbortSignal) => {
    try {
      await sleep((input as WorkInput | null)?.workMs ?? 0, signal);
    } catch (reason) {
      report({ event: 'aborted', jobId, attempt, at: Date.now(), code: codeOf(reason) });
      throw reason;
    }
    await pool.query(
      'INSERT INTO chaos_side_effects (job_id, attempt, runner) VALUES ($1, $2, $3)',
      [jobId, attempt, o.workerId],
    );
  };
  const step: StepHandler = {
    type: STEP_JOB,
    metadata: { stateful: true },
    async execute({ input, signal, job }) {
      await work(job?.job.id ?? '', job?.attempt ?? 0, input, signal);
      return Result.success({ by: o.workerId });
    },
  };
  const done: StepHandler = {
    type: 'chaos.done',
    metadata: {},
    execute: async () => Result.success({ done: true }),
  };
  const engine = new Engine({ stores, handlers: [step, done], flows: [chaosFlow] });
  const listener = new JobListener({
    pool,
    healthCheckIntervalMs: o.listenHealthMs ?? o.pollIntervalMs / 2,
    healthCheckTimeoutMs: o.listenHealthMs ?? o.pollIntervalMs / 2,
  });
  listener.on('disconnected', () => report({ event: 'listen-lost', at: Date.now() }));
  // In a worker process the skew is applied to Date.now itself (worker-main.ts).
  const clock: Clock = { now: () => Date.now() };
  const runner = new BasicJobRunner({
    jobStore: stores.jobs,
    engine,
    wakeups: listener,
    runnerId: o.workerId,
    leaseMs: o.leaseMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    pollIntervalMs: o.pollIntervalMs,
    maxConcurrent: o.maxConcurrent,
    batchSize: o.maxConcurrent,
    cancelGraceMs: 500,
    clock,
    logger: noopLogger,
    defaultRetry: { strategy: 'FIXED', baseDelayMs: 200, jitter: false },
  });
  runner.registerHandler(WORK_JOB, async (input, ctx) => {
    await work(ctx.job.id, ctx.attempt, input, ctx.signal);
    return { by: o.workerId };
  });
  runner.registerHandler(FLAKY_JOB, async (input, ctx) => {
    if (ctx.attempt === 1) throw new Error('first attempts of chaos.flaky always fail');
    await work(ctx.job.id, ctx.attempt, input, ctx.signal);
    return { by: o.workerId };
  });
  runner.events.on('job:started', ({ job }) => report({ event: 'started', jobId: job.id }));
  runner.events.on('job:completed', ({ job }) => report({ event: 'completed', jobId: job.id }));
  runner.events.on('job:lease-lost', ({ job }) =>
    report({ event: 'lease-lost', jobId: job.id, at: Date.now() }),
  );
  const reaper =
    o.reaper === undefined
      ? undefined
      : new JobReaper({ jobStore: stores.jobs, engine, logger: noopLogger, ...o.reaper });
  return {
    runner,
    stores,
    engine,
    listener,
    pool,
    reaper,
    async start() {
      await listener.start();
      await runner.start();
      reaper?.start();
    },
    async stop() {
      await Promise.all([runner.stop({ timeoutMs: 1000 }), reaper?.stop()]);
      await listener.stop();
      await pool.end().catch(() => {});
      await heartbeatPool?.end().catch(() => {});
    },
  };
}

function codeOf(reason: unknown): string {
  return typeof reason === 'object' && reason !== null && 'code' in reason
    ? String((reason as { code: unknown }).code)
    : 'UNKNOWN';
}
