/**
 * A demo worker process: runs the order workflow's stateful steps. The demo starts two of
 * these; each is what you would deploy as a worker in production:
 *
 *   DATABASE_URL=postgres://... WORKER_ID=worker-1 npx tsx examples/demo/worker.ts
 *
 * SIGTERM stops it gracefully: no new claims, running jobs finish (or are released).
 */
import { Engine } from '@flowmonkey/core';
import { BasicJobRunner, runnerOptionsFromEnv } from '@flowmonkey/jobs';
import { createPgStores, JobListener } from '@flowmonkey/postgres';
import pg from 'pg';
import pino from 'pino';
import { orderFlow, orderHandlers } from './order-workflow.js';

const connectionString = process.env.DATABASE_URL;
if (connectionString === undefined) throw new Error('DATABASE_URL is required');

const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const pool = new pg.Pool({ connectionString, max: 6 });
pool.on('error', (error) =>
  logger.warn({ reason: error.message }, 'idle database connection failed'),
);
const schema = process.env.FLOWMONKEY_SCHEMA ?? 'flowmonkey';
const stores = createPgStores({ pool, schema, logger });
const engine = new Engine({ stores, handlers: orderHandlers, flows: [orderFlow], logger });
const listener = new JobListener({ pool, schema, logger });
const runner = new BasicJobRunner({
  jobStore: stores.jobs,
  engine,
  wakeups: listener,
  logger,
  maxConcurrent: 4,
  heartbeatIntervalMs: 1000,
  leaseMs: 5000,
  cancelGraceMs: 300,
  ...runnerOptionsFromEnv(process.env),
});

// The scheduler's recurring job: a plain background job, no workflow around it.
runner.registerHandler('reconcile-payments', async (input: { provider: string }) => ({
  provider: input.provider,
  reconciledAt: new Date().toISOString(),
}));

await listener.start();
await runner.start();
process.send?.({ ready: runner.runnerId });

let stopping = false;
process.on('SIGTERM', () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    await runner.stop({ graceful: true, timeoutMs: 5000 });
    await listener.stop();
    await pool.end();
    process.exit(0);
  })();
});
