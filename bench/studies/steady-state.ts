/**
 * Study (not part of `pnpm bench`): the statements one execution of the workflow
 * benchmark's flow costs at steady state, in one process: 10 producers start 3,000
 * executions while a worker (the bench's runner settings, woken by LISTEN) runs them.
 * Prints executions/s from the first start to the last finish and, per statement sent by
 * any client of this process, how many went out per execution.
 *
 *   npx -y pnpm@10 exec tsc -b bench && npx -y pnpm@10 --filter @flowmonkey/bench exec \
 *     node --conditions=flowmonkey-compiled --import tsx studies/steady-state.ts
 */
import { Engine, noopLogger } from '@flowmonkey/core';
import { BasicJobRunner } from '@flowmonkey/jobs';
import { createPgStores, JobListener, migrate } from '@flowmonkey/postgres';
import pg from 'pg';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';
import { benchFlow, workflowHandlers } from '../src/flowmonkey-workflow.js';

const N = 3000;
const PRODUCERS = 10;

/** Statements sent by every client of this process, by prepared name or first word. */
const sent = new Map<string, number>();
const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const [config] = args;
  const name =
    typeof config === 'string'
      ? (config.split(' ')[0] ?? config)
      : String((config as { name?: string }).name ?? 'unnamed');
  sent.set(name, (sent.get(name) ?? 0) + 1);
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

const { name, url } = await createBenchDatabase();
const workerPool = new pg.Pool({ connectionString: url, max: 10 });
const producerPool = new pg.Pool({ connectionString: url, max: PRODUCERS });
for (const pool of [workerPool, producerPool]) pool.on('error', () => {});
try {
  await migrate({ pool: workerPool });
  let finished = 0;
  let allFinished: () => void = () => {};
  const done = new Promise<void>((resolve) => (allFinished = resolve));
  const onDone = () => {
    if (++finished === N) allFinished();
  };
  const worker = createPgStores({ pool: workerPool });
  const engine = new Engine({
    stores: worker,
    handlers: workflowHandlers(onDone),
    flows: [benchFlow],
  });
  const listener = new JobListener({ pool: workerPool });
  const runner = new BasicJobRunner({
    jobStore: worker.jobs,
    engine,
    wakeups: listener,
    maxConcurrent: 10,
    batchSize: 250,
    prefetch: 500,
    logger: noopLogger,
  });
  await listener.start();
  await runner.start();
  const producer = createPgStores({ pool: producerPool });
  const starter = new Engine({
    stores: producer,
    handlers: workflowHandlers(() => {}),
    flows: [benchFlow],
  });
  sent.clear();
  const began = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next < N) await starter.start('bench', { i: next++ });
    }),
  );
  await done;
  const ms = performance.now() - began;
  console.log(`${Math.round(N / (ms / 1000))} executions/s, first start to last finish`);
  for (const [statement, count] of [...sent].sort((a, b) => b[1] - a[1])) {
    console.log(`${statement.padEnd(48)} ${(count / N).toFixed(2)} per execution`);
  }
  await runner.stop({ graceful: true, timeoutMs: 2000 });
  await listener.stop();
  await producer.notifier.flush();
} finally {
  await workerPool.end();
  await producerPool.end();
  await dropBenchDatabase(name);
}
