import { readdirSync, readFileSync } from 'node:fs';
import { ValidationError } from '@flowmonkey/core';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPgStores } from '../src/create-pg-stores.js';
import { mapPgError } from '../src/map-pg-error.js';
import { useTestDatabase } from '../src/testing/index.js';

const MIGRATIONS = new URL('../migrations/', import.meta.url);

/** The shipped migration files' SQL, in order. */
const migrationSql = readdirSync(MIGRATIONS)
  .filter((file) => file.endsWith('.sql'))
  .sort()
  .map((file) => ({ file, sql: readFileSync(new URL(file, MIGRATIONS), 'utf8') }));

/** The SQLSTATE `sql` fails with, or `undefined` when it succeeds (rolled back either way). */
async function sqlstateOf(pool: pg.Pool, sql: string): Promise<string | undefined> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(sql);
    return undefined;
  } catch (error) {
    return (error as { code?: string }).code;
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

const job = (columns: string, values: string) =>
  `INSERT INTO flowmonkey.jobs (id, handler${columns}) VALUES (gen_random_uuid(), 'h'${values})`;
const execution = (columns: string, values: string) =>
  `INSERT INTO flowmonkey.executions (id, flow_id, flow_version, status${columns})
   VALUES ('e-1', 'f', 1, 'running'${values})`;

describe('schema guards', () => {
  const db = useTestDatabase();

  // Rows written around the stores (a hand-written fix, another program) meet the same rules
  // the stores check at their boundary; the stores' own tests cover what the stores refuse.
  it.each([
    ['a job handler of 256 characters', job('', '').replace("'h'", "repeat('x', 256)")],
    ['an empty job queue', job(', queue', ", ''")],
    ['a job queue of 129 characters', job(', queue', ", repeat('q', 129)")],
    ['a job priority of 1001', job(', priority', ', 1001')],
    ['a job priority of -1001', job(', priority', ', -1001')],
    ['negative job attempts', job(', attempts', ', -1')],
    ['zero max attempts', job(', max_attempts', ', 0')],
    ['a zero job timeout', job(', timeout_ms', ', 0')],
    ['progress of 101 %', job(', progress_percent', ', 101')],
    ['a progress message of 2,001 characters', job(', progress_message', ", repeat('m', 2001)")],
    ['an empty idempotency key', job(', idempotency_key', ", ''")],
    ['an unknown job status', job(', status', ", 'paused'")],
    ['a running job without a lease', job(', status', ", 'running'")],
    ['an empty execution id', execution('', '').replace("'e-1'", "''")],
    ['a negative execution version', execution(', version', ', -1')],
    ['an unknown execution status', execution('', '').replace("'running'", "'paused'")],
    [
      'a negative history attempt',
      `INSERT INTO flowmonkey.job_events (job_id, kind, attempt)
       VALUES (gen_random_uuid(), 'created', -1)`,
    ],
  ])('refuses %s written around the stores (check_violation)', async (_, sql) => {
    expect(await sqlstateOf(db().pool, sql)).toBe('23514');
  });

  it.each([
    ['priority', job(', priority', ', 1001')],
    ['queue', job(', queue', ", ''")],
    ['maxAttempts', job(', max_attempts', ', 0')],
    ['progressPercent', job(', progress_percent', ', 101')],
    ['shortText', job('', '').replace("'h'", "repeat('x', 256)")],
    ['status', job(', status', ", 'paused'")],
  ])('maps a refused row to a ValidationError naming %s', async (field, sql) => {
    const error = await db()
      .pool.query(sql)
      .then(
        () => undefined,
        (e: unknown) => mapPgError(e),
      );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
  });

  it('accepts the boundary values of every rule', async () => {
    const sql = job(
      ', queue, priority, attempts, max_attempts, timeout_ms, progress_percent, progress_message',
      ", repeat('q', 128), -1000, 0, 1, 1, 100, ''",
    );
    expect(await sqlstateOf(db().pool, sql)).toBeUndefined();
    expect(await sqlstateOf(db().pool, execution(', version', ', 0'))).toBeUndefined();
  });

  it('keeps the rows of a schema migrated before 00005 and guards them afterwards', async () => {
    const { pool } = db();
    const [before, after] = [
      migrationSql.filter(({ file }) => file < '00005'),
      migrationSql.filter(({ file }) => file >= '00005'),
    ];
    const client = await pool.connect();
    try {
      await client.query('CREATE SCHEMA upgraded; SET search_path = upgraded');
      for (const { sql } of before) await client.query(sql);
      await client.query(`INSERT INTO jobs (id, handler, priority, execution_id, step_id)
        VALUES ('00000000-0000-4000-8000-000000000001', 'h', 7, 'e-1', 's-1')`);
      await client.query(`INSERT INTO executions (id, flow_id, flow_version, status, version)
        VALUES ('e-1', 'f', 2, 'waiting', 3)`);
      for (const { sql } of after) await client.query(sql);
    } finally {
      await client.query('RESET search_path');
      client.release();
    }
    const stores = createPgStores({ pool, schema: 'upgraded', notify: false });
    const kept = await stores.jobs.get('00000000-0000-4000-8000-000000000001');
    expect(kept).toMatchObject({ handler: 'h', priority: 7, executionId: 'e-1', stepId: 's-1' });
    expect(await stores.executions.get('e-1')).toMatchObject({ flowVersion: 2, version: 3 });
    const claimed = await stores.jobs.claimBatch({ runnerId: 'r-1', limit: 10 });
    expect(claimed.map((j) => j.id)).toEqual(['00000000-0000-4000-8000-000000000001']);
    expect(
      await sqlstateOf(pool, "UPDATE upgraded.jobs SET priority = 1001 WHERE handler = 'h'"),
    ).toBe('23514');
  });
});
