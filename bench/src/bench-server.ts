import pg from 'pg';
import { LOCAL_DATABASE_URL } from './database.js';

/** The server a run of `pnpm bench` uses (see {@link benchServer}). */
export interface BenchServer {
  /** Which server, for the run's facts. */
  description: string;
  /**
   * Whether it runs on this machine, so that its processes' CPU can be read from /proc
   * (see `postgresCpuMs`): the CPU-per-job figures are only taken then.
   */
  local: boolean;
  /** Stops it if the run started it; a no-op otherwise. */
  stop: () => Promise<void>;
}

/**
 * True when a failed connect means that nothing listens there (refused, unreachable, timed
 * out), so a run may start a server of its own; false for a server that answered and
 * refused (a wrong password, a missing role, starting up, too many connections).
 */
export function nothingAnswered(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ETIMEDOUT') return true;
  return error instanceof Error && /timeout/i.test(error.message);
}

/**
 * True when a connection string names a server on this machine: a loopback host, or a
 * Unix socket (a `host` that is a directory, or none at all, as libpq defaults to).
 */
export function isLoopback(connectionString: string): boolean {
  if (!URL.canParse(connectionString)) return false;
  const url = new URL(connectionString);
  const socket = url.searchParams.get('host');
  if (socket !== null) return socket.startsWith('/');
  return ['', 'localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/**
 * Finds the server for a run: `BENCH_DATABASE_URL` when set, else the machine's PostgreSQL
 * on 127.0.0.1:5432, else (nothing answers there) a throw-away embedded PostgreSQL, as the
 * demo and the tests use, which `BENCH_DATABASE_URL` then points at for this process and
 * the workload processes it starts. A local server that answers but refuses the connection
 * is an error, not a reason to measure another server.
 */
export async function benchServer(): Promise<BenchServer> {
  const given = process.env.BENCH_DATABASE_URL;
  if (given !== undefined) {
    // The host only: the URL may carry a password.
    const host = URL.canParse(given) ? new URL(given).host : 'not a URL';
    return {
      description: `BENCH_DATABASE_URL (${host})`,
      local: isLoopback(given),
      stop: async () => {},
    };
  }
  const local = new pg.Client({
    connectionString: LOCAL_DATABASE_URL,
    connectionTimeoutMillis: 3000,
  });
  try {
    await local.connect();
    await local.end();
    return {
      description: "the machine's PostgreSQL on 127.0.0.1:5432",
      local: true,
      stop: async () => {},
    };
  } catch (error) {
    await local.end().catch(() => {});
    if (!nothingAnswered(error)) throw error;
  }
  // Loaded only here: the workload processes and studies that share database.ts need none
  // of FlowMonkey.
  const { startEmbeddedPostgres } = await import('@flowmonkey/postgres');
  const server = await startEmbeddedPostgres();
  process.env.BENCH_DATABASE_URL = server.connectionString;
  return {
    description: `embedded PostgreSQL ${server.version} (nothing answered on 127.0.0.1:5432)`,
    local: true,
    stop: () => server.stop(),
  };
}
