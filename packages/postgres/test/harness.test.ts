import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@flowmonkey/core';
import { afterAll, describe, expect, it } from 'vitest';
import {
  acquireTestServer,
  createTestDatabase,
  createTestPool,
  dockerEngineAnswers,
  getTestServerContext,
  type TestDatabase,
  useTestDatabase,
} from '../src/testing/index.js';

const admin = createTestPool(getTestServerContext().adminConnectionString);
afterAll(() => admin.end());

async function databaseExists(name: string): Promise<boolean> {
  const result = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  return result.rowCount === 1;
}

async function countJobs(db: TestDatabase): Promise<number> {
  const result = await db.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM flowmonkey.jobs',
  );
  return result.rows[0]?.n ?? -1;
}

describe('useTestDatabase', () => {
  const db = useTestDatabase();

  it('gives the file a database of its own, connected through its pool', async () => {
    const { name, pool, connectionString } = db();
    expect(name).toMatch(/^fm_test_[a-z0-9]+$/);
    expect(await databaseExists(name)).toBe(true);
    const result = await pool.query<{ db: string }>('SELECT current_database() AS db');
    expect(result.rows[0]?.db).toBe(name);
    expect(new URL(connectionString).pathname).toBe(`/${name}`);
  });

  it('is migrated into schema flowmonkey', async () => {
    expect(db().schema).toBe('flowmonkey');
    const result = await db().pool.query<{ jobs: string | null }>(
      "SELECT to_regclass('flowmonkey.jobs')::text AS jobs",
    );
    expect(result.rows[0]?.jobs).toBe('flowmonkey.jobs');
  });

  it('is a fresh copy of the template: rows written here are not in another test database', async () => {
    await db().pool.query(
      "INSERT INTO flowmonkey.jobs (id, handler) VALUES (gen_random_uuid(), 'harness-probe')",
    );
    const other = await createTestDatabase();
    try {
      expect(other.name).not.toBe(db().name);
      expect(await countJobs(db())).toBe(1);
      expect(await countJobs(other)).toBe(0);
    } finally {
      await other.drop();
    }
  });
});

describe('createTestDatabase', () => {
  it('uses the given name and drop() removes the database, also when called twice', async () => {
    const name = `fm_test_named_${process.pid}`;
    const db = await createTestDatabase({ name });
    expect(db.name).toBe(name);
    expect(await databaseExists(name)).toBe(true);
    await db.drop();
    await db.drop();
    expect(await databaseExists(name)).toBe(false);
  });

  it('refuses a name that is not a plain lower-case identifier', async () => {
    const attempt = createTestDatabase({ name: 'Robert"; DROP DATABASE postgres; --' });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toMatchObject({ field: 'name' });
  });
});

describe('getTestServerContext', () => {
  it('reports the kind and the version of the server the tests really run on', async () => {
    const context = getTestServerContext();
    const expectedKind = process.env.DATABASE_URL ? 'DATABASE_URL' : ['testcontainers', 'embedded'];
    if (typeof expectedKind === 'string') expect(context.serverKind).toBe(expectedKind);
    else expect(expectedKind).toContain(context.serverKind);
    const result = await admin.query<{ server_version_num: string }>('SHOW server_version_num');
    const major = Math.floor(Number(result.rows[0]?.server_version_num) / 10_000);
    expect(context.serverVersion.split('.')[0]).toBe(String(major));
    expect(major).toBeGreaterThanOrEqual(14);
  });

  it('names a template database that is closed to connections, so copying it never waits', async () => {
    const { templateDatabase } = getTestServerContext();
    const result = await admin.query<{ datallowconn: boolean }>(
      'SELECT datallowconn FROM pg_database WHERE datname = $1',
      [templateDatabase],
    );
    expect(result.rows).toEqual([{ datallowconn: false }]);
  });
});

describe('acquireTestServer', () => {
  it('uses DATABASE_URL when set, reports its version and leaves it running on stop()', async () => {
    const { adminConnectionString, serverVersion } = getTestServerContext();
    const lines: string[] = [];
    const server = await acquireTestServer({
      env: { DATABASE_URL: adminConnectionString },
      log: (line) => lines.push(line),
    });
    expect(server).toMatchObject({ kind: 'DATABASE_URL', version: serverVersion });
    expect(server.adminConnectionString).toBe(adminConnectionString);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`DATABASE_URL ${serverVersion}`);
    await server.stop();
    expect((await admin.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('refuses a DATABASE_URL that is not a URL, naming the variable', async () => {
    const attempt = acquireTestServer({ env: { DATABASE_URL: 'host=localhost dbname=x' } });
    await expect(attempt).rejects.toMatchObject({ field: 'DATABASE_URL' });
  });
});

describe('dockerEngineAnswers', () => {
  const servers: Server[] = [];
  afterAll(() => Promise.all(servers.map((s) => new Promise((done) => s.close(done)))));

  async function listen(server: Server, where: number | string): Promise<Server> {
    servers.push(server);
    await new Promise<void>((done) =>
      typeof where === 'string' ? server.listen(where, done) : server.listen(0, '127.0.0.1', done),
    );
    return server;
  }

  function portOf(server: Server): number {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('not a TCP server');
    return address.port;
  }

  const dockerLike = () =>
    createHttpServer((req, res) => {
      res.statusCode = req.url === '/_ping' ? 200 : 404;
      res.end('OK');
    });

  it('is true when DOCKER_HOST answers /_ping over TCP or a unix socket', async () => {
    const tcp = await listen(dockerLike(), 0);
    const socketPath = join(tmpdir(), `fm-docker-${process.pid}.sock`);
    await listen(dockerLike(), socketPath);
    expect(await dockerEngineAnswers({ DOCKER_HOST: `tcp://127.0.0.1:${portOf(tcp)}` }, 1000)).toBe(
      true,
    );
    expect(await dockerEngineAnswers({ DOCKER_HOST: `unix://${socketPath}` }, 1000)).toBe(true);
  });

  it('is false when nothing listens, or when the listener never answers within the timeout', async () => {
    const silent = await listen(
      createTcpServer((socket) => socket.resume()),
      0,
    );
    const missing = join(tmpdir(), `fm-no-docker-${process.pid}.sock`);
    expect(await dockerEngineAnswers({ DOCKER_HOST: `unix://${missing}` }, 1000)).toBe(false);
    expect(
      await dockerEngineAnswers({ DOCKER_HOST: `tcp://127.0.0.1:${portOf(silent)}` }, 50),
    ).toBe(false);
  });
});
