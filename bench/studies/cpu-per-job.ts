/**
 * Study (not part of `pnpm bench`): the CPU one drained job costs, in one process. For each
 * adapter in turn (A B A B), a fresh database, 40,000 no-op jobs bulk-enqueued and
 * `ANALYZE`d, then one worker (concurrency 10, the bench's settings) drains them; prints
 * jobs/s and, per job, the CPU of this Node process and of every PostgreSQL server process
 * (read from /proc, WAL writer and background writer included). Run it on a quiet machine,
 * after `tsc -b bench`, with FlowMonkey compiled as the bench runs it:
 *
 *   npx -y pnpm@10 --filter @flowmonkey/bench exec node --conditions=flowmonkey-compiled \
 *     --import tsx studies/cpu-per-job.ts [rounds]
 */
import { openWithJobs } from '../src/adapter.js';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';
import { postgresCpuMs } from '../src/postgres-cpu.js';

const JOBS = 40_000;
const ROUNDS = Number(process.argv[2] ?? 2);
const ADAPTERS = ['flowmonkey', 'graphile-worker'];
async function drain(name: string): Promise<string> {
  const db = await createBenchDatabase();
  try {
    const adapter = await openWithJobs(name, db.url, JOBS);
    let result = '';
    let ran = 0;
    let first = 0;
    let last = 0;
    const done = new Promise<void>((resolve) => {
      const node = process.cpuUsage();
      const postgres = postgresCpuMs();
      void adapter.startWorker({ concurrency: 10 }, () => {
        if (ran === 0) first = performance.now();
        if (++ran < JOBS) return;
        last = performance.now();
        const used = process.cpuUsage(node);
        const nodeUs = (used.user + used.system) / JOBS;
        const postgresUs = ((postgresCpuMs() - postgres) * 1000) / JOBS;
        const rate = Math.round(JOBS / ((last - first) / 1000));
        result = `${name.padEnd(16)} ${String(rate).padStart(6)} jobs/s   Node ${nodeUs.toFixed(1)} µs/job   PostgreSQL ${postgresUs.toFixed(1)} µs/job`;
        resolve();
      });
    });
    await done;
    await adapter.close();
    return result;
  } finally {
    await dropBenchDatabase(db.name);
  }
}

for (let round = 1; round <= ROUNDS; round++) {
  for (const name of ADAPTERS) process.stdout.write(`round ${round}  ${await drain(name)}\n`);
}
