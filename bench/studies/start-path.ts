/**
 * Study (not part of `pnpm bench`): what bounds `engine.start` of the workflow benchmark's
 * flow (inline, then stateful) from 10 producers. Starts N executions per variant, in turns,
 * and prints starts/s with the Node CPU per start (this process) and the PostgreSQL CPU per
 * start (every server process, from /proc), with `synchronous_commit` on and off (the
 * latter shows what the commits' WAL flushes cost).
 *
 *   npx -y pnpm@10 exec tsc -b bench && STARTS=3000 ROUNDS=3 npx -y pnpm@10 --filter @flowmonkey/bench exec \
 *     node --conditions=flowmonkey-compiled --import tsx studies/start-path.ts
 */
import { Engine } from '@flowmonkey/core';
import { createPgStores, migrate } from '@flowmonkey/postgres';
import pg from 'pg';
import { createBenchDatabase, dropBenchDatabase } from '../src/database.js';
import { benchFlow, workflowHandlers } from '../src/flowmonkey-workflow.js';
import { postgresCpuMs } from '../src/postgres-cpu.js';

const N = Number(process.env.STARTS ?? 3000);
const PRODUCERS = 10;
const ROUNDS = Number(process.env.ROUNDS ?? 3);

async function startAll(url: string, syncCommit: boolean): Promise<string> {
  const pool = new pg.Pool({
    connectionString: url,
    max: PRODUCERS,
    options: syncCommit ? undefined : '-c synchronous_commit=off',
  });
  pool.on('error', () => {});
  const stores = createPgStores({ pool });
  const engine = new Engine({ stores, handlers: workflowHandlers(() => {}), flows: [benchFlow] });
  // Warm the connections and the prepared statements.
  await Promise.all(Array.from({ length: PRODUCERS }, (_, i) => engine.start('bench', { i: -i })));
  const cpu0 = process.cpuUsage();
  const pg0 = postgresCpuMs();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: PRODUCERS }, async () => {
      while (next < N) await engine.start('bench', { i: next++ });
    }),
  );
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const pgMs = postgresCpuMs() - pg0;
  await stores.notifier.flush();
  await pool.end();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const perStart = (us: number) => (us / N).toFixed(0);
  return `${(N / (ms / 1000)).toFixed(0)} starts/s, Node ${perStart(cpu.user + cpu.system)} µs, PostgreSQL ${perStart(pgMs * 1000)} µs per start`;
}

for (let round = 1; round <= ROUNDS; round++) {
  for (const syncCommit of [true, false]) {
    const { name, url } = await createBenchDatabase();
    try {
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      await migrate({ pool });
      await pool.end();
      const label = `synchronous_commit ${syncCommit ? 'on ' : 'off'}`;
      console.log(`round ${round}, ${label}: ${await startAll(url, syncCommit)}`);
    } finally {
      await dropBenchDatabase(name);
    }
  }
}
