import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { ConfigError, FlowMonkeyError } from '@flowmonkey/core';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import type { TestServerKind } from './test-server.js';

/** What the global setup hands to every test of the run (via vitest's `provide`/`inject`). */
export interface TestServerContext {
  /** Connection string of an admin role on a maintenance database of the run's server. */
  adminConnectionString: string;
  /** Name of the migrated template database each test database is copied from. */
  templateDatabase: string;
  /** Where the run's server came from. */
  serverKind: TestServerKind;
  /** The server's version, e.g. `18.1`. */
  serverVersion: string;
}

declare module 'vitest' {
  interface ProvidedContext {
    /** The test PostgreSQL server of this run; set by `@flowmonkey/postgres/testing` global setup. */
    flowmonkeyPostgres: TestServerContext;
  }
}

/** A fresh, migrated database of its own for one test file (or one test). */
export interface TestDatabase {
  /** Database name, `fm_test_` followed by random characters unless chosen. */
  name: string;
  /** Connection string of the database, with the admin role's credentials. */
  connectionString: string;
  /** A pool on the database (at most 10 connections), closed by `drop()`. */
  pool: pg.Pool;
  /** Schema FlowMonkey's tables were migrated into. */
  schema: 'flowmonkey';
  /** Closes the pool and drops the database, ending other sessions on it. Safe to call twice. */
  drop(): Promise<void>;
}

/** Options of {@link createTestDatabase}. */
export interface CreateTestDatabaseOptions {
  /** Database name, matching `^[a-z_][a-z0-9_]{0,62}$`. @default `fm_test_` plus 10 random characters */
  name?: string;
}

const DATABASE_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
/** SQLSTATE 55006 object_in_use: "source database is being accessed by other users". */
const OBJECT_IN_USE = '55006';
const CREATE_ATTEMPTS = 20;
const CREATE_RETRY_DELAY_MS = 100;

/**
 * Returns what the global setup provided: the server, its kind and version, and the template
 * database. Throws `ConfigError` (field `globalSetup`) when the vitest project does not use
 * `@flowmonkey/postgres/testing/global-setup` (`src/testing/global-setup.ts`).
 */
export function getTestServerContext(): TestServerContext {
  const context: TestServerContext | undefined = inject('flowmonkeyPostgres');
  if (context === undefined) {
    throw new ConfigError(
      'globalSetup',
      "no test PostgreSQL server was provided; add the global setup '@flowmonkey/postgres/testing/global-setup' to the vitest project",
    );
  }
  return context;
}

/**
 * Creates a database of its own for a test as a copy of the run's migrated template
 * (`CREATE DATABASE ... TEMPLATE ...`), so it starts with schema `flowmonkey` migrated and no
 * rows. While another session still holds the template (SQLSTATE 55006) it retries for about
 * two seconds. The caller owns the result and should `drop()` it.
 */
export async function createTestDatabase(
  options: CreateTestDatabaseOptions = {},
): Promise<TestDatabase> {
  const context = getTestServerContext();
  const name = options.name ?? `fm_test_${randomBytes(8).toString('hex').slice(0, 10)}`;
  if (!DATABASE_NAME_PATTERN.test(name)) {
    throw new ConfigError('name', `must match ${DATABASE_NAME_PATTERN.source}, got "${name}"`);
  }
  await withAdminClient(context.adminConnectionString, (admin) =>
    createFromTemplate(admin, name, context.templateDatabase),
  );
  const connectionString = databaseConnectionString(context.adminConnectionString, name);
  const pool = createTestPool(connectionString);
  let dropped = false;
  const drop = async () => {
    if (dropped) return;
    dropped = true;
    await pool.end();
    await withAdminClient(context.adminConnectionString, (admin) =>
      admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    );
  };
  return { name, connectionString, pool, schema: 'flowmonkey', drop };
}

async function createFromTemplate(admin: pg.Client, name: string, template: string): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await admin.query(`CREATE DATABASE "${name}" TEMPLATE "${template}"`);
      return;
    } catch (error) {
      const busy = error instanceof Error && 'code' in error && error.code === OBJECT_IN_USE;
      if (!busy || attempt >= CREATE_ATTEMPTS) {
        throw new FlowMonkeyError(
          'TEST_DATABASE_CREATE_FAILED',
          `could not create test database "${name}" from template "${template}"`,
          { cause: error, details: { name, template, attempt } },
        );
      }
      await delay(CREATE_RETRY_DELAY_MS);
    }
  }
}

/** Options of {@link createTestPool}. */
export interface CreateTestPoolOptions {
  /** Most connections the pool opens. @default 10 */
  max?: number;
}

/**
 * Opens a `pg.Pool` on `connectionString` for tests (at most `max` connections, 10 by
 * default). Errors of idle connections (a test terminating backends, a dropped database)
 * are ignored instead of crashing the test worker; the pool replaces such connections.
 */
export function createTestPool(
  connectionString: string,
  options: CreateTestPoolOptions = {},
): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: options.max ?? 10 });
  pool.on('error', () => {});
  return pool;
}

/**
 * Gives the calling test file (or `describe` block) a database of its own: `beforeAll`
 * creates it with {@link createTestDatabase}; `afterAll` closes its pool and drops it, unless
 * a test or a hook in the file (or block) failed, in which case the database is kept and its
 * name and connection string are printed for inspection. Returns a getter for tests and hooks.
 */
export function useTestDatabase(options: CreateTestDatabaseOptions = {}): () => TestDatabase {
  let database: TestDatabase | undefined;
  let failed = false;
  beforeAll(async () => {
    database = await createTestDatabase(options);
  });
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => {
      failed = true;
    });
  });
  // vitest parses a hook's first parameter for fixtures and insists on a destructuring
  // pattern there; the suite comes second.
  // biome-ignore lint/correctness/noEmptyPattern: vitest requires a pattern, none is used.
  afterAll(async ({}, suite) => {
    if (database === undefined) return;
    // A failed hook of the block (e.g. a later beforeAll) marks the suite, not a test.
    if (failed || suite.result?.state === 'fail') {
      await database.pool.end();
      console.warn(keptMessage(database));
      return;
    }
    await database.drop();
  });
  return () => {
    if (database === undefined) {
      throw new FlowMonkeyError(
        'TEST_DATABASE_NOT_READY',
        'the test database is created in beforeAll; call the getter inside a test or hook',
      );
    }
    return database;
  };
}

function keptMessage(database: TestDatabase): string {
  const { serverKind } = getTestServerContext();
  const lifetime =
    serverKind === 'DATABASE_URL'
      ? ''
      : ` (it disappears when the ${serverKind} server stops at the end of the run; set DATABASE_URL to keep it)`;
  return `[flowmonkey] a test or hook failed: kept database ${database.name} for inspection${lifetime}: psql '${database.connectionString}'`;
}

/** `adminConnectionString` with its database replaced by `database`. */
function databaseConnectionString(adminConnectionString: string, database: string): string {
  const url = new URL(adminConnectionString);
  url.pathname = `/${database}`;
  return url.toString();
}

async function withAdminClient<T>(
  connectionString: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString });
  client.on('error', () => {});
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
