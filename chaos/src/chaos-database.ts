import { type EmbeddedPostgresServer, migrate, startEmbeddedPostgres } from '@flowmonkey/postgres';
import pg from 'pg';

/** A PostgreSQL server owned by one scenario, migrated, with the oracle's table. */
export interface ChaosDatabase {
  server: EmbeddedPostgresServer;
  /** Connection string of the scenario's database (`postgres`). */
  url: string;
  /** A pool for the scenario's own queries (oracle, enqueue, reaper). */
  pool: pg.Pool;
  /** Closes the pool and stops the server (its data directory is deleted). */
  close(): Promise<void>;
}

/**
 * The oracle's table: every handler run writes one row keyed by `(job_id, attempt)`. It has
 * no unique key on purpose, so two holders of the same attempt would show up as two rows.
 */
const SIDE_EFFECTS = `CREATE TABLE IF NOT EXISTS chaos_side_effects (
  job_id uuid NOT NULL,
  attempt integer NOT NULL,
  runner text NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
)`;

/** Options of {@link startChaosDatabase}; every field is optional. */
export interface ChaosDatabaseOptions {
  /**
   * Server settings as `name=value`, added after the suite's own (`fsync=off`,
   * `full_page_writes=off`, `max_connections=300`), e.g. `autovacuum_naptime=1s`.
   * @default none
   */
  settings?: readonly string[];
}

/**
 * Starts an embedded PostgreSQL server for one scenario (`fsync=off` for speed: an
 * immediate stop kills processes, not the OS, so no commit is lost) with any extra
 * `settings`, migrates the `flowmonkey` schema and creates the oracle's table.
 */
export async function startChaosDatabase(
  options: ChaosDatabaseOptions = {},
): Promise<ChaosDatabase> {
  const server = await startEmbeddedPostgres({
    settings: [
      'fsync=off',
      'full_page_writes=off',
      'max_connections=300',
      ...(options.settings ?? []),
    ],
  });
  const pool = new pg.Pool({ connectionString: server.connectionString, max: 10 });
  pool.on('error', () => {});
  await migrate({ pool });
  await pool.query(SIDE_EFFECTS);
  return {
    server,
    url: server.connectionString,
    pool,
    async close() {
      await pool.end().catch(() => {});
      await server.stop();
    },
  };
}

/** True when the scenario runs its long form (`pnpm test:chaos -- --long`). */
export const LONG = process.env.CHAOS_LONG === '1';

/** `short` normally, `long` under `--long`. */
export function size<T>(short: T, long: T): T {
  return LONG ? long : short;
}
