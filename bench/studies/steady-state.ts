/**
 * Study (not part of `pnpm bench`): the statements one execution of the workflow
 * benchmark's flow costs at steady state, in one process: 10 producers (`PRODUCERS=n`
 * for another number) start 3,000 executions while a worker (the bench's runner settings,
 * woken by LISTEN) runs them.
 * Prints executions/s from the first start to the last finish, the CPU one execution cost
 * this Node process and PostgreSQL (every server process, from /proc), per statement sent
 * by any client of this process how many went out per execution, and the sequential scans
 * of `executions` and `jobs` meanwhile. `WARM=n` first runs n executions untimed and
 * ANALYZEs (the bench's workflow warm-up); without it the tables start empty, and the
 * plans PostgreSQL caches while they are nearly empty scan them as they grow.
 *
 *   npx -y pnpm@10 exec tsc -b bench && WARM=3000 npx -y pnpm@10 --filter @flowmonkey/bench \
 *     exec node --conditions=flowmonkey-compiled --import tsx studies/steady-state.ts
 */
import { migrate } from '@flowmonkey/postgres';
import pg from 'pg';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';
import {
  executionStarter,
  openWorkflowWorker,
  type WorkflowWorker,
} from '../src/flowmonkey-workflow.js';
import { postgresCpuMs } from '../src/postgres-cpu.js';
import { tallyStatements } from '../src/statement-tally.js';

const N = 3000;
const WARM = Number(process.env.WARM ?? 0);
const PRODUCERS = Number(process.env.PRODUCERS ?? 10);

/** Statements answered for every client of this process, by prepared name or first word. */
const sent = tallyStatements();

const { name, url } = await createBenchDatabase();
const producerPool = new pg.Pool({ connectionString: url, max: PRODUCERS });
producerPool.on('error', () => {});
let worker: WorkflowWorker | undefined;
try {
  let finished = 0;
  let allFinished: () => void = () => {};
  const done = new Promise<void>((resolve) => (allFinished = resolve));
  const onDone = () => {
    if (++finished === WARM + N) allFinished();
  };
  worker = await openWorkflowWorker(url, 10, onDone);
  const workerPool = worker.pool;
  await migrate({ pool: workerPool });
  await worker.start();
  const { startUpTo: startAll, flush } = executionStarter(producerPool, PRODUCERS);
  if (WARM > 0) {
    await startAll(WARM);
    while (finished < WARM) await new Promise((resolve) => setTimeout(resolve, 20));
    await workerPool.query('ANALYZE');
  }
  const scans0 = await sequentialScans(workerPool);
  sent.clear();
  const cpu0 = process.cpuUsage();
  const pg0 = postgresCpuMs();
  const began = performance.now();
  await startAll(WARM + N);
  await done;
  const ms = performance.now() - began;
  const cpu = process.cpuUsage(cpu0);
  const nodeUs = (cpu.user + cpu.system) / N;
  const pgUs = ((postgresCpuMs() - pg0) * 1000) / N;
  console.log(`${Math.round(N / (ms / 1000))} executions/s, first start to last finish`);
  console.log(`CPU per execution: Node ${nodeUs.toFixed(0)} µs, PostgreSQL ${pgUs.toFixed(0)} µs`);
  for (const [statement, { count }] of [...sent].sort((a, b) => b[1].count - a[1].count)) {
    console.log(`${statement.padEnd(48)} ${(count / N).toFixed(2)} per execution`);
  }
  // The statistics collector reports a backend's counts when it goes idle, within a second.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const scans = await sequentialScans(workerPool);
  for (const [table, rows] of scans) {
    const read = rows - (scans0.get(table) ?? 0);
    console.log(`sequential scans of ${table}: ${(read / N).toFixed(0)} rows read per execution`);
  }
  await flush();
} finally {
  await worker?.close();
  await producerPool.end();
  await dropBenchDatabase(name);
}

/** Rows read by sequential scans so far, by table (`executions`, `jobs`). */
async function sequentialScans(pool: pg.Pool): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ relname: string; read: string }>(
    `SELECT relname, seq_tup_read AS read FROM pg_stat_user_tables
     WHERE relname IN ('executions', 'jobs') ORDER BY relname`,
  );
  return new Map(rows.map((r) => [r.relname, Number(r.read)]));
}
