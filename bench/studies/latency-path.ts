/**
 * Study (not part of `pnpm bench`): where the enqueue-to-start latency goes. One process,
 * the producer and the worker on pools of their own, 300 jobs one every 15 ms: prints, per
 * job and from the moment `create` is called, when it returned, when the NOTIFY arrived,
 * when the claim was sent and came back, and when the handler started (p50 / p90 / p99).
 * Then the same server's round trips after 15 ms idle and back to back, for reference.
 *
 *   npx -y pnpm@10 --filter @flowmonkey/bench exec tsx studies/latency-path.ts
 */
import { type JobStore, noopLogger } from '@flowmonkey/core';
import { BasicJobRunner } from '@flowmonkey/jobs';
import { createPgStores, JobListener, migrate } from '@flowmonkey/postgres';
import pg from 'pg';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';

const JOBS = 300;
const GAP_MS = 15;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pct = (values: readonly number[], p: number) =>
  ([...values].sort((a, b) => a - b)[Math.floor(p * (values.length - 1))] ?? Number.NaN).toFixed(2);
const line = (label: string, values: readonly number[]) =>
  `${label.padEnd(28)} p50 ${pct(values, 0.5)}  p90 ${pct(values, 0.9)}  p99 ${pct(values, 0.99)} ms`;

const { name, url } = await createBenchDatabase();
const workerPool = new pg.Pool({ connectionString: url, max: 10 });
const producerPool = new pg.Pool({ connectionString: url, max: 2 });
for (const pool of [workerPool, producerPool]) pool.on('error', () => {});
try {
  await migrate({ pool: workerPool });
  const worker = createPgStores({ pool: workerPool });
  const producer = createPgStores({ pool: producerPool });
  const marks = {
    created: [] as number[],
    notified: [] as number[],
    sent: [] as number[],
    back: [] as number[],
    started: [] as number[],
  };
  let t0 = 0;
  let expected = 0;
  const claim = worker.jobs.claimBatch.bind(worker.jobs);
  const jobStore: JobStore = Object.assign(Object.create(worker.jobs) as JobStore, {
    claimBatch: async (params: Parameters<JobStore['claimBatch']>[0]) => {
      const sentAt = performance.now();
      const jobs = await claim(params);
      if (jobs.length > 0) {
        marks.sent.push(sentAt - t0);
        marks.back.push(performance.now() - t0);
      }
      return jobs;
    },
  });
  const listener = new JobListener({ pool: workerPool });
  listener.on('jobs', () => {
    if (t0 > 0 && marks.notified.length < expected) marks.notified.push(performance.now() - t0);
  });
  let startedJob: () => void = () => {};
  const runner = new BasicJobRunner({
    jobStore,
    wakeups: listener,
    maxConcurrent: 10,
    batchSize: 250,
    prefetch: 500,
    logger: noopLogger,
  });
  runner.registerHandler('noop', async () => {
    marks.started.push(performance.now() - t0);
    startedJob();
    return null;
  });
  await listener.start();
  await runner.start();
  await sleep(500);
  for (expected = 1; expected <= JOBS; expected++) {
    const started = new Promise<void>((resolve) => {
      startedJob = resolve;
    });
    t0 = performance.now();
    await producer.jobs.create({ handler: 'noop' });
    marks.created.push(performance.now() - t0);
    await started;
    await sleep(GAP_MS);
  }
  await runner.stop();
  await listener.stop();
  process.stdout.write(
    [
      line('create returned', marks.created),
      line('NOTIFY arrived', marks.notified),
      line('claim sent', marks.sent),
      line('claim back', marks.back),
      line('handler started', marks.started),
      '',
    ].join('\n'),
  );
  for (const [label, gap, sql] of [
    [`SELECT 1 after ${GAP_MS} ms idle`, GAP_MS, 'SELECT 1'],
    ['SELECT 1 back to back', 0, 'SELECT 1'],
    [
      `insert + commit after ${GAP_MS} ms idle`,
      GAP_MS,
      'INSERT INTO flowmonkey.job_events (job_id, kind, attempt) VALUES (gen_random_uuid(), $$created$$, 0)',
    ],
    [
      'insert + commit back to back',
      0,
      'INSERT INTO flowmonkey.job_events (job_id, kind, attempt) VALUES (gen_random_uuid(), $$created$$, 0)',
    ],
  ] as const) {
    const took: number[] = [];
    for (let i = 0; i < 200; i++) {
      const at = performance.now();
      await producerPool.query(sql);
      took.push(performance.now() - at);
      if (gap > 0) await sleep(gap);
    }
    process.stdout.write(`${line(label, took)}\n`);
  }
  await worker.notifier.flush();
  await producer.notifier.flush();
} finally {
  await workerPool.end();
  await producerPool.end();
  await dropBenchDatabase(name);
}
