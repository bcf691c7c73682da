import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, type Logger, noopLogger } from '@flowmonkey/core';
import pg from 'pg';
import { migrate as runMigrations } from 'postgres-migrations';
import { assertSchemaName, DEFAULT_SCHEMA, quoteIdent } from './schema-name.js';

/** Options of {@link migrate}. Give `pool` or `connectionString`. */
export interface MigrateOptions {
  /** A pool to borrow one connection from; it is not closed. */
  pool?: pg.Pool;
  /** Used to open (and close again) a single connection when no `pool` is given. */
  connectionString?: string;
  /** Schema to migrate, created when missing. @default 'flowmonkey' */
  schema?: string;
  /** Receives the migration library's progress lines at debug level. @default no logging */
  logger?: Logger;
}

/** Result of {@link migrate}. */
export interface MigrateResult {
  /** Names of the migrations this call applied, in order; empty when already up to date. */
  applied: string[];
}

/**
 * Key of the advisory lock taken around a migration, paired with `hashtext(schema)`.
 * It serialises migrations of one schema across processes without waiting on the
 * library's own lock, which polls once a second.
 */
const MIGRATE_LOCK_CLASS = 0x466d4d67; // 'FmMg'

/**
 * DDL of postgres-migrations' own bookkeeping table, created here first inside our schema:
 * the library checks for a table called `migrations` in any schema, so without this a
 * second FlowMonkey schema in the same database would be mistaken for a migrated one.
 */
const MIGRATIONS_TABLE_DDL = `CREATE TABLE IF NOT EXISTS migrations (
  id integer PRIMARY KEY,
  name varchar(100) UNIQUE NOT NULL,
  hash varchar(40) NOT NULL,
  executed_at timestamp DEFAULT current_timestamp
)`;

/**
 * Brings the FlowMonkey schema (default `flowmonkey`) up to date: creates the schema when
 * missing, then applies the numbered SQL files of `packages/postgres/migrations` not yet
 * applied, each in its own transaction. The migration bookkeeping table lives in the same
 * schema. Safe to call from many processes at once (an advisory lock serialises them) and
 * a no-op when up to date. Throws `ConfigError` for a bad schema name or missing connection.
 */
export async function migrate(options: MigrateOptions): Promise<MigrateResult> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const logger = (options.logger ?? noopLogger).child({ component: 'migrate', schema });
  const directory = migrationsDirectory();
  const { client, done } = await connect(options);
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [MIGRATE_LOCK_CLASS, schema]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
      // Session-level search_path: the SQL files use unqualified names, so they land in
      // this schema; pg_catalog stays implicitly searched for built-in functions.
      await client.query(`SET search_path TO ${quoteIdent(schema)}`);
      await client.query(MIGRATIONS_TABLE_DDL);
      const ran = await runMigrations({ client }, directory, {
        logger: (msg) => logger.debug({}, msg),
      });
      const applied = ran.filter((m) => m.id > 0).map((m) => m.name);
      if (applied.length > 0) logger.info({ applied }, 'migrations applied');
      return { applied };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [
        MIGRATE_LOCK_CLASS,
        schema,
      ]);
    }
  } finally {
    // The session's search_path was changed, so a pooled connection is discarded
    // rather than handed back to other users of the pool.
    await done();
  }
}

async function connect(
  options: MigrateOptions,
): Promise<{ client: pg.Client | pg.PoolClient; done: () => Promise<void> }> {
  if (options.pool !== undefined) {
    const client = await options.pool.connect();
    return {
      client,
      done: async () => {
        client.release(true);
      },
    };
  }
  if (options.connectionString !== undefined) {
    const client = new pg.Client({ connectionString: options.connectionString });
    client.on('error', () => {});
    await client.connect();
    return { client, done: () => client.end() };
  }
  throw new ConfigError('pool', 'migrate needs a pool or a connectionString');
}

/** Finds the SQL files both from `src/` (tsx, vitest) and from a build in `dist/src/`. */
function migrationsDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, '../migrations'), resolve(here, '../../migrations')];
  const found = candidates.find((dir) => existsSync(resolve(dir, '00001_initial.sql')));
  if (found === undefined) {
    throw new ConfigError('migrations', `SQL files not found in ${candidates.join(' or ')}`);
  }
  return found;
}
