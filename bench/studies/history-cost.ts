/**
 * Study (not part of `pnpm bench`): what the job history costs. Runs the store's own claim
 * and `completeMany` in two loops, 250 jobs per batch, over 40,000 bulk-loaded jobs, with
 * the history as shipped (`claimed`, `started`, `completed` rows), without the `started`
 * rows, and with no history rows at all (the same statements with their `job_events` CTEs
 * removed), and prints jobs/s and the CPU of Node and of the PostgreSQL backends per job.
 *
 *   npx -y pnpm@10 --filter @flowmonkey/bench exec tsx studies/history-cost.ts
 */
import { readFileSync } from 'node:fs';
import { createPgStores, migrate } from '@flowmonkey/postgres';
import pg from 'pg';
import { jobStatements } from '../../packages/postgres/src/sql/jobs.js';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';

const N = 40_000;
const BATCH = 250;
type Mode = 'as shipped' | 'without started' | 'none';

/** CPU seconds (user + system) of the given processes so far, from /proc. */
function cpuSeconds(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    total += (Number(fields[11]) + Number(fields[12])) / 100;
  }
  return total;
}

async function measure(mode: Mode): Promise<string> {
  const { name, url } = await createBenchDatabase();
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  // Dropping the database ends connections the pool may still hold idle.
  pool.on('error', () => {});
  try {
    await migrate({ pool });
    const stores = createPgStores({ pool, notify: false });
    for (let i = 0; i < N; i += 5000) {
      await stores.jobs.createMany(
        Array.from({ length: 5000 }, (_, k) => ({ handler: 'noop', input: { i: i + k } })),
      );
    }
    await pool.query('ANALYZE');
    const sql = jobStatements('"flowmonkey"', 'flowmonkey');
    const claimText = sql.claimBatch.text.replace(
      /, ev AS \(INSERT INTO[\s\S]*?FROM src\)\n/,
      '\n',
    );
    if (claimText === sql.claimBatch.text) throw new Error('could not remove the claim history');
    const claimNone = { name: 'claim_none', text: claimText };
    const completeNone = {
      name: 'complete_none',
      text: `WITH l AS (SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[]) AS l(id, lease_id, result))
        UPDATE "flowmonkey".jobs j SET status = 'completed', result = l.result::jsonb,
          lease_id = NULL, cancel_requested = false, finished_at = now(), updated_at = now()
        FROM l WHERE j.id = l.id AND j.lease_id = l.lease_id RETURNING j.id`,
    };
    await Promise.all(Array.from({ length: 4 }, () => pool.query('SELECT 1')));
    const { rows } = await pool.query<{ pid: number }>(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1',
      [name],
    );
    const pids = rows.map((r) => r.pid);
    let done = 0;
    const node0 = process.cpuUsage();
    const pg0 = cpuSeconds(pids);
    const began = performance.now();
    const loop = async (): Promise<void> => {
      for (;;) {
        let jobs: { id: string; leaseId: string; attempts: number }[];
        if (mode === 'none') {
          const claimed = await pool.query<{ id: string; lease_id: string; attempts: number }>({
            ...claimNone,
            values: ['r', BATCH, null, ['noop'], null, true],
          });
          jobs = claimed.rows.map((r) => ({ id: r.id, leaseId: r.lease_id, attempts: r.attempts }));
        } else {
          const claimed = await stores.jobs.claimBatch({
            runnerId: 'r',
            limit: BATCH,
            handlers: ['noop'],
          });
          jobs = claimed.map((j) => ({ id: j.id, leaseId: j.leaseId ?? '', attempts: j.attempts }));
        }
        if (jobs.length === 0) return;
        if (mode === 'none') {
          await pool.query({
            ...completeNone,
            values: [jobs.map((j) => j.id), jobs.map((j) => j.leaseId), jobs.map(() => 'null')],
          });
        } else {
          const items = jobs.map((j) => ({ jobId: j.id, leaseId: j.leaseId, result: null }));
          const events = jobs.map((j) => ({
            jobId: j.id,
            leaseId: j.leaseId,
            kind: 'started' as const,
            attempt: j.attempts,
            data: { runnerId: 'r' },
          }));
          await stores.jobs.completeMany?.(mode === 'as shipped' ? { items, events } : { items });
        }
        done += jobs.length;
      }
    };
    await Promise.all([loop(), loop()]);
    const seconds = (performance.now() - began) / 1000;
    const node = process.cpuUsage(node0);
    const server = cpuSeconds(pids) - pg0;
    const size = await pool.query<{ bytes: string }>(
      `SELECT pg_total_relation_size('flowmonkey.job_events') AS bytes`,
    );
    await stores.notifier.flush();
    return [
      mode.padEnd(16),
      `${Math.round(done / seconds)} jobs/s`,
      `PostgreSQL ${((server * 1e6) / done).toFixed(1)} µs/job`,
      `Node ${((node.user + node.system) / done).toFixed(1)} µs/job`,
      `job_events ${(Number(size.rows[0]?.bytes) / N).toFixed(0)} bytes/job (with the created rows)`,
    ].join('  ');
  } finally {
    await pool.end();
    await dropBenchDatabase(name);
  }
}

for (let round = 1; round <= 2; round++) {
  for (const mode of ['as shipped', 'without started', 'none'] as const) {
    process.stdout.write(`${await measure(mode)}\n`);
  }
}
