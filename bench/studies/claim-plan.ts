/**
 * Study (not part of `pnpm bench`): `EXPLAIN (ANALYZE, BUFFERS)` of the drain's two
 * statements as the bench's runner sends them. 20,000 no-op jobs are bulk-enqueued and
 * `ANALYZE`d, as in the drain workload; then the store's own claim of 1,000 (the bench's
 * `batchSize`) and its own `completeMany` of 1,000 claimed jobs with their `started` rows
 * (what a runner's completion batch carries) are caught as they are sent, not run, and
 * explained with the same SQL and parameter values in a transaction that is rolled back
 * (and `VACUUM`ed after, so that no run meets the row versions of the one before).
 * Each is explained `RUNS` times (default 5) under each of the two plans a prepared
 * statement can run with: a custom plan (made for the values; the first five executions,
 * and every one after where PostgreSQL finds the generic plan costlier) and the generic
 * plan (`plan_cache_mode = force_generic_plan`). Prints every execution time and the last
 * plan of each whole.
 *
 *   npx -y pnpm@10 --filter @flowmonkey/bench exec tsx studies/claim-plan.ts
 */
import { createRequire } from 'node:module';
import type { RunnerJobEvent } from '@flowmonkey/core';
import { createPgStores, DEFAULT_SCHEMA } from '@flowmonkey/postgres';
import pg from 'pg';
import { openWithJobs } from '../src/adapter.js';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';

/** node-postgres's text form of a parameter value (not in its type declarations). */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils.js') as {
  prepareValue: (value: unknown) => string | Buffer | null;
};

const JOBS = 20_000;
const BATCH = 1000;
const RUNS = Number(process.env.RUNS ?? 5);

/** A statement caught on its way out: its SQL and parameter values. */
interface Caught {
  text: string;
  values: unknown[];
}

/**
 * Runs `call` with node-postgres's `query` intercepted: the first statement whose prepared
 * name contains `name` is caught instead of sent, and returned.
 */
async function catchStatement(name: string, call: () => Promise<unknown>): Promise<Caught> {
  const query = pg.Client.prototype.query;
  let caught: Caught | undefined;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const config = args[0] as { name?: string; text?: string; values?: unknown[] };
    if (caught === undefined && typeof config === 'object' && config.name?.includes(name)) {
      caught = { text: String(config.text), values: config.values ?? [] };
      // Fails the store call there; the store may wrap the error, so it is not checked.
      const error = new Error(`caught ${name}`);
      const last = args.at(-1);
      if (typeof last === 'function') {
        queueMicrotask(() => (last as (e: unknown) => void)(error));
        return undefined;
      }
      return Promise.reject(error);
    }
    return (query as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof query;
  try {
    await call().catch((error: unknown) => {
      if (caught === undefined) throw error;
    });
  } finally {
    pg.Client.prototype.query = query;
  }
  if (caught === undefined) throw new Error(`no statement named like "${name}" was sent`);
  return caught;
}

/**
 * Explains `statement` `RUNS` times under each plan, each run in a transaction rolled back:
 * prepared as the store prepares it, executed with its values.
 */
async function explain(pool: pg.Pool, label: string, statement: Caught): Promise<void> {
  const client = await pool.connect();
  // EXECUTE takes no bound parameters: the values go as literals, in node-postgres's own
  // text form of each (arrays included), cast to the prepared statement's types.
  const args = statement.values
    .map((v) => {
      const text = prepareValue(v);
      if (Buffer.isBuffer(text)) throw new Error('a binary parameter cannot go as a literal');
      return text === null ? 'NULL' : client.escapeLiteral(text);
    })
    .join(', ');
  try {
    await client.query(`PREPARE studied AS ${statement.text}`);
    for (const mode of ['force_custom_plan', 'force_generic_plan']) {
      const times: string[] = [];
      let plan = '';
      for (let run = 0; run < RUNS; run++) {
        await client.query('BEGIN');
        try {
          await client.query(`SET LOCAL plan_cache_mode = ${mode}`);
          const { rows } = await client.query<{ 'QUERY PLAN': string }>(
            `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE studied(${args})`,
          );
          plan = rows.map((r) => r['QUERY PLAN']).join('\n');
          times.push(/Execution Time: ([\d.]+) ms/.exec(plan)?.[1] ?? '?');
        } finally {
          await client.query('ROLLBACK');
        }
        // The rolled-back row versions would otherwise slow every later run down.
        await client.query(`VACUUM ${DEFAULT_SCHEMA}.jobs, ${DEFAULT_SCHEMA}.job_events`);
      }
      console.log(`\n## ${label}, ${mode}: execution time ${times.join(', ')} ms\n\n${plan}`);
    }
  } finally {
    await client.query('DEALLOCATE studied').catch(() => {});
    client.release();
  }
}

const { name, url } = await createBenchDatabase();
const pool = new pg.Pool({ connectionString: url, max: 4 });
pool.on('error', () => {});
try {
  // The adapter migrates, enqueues and analyses; the study then uses stores of its own.
  await (await openWithJobs('flowmonkey', url, JOBS)).close();
  const { jobs } = createPgStores({ pool });
  const claimParams = { runnerId: 'claim-plan-study', limit: BATCH, handlers: ['noop'] };
  const claim = await catchStatement('jobs_claimBatch', () => jobs.claimBatch(claimParams));
  await explain(pool, `claim of ${BATCH} from ${JOBS} pending jobs`, claim);
  const claimed = await jobs.claimBatch(claimParams);
  const events = claimed.map(
    (job): RunnerJobEvent => ({
      jobId: job.id,
      leaseId: job.leaseId as string,
      kind: 'started',
      attempt: job.attempts,
      data: { runnerId: claimParams.runnerId },
    }),
  );
  const items = claimed.map((job) => ({
    jobId: job.id,
    leaseId: job.leaseId as string,
    result: null,
  }));
  if (jobs.completeMany === undefined) throw new Error('this store has no completeMany');
  const complete = jobs.completeMany.bind(jobs);
  const completion = await catchStatement('jobs_completeMany', () => complete({ items, events }));
  await explain(pool, `completeMany of ${claimed.length} with their started rows`, completion);
} finally {
  await pool.end();
  await dropBenchDatabase(name);
}
