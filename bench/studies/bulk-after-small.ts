/**
 * Study (not part of `pnpm bench`): what a PostgreSQL server process's past does to bulk
 * enqueues. On one connection (a pool of one), 20,000 jobs are enqueued with
 * `PgJobStore.createMany` in batches of `BATCH` (default 250), timed, after one of:
 *
 * - `fresh`: nothing but a `SELECT 1` on the new connection;
 * - `after-select`: 500 `SELECT 1`s;
 * - `after-small`: 500 `createMany` calls of two jobs each, as a producer that enqueues a
 *   few jobs at a time does before its first bulk enqueue;
 * - `after-16mb`: one statement that allocates 16 MiB in the server process, then the same
 *   500 small `createMany` calls.
 *
 * Prints jobs/s, the CPU of every PostgreSQL process per job (from /proc) and the minor
 * page faults of the connection's own server process. With glibc's malloc, a server
 * process that has only served small statements returns the memory of each larger one to
 * the kernel when it frees it (its trim and mmap thresholds start low and rise only when a
 * large block is freed), and takes it back page by page on the next statement; one large
 * allocation raises both thresholds for the life of the process. Setting
 * `MALLOC_TRIM_THRESHOLD_`, `MALLOC_TOP_PAD_` and `MALLOC_MMAP_THRESHOLD_` in the server's
 * environment fixes them instead (see the postgres package README, "Large batches").
 *
 *   npx -y pnpm@10 exec tsc -b bench && MODES=after-small,after-16mb,fresh npx -y pnpm@10 \
 *     --filter @flowmonkey/bench exec node --conditions=flowmonkey-compiled --import tsx \
 *     studies/bulk-after-small.ts
 */
import { createPgStores, migrate } from '@flowmonkey/postgres';
import pg from 'pg';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';
import { postgresCpuMs, processPageFaults } from '../src/postgres-cpu.js';

const JOBS = 20_000;
const BATCH = Number(process.env.BATCH ?? 250);
const MODES = (process.env.MODES ?? 'after-small,after-16mb,fresh,after-select').split(',');

const { name, url } = await createBenchDatabase();
try {
  const setup = new pg.Pool({ connectionString: url, max: 1 });
  await migrate({ pool: setup });
  await setup.end();
  for (const mode of MODES) {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    try {
      const stores = createPgStores({ pool });
      const smallBatches = async () => {
        for (let i = 0; i < 500; i++) {
          await stores.jobs.createMany([
            { handler: 'noop', input: { i } },
            { handler: 'noop', input: { i } },
          ]);
        }
      };
      const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const pid = rows[0]?.pid ?? 0;
      if (mode === 'after-small') await smallBatches();
      else if (mode === 'after-16mb') {
        await pool.query(`SELECT length(repeat('x', 16 * 1024 * 1024))`);
        await smallBatches();
      } else if (mode === 'after-select') {
        for (let i = 0; i < 500; i++) await pool.query('SELECT 1');
      } else if (mode !== 'fresh') throw new Error(`unknown mode ${mode}`);
      const faults = processPageFaults(pid);
      const cpu = postgresCpuMs();
      const began = performance.now();
      for (let done = 0; done < JOBS; done += BATCH) {
        await stores.jobs.createMany(
          Array.from({ length: BATCH }, (_, k) => ({ handler: 'noop', input: { i: done + k } })),
        );
      }
      const ms = performance.now() - began;
      const perJob = ((postgresCpuMs() - cpu) * 1000) / JOBS;
      console.log(
        `${mode.padEnd(12)} batches of ${BATCH}: ${Math.round(JOBS / (ms / 1000))} jobs/s, PostgreSQL ${perJob.toFixed(1)} µs/job, ${processPageFaults(pid) - faults} page faults`,
      );
    } finally {
      await pool.end();
    }
  }
} finally {
  await dropBenchDatabase(name);
}
