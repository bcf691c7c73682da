import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, FlowMonkeyError } from '@flowmonkey/core';
import { startEmbeddedPostgres } from '../embedded-postgres.js';
import { readServerVersion } from '../server-version.js';
import { withTimeout } from '../with-timeout.js';

/** Where a test server came from, in the order {@link acquireTestServer} tries them. */
export type TestServerKind = 'DATABASE_URL' | 'testcontainers' | 'embedded';

/** A PostgreSQL server for one test run, as returned by {@link acquireTestServer}. */
export interface TestServer {
  /** Connection string of a superuser (or CREATEDB role) on a maintenance database. */
  adminConnectionString: string;
  /** Which source the server came from. */
  kind: TestServerKind;
  /** The server's `server_version`, e.g. `18.1` (distribution suffixes removed). */
  version: string;
  /** Stops and removes the server when this run started it; a no-op for `DATABASE_URL`. */
  stop(): Promise<void>;
}

/** Options of {@link acquireTestServer}; every field is optional. */
export interface AcquireTestServerOptions {
  /** Environment to read `DATABASE_URL`, `DOCKER_HOST` and `XDG_RUNTIME_DIR` from. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for a Docker engine to answer before using embedded-postgres, in ms. @default 1000 */
  dockerProbeTimeoutMs?: number;
  /** How long embedded-postgres may take to initialise and start, in ms. @default 60000 */
  embeddedStartTimeoutMs?: number;
  /** Image testcontainers starts when Docker answers. @default 'postgres:18-alpine' */
  image?: string;
  /** Receives the one line saying which server was chosen. @default console.log */
  log?: (line: string) => void;
}

/** Flags for throw-away test servers: durability off, room for many parallel pools. */
const TEST_SERVER_SETTINGS: readonly string[] = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=300',
];

/**
 * Gets one PostgreSQL server for a test run: the server named by `DATABASE_URL` when it is
 * set; otherwise a testcontainers PostgreSQL container when a Docker engine answers within
 * `dockerProbeTimeoutMs` (1 s by default); otherwise an embedded-postgres (PostgreSQL 18)
 * server on a free port with a fresh data directory under the OS temp directory. Logs one
 * line naming the choice and the version. testcontainers and embedded-postgres are loaded
 * only when used. Throws `ConfigError` (field `DATABASE_URL`) for an unusable URL and a
 * `FlowMonkeyError` with code `TEST_SERVER_START_FAILED` when no server could be started.
 */
export async function acquireTestServer(
  options: AcquireTestServerOptions = {},
): Promise<TestServer> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const started = performance.now();
  let server: TestServer;
  let where: string;
  const databaseUrl = env.DATABASE_URL;
  if (databaseUrl !== undefined && databaseUrl !== '') {
    where = describeUrl(databaseUrl);
    server = await useDatabaseUrl(databaseUrl);
  } else {
    const probeStarted = performance.now();
    const docker = await dockerEngineAnswers(env, options.dockerProbeTimeoutMs ?? 1000);
    const probeMs = Math.round(performance.now() - probeStarted);
    if (docker) {
      server = await startTestcontainers(options.image ?? 'postgres:18-alpine');
    } else {
      server = await startEmbedded(options.embeddedStartTimeoutMs ?? 60_000);
    }
    where = `${describeUrl(server.adminConnectionString)}, Docker probe ${probeMs} ms`;
  }
  const ms = Math.round(performance.now() - started);
  log(
    `[flowmonkey] test PostgreSQL: ${server.kind} ${server.version} (${where}; ready in ${ms} ms)`,
  );
  return server;
}

async function useDatabaseUrl(url: string): Promise<TestServer> {
  try {
    new URL(url);
  } catch (error) {
    throw new ConfigError('DATABASE_URL', 'must be a postgres:// URL', { cause: error });
  }
  const version = await readServerVersion(url);
  return { adminConnectionString: url, kind: 'DATABASE_URL', version, stop: async () => {} };
}

/**
 * Resolves true when a Docker engine answers `GET /_ping` within `timeoutMs` on `DOCKER_HOST`
 * (unix:// or tcp://) or, when that is unset, on the usual local sockets. Missing sockets are
 * noticed at once, so on a machine without Docker this returns in well under the timeout.
 */
export async function dockerEngineAnswers(
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<boolean> {
  const targets = dockerTargets(env);
  if (targets.length === 0) return false;
  const probes = targets.map((target) => pingDocker(target, timeoutMs));
  const firstYes = new Promise<boolean>((resolve) => {
    for (const probe of probes) void probe.then((yes) => yes && resolve(true));
    void Promise.all(probes).then(() => resolve(false));
  });
  return withTimeout(firstYes, timeoutMs).catch(() => false);
}

type DockerTarget = { socketPath: string } | { host: string; port: number };

function dockerTargets(env: NodeJS.ProcessEnv): DockerTarget[] {
  const dockerHost = env.DOCKER_HOST;
  if (dockerHost !== undefined && dockerHost !== '') {
    if (dockerHost.startsWith('unix://'))
      return [{ socketPath: dockerHost.slice('unix://'.length) }];
    if (dockerHost.startsWith('tcp://')) {
      const url = new URL(dockerHost.replace(/^tcp:/, 'http:'));
      return [{ host: url.hostname, port: Number(url.port || 2375) }];
    }
    return [];
  }
  const sockets = ['/var/run/docker.sock', join(homedir(), '.docker', 'run', 'docker.sock')];
  if (env.XDG_RUNTIME_DIR) sockets.push(join(env.XDG_RUNTIME_DIR, 'docker.sock'));
  return sockets.map((socketPath) => ({ socketPath }));
}

async function pingDocker(target: DockerTarget, timeoutMs: number): Promise<boolean> {
  if ('socketPath' in target) {
    const exists = await stat(target.socketPath).then(
      (s) => s.isSocket(),
      () => false,
    );
    if (!exists) return false;
  }
  return new Promise<boolean>((resolve) => {
    const req = request(
      { ...target, agent: false, path: '/_ping', method: 'GET', timeout: timeoutMs },
      (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end();
  });
}

async function startTestcontainers(image: string): Promise<TestServer> {
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer(image)
      .withCommand(['postgres', ...TEST_SERVER_SETTINGS.flatMap((s) => ['-c', s])])
      .start();
    const adminConnectionString = container.getConnectionUri();
    const version = await readServerVersion(adminConnectionString);
    return {
      adminConnectionString,
      kind: 'testcontainers',
      version,
      stop: async () => {
        await container.stop();
      },
    };
  } catch (error) {
    throw startFailed('testcontainers', error);
  }
}

async function startEmbedded(timeoutMs: number): Promise<TestServer> {
  try {
    const server = await startEmbeddedPostgres({
      settings: TEST_SERVER_SETTINGS,
      startTimeoutMs: timeoutMs,
    });
    return {
      adminConnectionString: server.connectionString,
      kind: 'embedded',
      version: server.version,
      stop: server.stop,
    };
  } catch (error) {
    throw startFailed('embedded-postgres', error);
  }
}

function startFailed(what: string, error: unknown): FlowMonkeyError {
  return new FlowMonkeyError('TEST_SERVER_START_FAILED', `could not start ${what}`, {
    cause: error,
  });
}

/** `host:port/database` of a connection URL, without credentials, for log lines. */
function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'unparsable URL';
  }
}
