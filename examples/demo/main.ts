/**
 * The FlowMonkey demo: a batch of order workflows whose payment step is stateful and runs
 * in two separate worker processes, with a reaper sidecar, on real PostgreSQL.
 *
 *   npx -y pnpm@10 demo            # embedded PostgreSQL 18, nothing to set up
 *   DATABASE_URL=postgres://... npx -y pnpm@10 demo
 *
 * Some orders pay at once, some fail twice and succeed on a retry, one is declined
 * (non-retryable), one never answers in time (times out, retried, then fails); failed
 * payments take the workflow's failure branch.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Engine, type Execution } from '@flowmonkey/core';
import { ExecutionSweeper, JobReaper, JobScheduler } from '@flowmonkey/jobs';
import {
  createPgStores,
  migrate,
  type PgStores,
  startEmbeddedPostgres,
} from '@flowmonkey/postgres';
import pg from 'pg';
import pino from 'pino';
import { type Order, orderFlow, orderHandlers } from './order-workflow.js';
import { watchProgress } from './progress-view.js';

const WORKERS = 2;
const SCHEMA = 'flowmonkey_demo';
const DEADLINE_MS = 90_000;

const out = (line = '') => process.stdout.write(`${line}\n`);

function demoOrders(): Order[] {
  const cards: Order['card'][] = ['ok', 'ok', 'ok', 'flaky', 'ok', 'declined', 'ok', 'ok'];
  const orders: Order[] = [];
  for (let i = 1; i <= 32; i++) {
    orders.push({ id: `order-${i}`, amountCents: 1000 + i * 250, card: cards[i % cards.length]! });
  }
  orders.push({ id: 'order-33', amountCents: 4200, card: 'slow' });
  return orders;
}

async function startWorkers(connectionString: string) {
  const script = fileURLToPath(new URL('./worker.ts', import.meta.url));
  const workers = Array.from({ length: WORKERS }, (_, i) =>
    fork(script, [], {
      execArgv: ['--import', 'tsx'],
      env: {
        LOG_LEVEL: 'error',
        ...process.env,
        DATABASE_URL: connectionString,
        FLOWMONKEY_SCHEMA: SCHEMA,
        WORKER_ID: `worker-${i + 1}`,
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  );
  await Promise.all(workers.map((worker) => once(worker, 'message')));
  return workers;
}

/** SIGTERMs the workers (they stop gracefully) and waits for them to exit. */
async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(async (worker) => {
      const exited = once(worker, 'exit');
      worker.kill('SIGTERM');
      await exited;
    }),
  );
}

/**
 * Starts what runs beside the workers: a reaper for stalled jobs, a sweeper for executions
 * whose timed wait is due, and a scheduler that enqueues a reconciliation every 2 s.
 */
async function startSidecars(
  stores: PgStores,
  engine: Engine,
  logger: pino.Logger,
): Promise<{ stop: () => Promise<unknown> }> {
  const reaper = new JobReaper({
    jobStore: stores.jobs,
    engine,
    stalledThresholdMs: 5000,
    checkIntervalMs: 1000,
    logger,
  });
  reaper.start();
  const sweeper = new ExecutionSweeper({ engine, intervalMs: 1000, logger });
  sweeper.start();
  const scheduler = new JobScheduler({
    jobStore: stores.jobs,
    scheduleStore: stores.schedules,
    tickIntervalMs: 250,
    leaseMs: 1000,
    logger,
  });
  await scheduler.scheduleRecurring({
    name: 'reconcile-payments',
    cron: '*/2 * * * * *',
    handler: 'reconcile-payments',
    input: { provider: 'fake-gateway' },
    overlap: 'skip',
  });
  scheduler.start();
  return { stop: () => Promise.all([reaper.stop(), sweeper.stop(), scheduler.stop()]) };
}

async function main(): Promise<void> {
  const external = process.env.DATABASE_URL;
  out('FlowMonkey demo: order workflows with a stateful payment step');
  const database = external
    ? { connectionString: external, version: 'from DATABASE_URL', stop: async () => {} }
    : await startEmbeddedPostgres();
  out(
    `  PostgreSQL ${database.version}${external ? '' : ' (embedded, throw-away data directory)'}`,
  );
  const pool = new pg.Pool({ connectionString: database.connectionString, max: 6 });
  const logger = pino({ level: 'warn' });
  // pg emits errors of idle pooled connections on the pool (a server restart, or the
  // embedded server stopping while `pool.end()` is still closing them): log, do not crash.
  let closing = false;
  pool.on('error', (error) => {
    if (!closing) logger.warn({ reason: error.message }, 'idle database connection failed');
  });
  try {
    // The demo keeps to a schema of its own, recreated on each run, so that with a
    // DATABASE_URL it never touches anything else in that database.
    await pool.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    const { applied } = await migrate({ pool, schema: SCHEMA });
    out(`  migrated schema "${SCHEMA}" (${applied.length} migrations)`);
    const stores = createPgStores({ pool, schema: SCHEMA, logger });
    const engine = new Engine({ stores, handlers: orderHandlers, flows: [orderFlow], logger });
    const sidecars = await startSidecars(stores, engine, logger);
    const workers = await startWorkers(database.connectionString);
    out(
      `  started a scheduler (reconcile-payments every 2 s), a reaper, an execution sweeper and ${WORKERS} worker processes (pids ${workers.map((w) => w.pid).join(', ')})`,
    );

    const orders = demoOrders();
    const started = performance.now();
    const ids = (
      await Promise.all(
        orders.map((order) => engine.start('order', order, { idempotencyKey: order.id })),
      )
    ).map((execution) => execution.id);
    out(`  started ${orders.length} executions\n`);

    await watchProgress(pool, SCHEMA, orders.length, started, DEADLINE_MS);

    await Promise.all([stopWorkers(workers), sidecars.stop()]);
    await printSummary(
      pool,
      SCHEMA,
      (await Promise.all(ids.map((id) => engine.get(id)))).filter((e) => e !== undefined),
    );
  } finally {
    closing = true;
    await pool.end();
    await database.stop();
  }
}

async function printSummary(pool: pg.Pool, schema: string, executions: Execution[]): Promise<void> {
  const { rows } = await pool.query<{
    attempts: number;
    retried: number;
    timeouts: number;
    declined: number;
    reconciled: number;
  }>(
    `SELECT coalesce(sum(attempts), 0)::int AS attempts,
            count(*) FILTER (WHERE attempts > 1)::int AS retried,
            (SELECT count(*)::int FROM ${schema}.job_events WHERE data->>'code' = 'JOB_TIMEOUT') AS timeouts,
            count(*) FILTER (WHERE error->>'code' = 'CARD_DECLINED')::int AS declined,
            (SELECT count(*)::int FROM ${schema}.jobs
              WHERE handler = 'reconcile-payments' AND status = 'completed') AS reconciled
       FROM ${schema}.jobs WHERE handler = 'charge-payment'`,
  );
  const jobs = rows[0]!;
  const byStatus = new Map<string, number>();
  for (const e of executions) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1);
  out('\nSummary');
  out(`  executions: ${[...byStatus].map(([s, n]) => `${n} ${s}`).join(', ')}`);
  out(
    `  payment jobs: ${executions.length} jobs, ${jobs.attempts} attempts, ${jobs.retried} retried, ${jobs.timeouts} attempts timed out, ${jobs.declined} declined`,
  );
  out(`  scheduled reconcile-payments runs (cron */2 s): ${jobs.reconciled} completed`);
  for (const e of executions.filter((x) => x.status === 'failed')) {
    out(`  ${(e.input as Order).id} failed: ${e.error?.code}: ${e.error?.message}`);
  }
  const stuck = executions.filter((e) => !['completed', 'failed'].includes(e.status));
  if (stuck.length > 0) {
    out(`  ${stuck.length} executions did not finish in time`);
    process.exitCode = 1;
  }
}

await main();
