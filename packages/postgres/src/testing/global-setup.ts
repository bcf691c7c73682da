import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrate } from '../migrate.js';
import type { TestServerContext } from './test-database.js';
import { acquireTestServer, type TestServer } from './test-server.js';

/*
 * One server per test run, shared by every project that lists this file.
 *
 * vitest 4 runs a project's `globalSetup` once per project, sequentially, in the main
 * process, and always runs the root config's `globalSetup` even for `--project core` (so a
 * root-level setup would start PostgreSQL for core-only runs). Each project therefore lists
 * this file, and the projects share one server through a reference-counted entry on
 * `globalThis` (module state would not do: each project imports the file through its own
 * module runner). The last project's teardown drops the template and stops the server.
 */

interface SharedServer {
  ready: Promise<{ server: TestServer; context: TestServerContext }>;
  users: number;
}

const SHARED_KEY = Symbol.for('flowmonkey.testing.sharedServer');
const shared = globalThis as typeof globalThis & { [SHARED_KEY]?: SharedServer };

/**
 * vitest global setup for PostgreSQL-backed tests: gets one server for the run
 * ({@link acquireTestServer}), creates and migrates a template database (schema
 * `flowmonkey`, name `fm_tpl_` plus random characters) and provides `flowmonkeyPostgres`
 * to the project's tests. The returned teardown drops the template and stops a server the
 * run started (never a `DATABASE_URL` server) once the last project using it is done.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let entry = shared[SHARED_KEY];
  if (entry === undefined) {
    entry = { ready: prepare(), users: 0 };
    shared[SHARED_KEY] = entry;
  }
  entry.users += 1;
  const owned = entry;
  const { context } = await owned.ready;
  project.provide('flowmonkeyPostgres', context);
  return async () => {
    owned.users -= 1;
    if (owned.users > 0) return;
    shared[SHARED_KEY] = undefined;
    const { server } = await owned.ready;
    try {
      await adminQuery(
        server.adminConnectionString,
        `DROP DATABASE IF EXISTS "${context.templateDatabase}" WITH (FORCE)`,
      );
    } finally {
      await server.stop();
    }
  };
}

async function prepare(): Promise<{ server: TestServer; context: TestServerContext }> {
  const server = await acquireTestServer();
  const templateDatabase = `fm_tpl_${randomBytes(8).toString('hex').slice(0, 10)}`;
  try {
    const started = performance.now();
    await adminQuery(server.adminConnectionString, `CREATE DATABASE "${templateDatabase}"`);
    const url = new URL(server.adminConnectionString);
    url.pathname = `/${templateDatabase}`;
    const { applied } = await migrate({ connectionString: url.toString(), schema: 'flowmonkey' });
    // No one may connect to the template any more: a session on it would make every
    // CREATE DATABASE ... TEMPLATE fail with "source database is being accessed".
    await adminQuery(
      server.adminConnectionString,
      `ALTER DATABASE "${templateDatabase}" ALLOW_CONNECTIONS false`,
    );
    const ms = Math.round(performance.now() - started);
    console.log(
      `[flowmonkey] template database ${templateDatabase}: ${applied.length} migrations in ${ms} ms`,
    );
    const context: TestServerContext = {
      adminConnectionString: server.adminConnectionString,
      templateDatabase,
      serverKind: server.kind,
      serverVersion: server.version,
    };
    return { server, context };
  } catch (error) {
    const drop = `DROP DATABASE IF EXISTS "${templateDatabase}" WITH (FORCE)`;
    await adminQuery(server.adminConnectionString, drop).catch(() => {});
    await server.stop();
    throw error;
  }
}

async function adminQuery(connectionString: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
