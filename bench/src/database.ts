import os from 'node:os';
import pg from 'pg';

/** The machine's own PostgreSQL, where the benchmarks run when nothing else is said. */
export const LOCAL_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * The server the benchmarks run against: `BENCH_DATABASE_URL`, else the machine's
 * PostgreSQL (`pnpm bench` may point the variable at an embedded server: see
 * `bench-server.ts`). Read on every use, not at import.
 */
function adminUrl(): string {
  return process.env.BENCH_DATABASE_URL ?? LOCAL_DATABASE_URL;
}

let counter = 0;

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates a fresh database `fm_bench_<pid>_<n>` and returns its URL and name. */
export async function createBenchDatabase(): Promise<{ name: string; url: string }> {
  const name = `fm_bench_${process.pid}_${++counter}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Drops a database this process created (terminating its leftover connections). */
export async function dropBenchDatabase(name: string): Promise<void> {
  if (!/^fm_bench_\d+_\d+$/.test(name)) throw new Error(`refusing to drop "${name}"`);
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
}

/**
 * Runs `ANALYZE` (or `VACUUM ANALYZE`) on the database at `url`: planner statistics, as
 * autovacuum would gather them within a minute of a bulk load.
 */
export async function analyzeDatabase(
  url: string,
  sql: 'ANALYZE' | 'VACUUM ANALYZE' = 'ANALYZE',
): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Machine and server facts printed with the results. */
export async function machineFacts(): Promise<Record<string, string>> {
  const settings = [
    'shared_buffers',
    'synchronous_commit',
    'fsync',
    'wal_level',
    'max_connections',
    'work_mem',
    'commit_delay',
    'jit',
  ];
  return admin(async (c) => {
    const version = (await c.query<{ v: string }>('SELECT version() AS v')).rows[0]?.v ?? '';
    const { rows } = await c.query<{ name: string; setting: string; unit: string | null }>(
      'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1) ORDER BY name',
      [settings],
    );
    return {
      date: new Date().toISOString(),
      cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
      memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
      node: process.version,
      postgres: version.split(' on ')[0] ?? version,
      'postgres settings': rows.map((r) => `${r.name}=${r.setting}${r.unit ?? ''}`).join(', '),
      'load average at start': os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' '),
    };
  });
}
