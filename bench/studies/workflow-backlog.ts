/**
 * Study (not part of `pnpm bench`): the worker side of the workflow benchmark in one
 * process. `WARM` executions of the bench flow run first (started by 10 producers before
 * the runner starts, a backlog; with `WARM_E2E=1` while it runs, a trickle, as the bench's
 * warm-up does), then the runner stops, the database is `VACUUM ANALYZE`d, `N` executions
 * are started (untimed) and the runner, with the bench's settings, is timed working
 * through them. With `NEW_POOL=1` the timed phase gets a new pool (new PostgreSQL server
 * processes) in the same warm Node process.
 *
 * Prints executions/s; the CPU one execution cost this Node process and PostgreSQL (every
 * server process, from /proc); the minor page faults of the PostgreSQL processes; per
 * statement how many went out per execution, their mean rows and mean time from send to
 * answer; and how often the pool's connections used a generic or a custom plan. With
 * `CPU_PROF=<file>` or `HEAP_PROF=<file>` it also profiles this process over the timed phase
 * (see `profilePhase`); the heap profile adds the bytes allocated per execution.
 *
 *   npx -y pnpm@10 exec tsc -b bench && WARM_E2E=1 npx -y pnpm@10 --filter @flowmonkey/bench \
 *     exec node --conditions=flowmonkey-compiled --import tsx studies/workflow-backlog.ts
 */
import { migrate } from '@flowmonkey/postgres';
import pg from 'pg';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';
import {
  executionStarter,
  openWorkflowWorker,
  type WorkflowWorker,
} from '../src/flowmonkey-workflow.js';
import { profilePhase } from '../src/phase-profiler.js';
import { postgresCpuMs, postgresPageFaults } from '../src/postgres-cpu.js';
import { tallyStatements } from '../src/statement-tally.js';

const N = Number(process.env.N ?? 5000);
const WARM = Number(process.env.WARM ?? 5000);
const PRODUCERS = 10;

/** Statements answered, by prepared name (or first word), with their rows and time. */
const tallies = tallyStatements();

const { name, url } = await createBenchDatabase();
const producerPool = new pg.Pool({ connectionString: url, max: PRODUCERS });
producerPool.on('error', () => {});
let worker: WorkflowWorker | undefined;
try {
  let finished = 0;
  let target = WARM;
  let reached: () => void = () => {};
  const onDone = () => {
    if (++finished === target) reached();
  };
  worker = await openWorkflowWorker(url, 10, onDone);
  await migrate({ pool: worker.pool });
  const { startUpTo: startAll } = executionStarter(producerPool, PRODUCERS);
  if (WARM > 0) {
    const warmed = new Promise<void>((resolve) => (reached = resolve));
    const trickle = process.env.WARM_E2E === '1';
    if (trickle) await worker.start();
    await startAll(WARM);
    if (!trickle) await worker.start();
    await warmed;
    await worker.pause();
    if (process.env.NEW_POOL === '1') {
      await worker.close();
      worker = await openWorkflowWorker(url, 10, onDone);
    }
  }
  // As the bench: analysed after the warm-up, before the timed executions are started.
  await worker.pool.query('VACUUM ANALYZE');
  await startAll(WARM + N);
  target = WARM + N;
  const done = new Promise<void>((resolve) => (reached = resolve));
  tallies.clear();
  const cpu0 = process.cpuUsage();
  const pg0 = postgresCpuMs();
  const faults0 = postgresPageFaults();
  const profile = await profilePhase();
  const began = performance.now();
  await worker.start();
  await done;
  const ms = performance.now() - began;
  const cpu = process.cpuUsage(cpu0);
  const nodeUs = (cpu.user + cpu.system) / N;
  const pgUs = ((postgresCpuMs() - pg0) * 1000) / N;
  const allocated = await profile?.stop();
  console.log(`${Math.round(N / (ms / 1000))} executions/s over ${N} (${ms.toFixed(0)} ms)`);
  console.log(`CPU per execution: Node ${nodeUs.toFixed(0)} µs, PostgreSQL ${pgUs.toFixed(0)} µs`);
  if (allocated)
    console.log(`allocated per execution (sampled): ${(allocated / N / 1024).toFixed(1)} KiB`);
  console.log(`minor page faults of PostgreSQL processes: ${postgresPageFaults() - faults0}`);
  for (const [statement, t] of [...tallies].sort((a, b) => b[1].ms - a[1].ms)) {
    console.log(
      `${statement.padEnd(48)} ${(t.count / N).toFixed(3)}/execution ${(t.rows / t.count).toFixed(0).padStart(4)} rows ${(t.ms / t.count).toFixed(2).padStart(6)} ms`,
    );
  }
  await worker.pause();
  const { pool } = worker;
  const clients = await Promise.all(Array.from({ length: pool.totalCount }, () => pool.connect()));
  for (const client of clients) {
    const { rows } = await client.query<{ name: string; generic: string; custom: string }>(
      `SELECT name, generic_plans AS generic, custom_plans AS custom FROM pg_prepared_statements
       ORDER BY name`,
    );
    const plans = rows.map(
      (r) => `${r.name.replace(/^fm_flowmonkey_/, '')} ${r.generic}/${r.custom}`,
    );
    console.log(`connection plans (generic/custom): ${plans.join(', ')}`);
    client.release();
  }
} finally {
  await worker?.close();
  await producerPool.end();
  await dropBenchDatabase(name);
}
