/**
 * Study (not part of `pnpm bench`): what settling one runner batch of step jobs costs, the
 * two ways `Engine.completeJobs` can write it. `transaction`: BEGIN, `jobs.completeMany`,
 * `executions.updateMany`, COMMIT (four round trips); `one statement`:
 * `stores.completeAndResumeMany`. Each batch is K (default 10, about a steady-state
 * batch) jobs just claimed, with their `started` rows as a runner sends them, and the K
 * waiting executions they resume. Blocks of 60 batches alternate between the two ways, in
 * one process, after a warm-up and `VACUUM ANALYZE`; prints per block the wall time of the
 * write and the PostgreSQL CPU it cost (every server process, /proc; 10 ms ticks, so read
 * the CPU column over many blocks), then how each prepared statement was planned
 * (`pg_prepared_statements`: a long-lived pool settles on generic plans).
 *
 *   npx -y pnpm@10 --filter @flowmonkey/bench exec tsx studies/settle-batch.ts
 */
import type { Execution, ExecutionUpdate, Job, RunnerJobEvent } from '@flowmonkey/core';
import { newExecution } from '@flowmonkey/core/testing';
import { createPgStores, migrate } from '@flowmonkey/postgres';
import pg from 'pg';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';
import { postgresCpuMs } from '../src/postgres-cpu.js';

const K = Number(process.env.K ?? 10);
const BLOCKS = Number(process.env.BLOCKS ?? 8);
const PER_BLOCK = 60;
const POOL_SIZE = 4;
/** `EVENTS=0`: batches without `started` rows (a handler slower than one event-loop turn). */
const EVENTS = process.env.EVENTS !== '0';

/** A batch ready to settle: the claimed jobs' items and events, and their resumed parents. */
interface Batch {
  items: { jobId: string; leaseId: string; result: unknown }[];
  events: RunnerJobEvent[];
  executions: ExecutionUpdate[];
}

/** An execution waiting on its stateful step `work`, after an inline `first`. */
function waitingExecution(): Execution {
  return newExecution({
    flowId: 'study',
    status: 'waiting',
    currentStepId: 'work',
    context: { input: { order: 42 }, first: { ok: true } },
    stepCount: 1,
  });
}

const { name, url } = await createBenchDatabase();
const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE });
pool.on('error', () => {});
try {
  await migrate({ pool });
  const stores = createPgStores({ pool });

  async function nextBatch(): Promise<Batch> {
    const created = await Promise.all(
      Array.from({ length: K }, () => stores.executions.create(waitingExecution())),
    );
    const parents = new Map(created.map(({ execution }) => [execution.id, execution]));
    await stores.jobs.createMany(
      [...parents.keys()].map((id) => ({ handler: 'work', executionId: id, stepId: 'work' })),
    );
    const jobs: Job[] = await stores.jobs.claimBatch({
      runnerId: 'r',
      limit: K,
      handlers: ['work'],
    });
    return {
      items: jobs.map((j) => ({ jobId: j.id, leaseId: j.leaseId ?? '', result: { n: 1 } })),
      events: jobs
        .filter(() => EVENTS)
        .map((j) => ({
          jobId: j.id,
          leaseId: j.leaseId ?? '',
          kind: 'started' as const,
          attempt: j.attempts,
        })),
      executions: jobs.map((j) => {
        const e = parents.get(j.executionId ?? '') as Execution;
        const execution: Execution = {
          ...e,
          status: 'running',
          currentStepId: 'finish',
          context: { ...e.context, work: { n: 1 } },
          stepCount: 2,
          updatedAt: e.updatedAt + 1,
        };
        return { execution, expectedVersion: 0 };
      }),
    };
  }

  const ways: Record<string, (b: Batch) => Promise<void>> = {
    transaction: (b) =>
      stores.transaction(async (tx) => {
        await tx.jobs.completeMany?.({ items: b.items, events: b.events });
        await tx.executions.updateMany?.({ items: b.executions });
      }),
    'one statement': async (b) => {
      if ((await stores.completeAndResumeMany(b)) === undefined) throw new Error('not written');
    },
  };

  for (let i = 0; i < 100; i++)
    for (const write of Object.values(ways)) await write(await nextBatch());
  await pool.query('VACUUM ANALYZE');
  const figures = new Map(
    Object.keys(ways).map((way) => [way, { ms: [] as number[], cpu: [] as number[] }]),
  );
  for (let block = 0; block < BLOCKS; block++) {
    for (const [way, write] of Object.entries(ways)) {
      let ms = 0;
      let cpu = 0;
      for (let i = 0; i < PER_BLOCK; i++) {
        const batch = await nextBatch();
        const cpu0 = postgresCpuMs();
        const t0 = performance.now();
        await write(batch);
        ms += performance.now() - t0;
        cpu += postgresCpuMs() - cpu0;
      }
      figures.get(way)?.ms.push(ms / PER_BLOCK);
      figures.get(way)?.cpu.push(cpu / PER_BLOCK);
    }
  }
  const list = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  for (const [way, { ms, cpu }] of figures) {
    console.log(`${way.padEnd(14)} ms per batch of ${K}: ${list(ms)}`);
    console.log(`${''.padEnd(14)} PostgreSQL CPU ms:   ${list(cpu)}`);
  }

  const clients = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool.connect()));
  const plans = new Map<string, { generic: number; custom: number }>();
  for (const client of clients) {
    const { rows } = await client.query(
      'SELECT name, generic_plans, custom_plans FROM pg_prepared_statements',
    );
    for (const row of rows) {
      const seen = plans.get(row.name) ?? { generic: 0, custom: 0 };
      seen.generic += Number(row.generic_plans);
      seen.custom += Number(row.custom_plans);
      plans.set(row.name, seen);
    }
    client.release();
  }
  for (const [statement, { generic, custom }] of plans) {
    console.log(`${statement.padEnd(48)} generic plans ${generic}, custom plans ${custom}`);
  }
} finally {
  await pool.end();
  await dropBenchDatabase(name);
}
