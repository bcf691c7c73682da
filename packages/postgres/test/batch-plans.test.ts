import { newExecution } from '@flowmonkey/core/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgStores } from '../src/create-pg-stores.js';
import { executionStatements } from '../src/sql/executions.js';
import { createTestPool, useTestDatabase } from '../src/testing/index.js';

const db = useTestDatabase();
const executions = executionStatements('flowmonkey', 'flowmonkey');

/** Rows in the table: small enough that a plan guessing 100 batch rows scans it whole. */
const TABLE_ROWS = 6000;
/**
 * Rows in the batch, as a runner at steady state sends them (the statement is also the
 * first CTE of `parkOnNewJobMany`).
 */
const BATCH = 20;

let client: pg.PoolClient;

beforeAll(async () => {
  const { pool } = db();
  await pool.query(`INSERT INTO flowmonkey.executions (id, flow_id, flow_version, status,
      current_step_id, input, context, output, error, history, step_count, waiting_on, version,
      created_at, updated_at)
    SELECT 'e' || g, 'flow', 1, 'waiting', 'work', '{"i":1}', '{}', 'null', 'null', '[]', 1,
      'null', 1, now(), now()
    FROM generate_series(1, ${TABLE_ROWS}) g`);
  await pool.query('VACUUM ANALYZE flowmonkey.executions');
  client = await pool.connect();
});

afterAll(() => client?.release());

/** The plan PostgreSQL uses for `text` with `values`, as a prepared statement in `mode`. */
async function plan(
  text: string,
  values: unknown[],
  mode: 'force_generic_plan' | 'force_custom_plan',
): Promise<string> {
  await client.query(`SET plan_cache_mode = ${mode}`);
  await client.query(`PREPARE p AS ${text}`);
  try {
    const literals = values.map((v) => client.escapeLiteral(String(v))).join(', ');
    const { rows } = await client.query(`EXPLAIN EXECUTE p(${literals})`);
    return rows.map((row: { 'QUERY PLAN': string }) => row['QUERY PLAN']).join('\n');
  } finally {
    await client.query('DEALLOCATE p');
  }
}

describe(`PgExecutionStore.updateMany on a table of ${TABLE_ROWS} executions`, () => {
  it.each(['force_generic_plan', 'force_custom_plan'] as const)(
    'finds the batch by primary key, not by a scan of the table (%s)',
    async (mode) => {
      const rows = Array.from({ length: BATCH }, (_, i) => ({
        id: `e${i * 97 + 1}`,
        flow_id: 'flow',
        flow_version: 1,
        status: 'running',
        version: 1,
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
      }));
      const text = await plan(
        executions.updateMany.text,
        [JSON.stringify(rows), rows.length],
        mode,
      );
      expect(text).toContain('executions_pkey');
      expect(text).not.toMatch(/Seq Scan on executions/);
    },
  );
});

describe('Stores.completeAndResumeMany without runner events', () => {
  it('settles on a generic plan instead of planning every call afresh', async () => {
    const pool = createTestPool(db().connectionString, { max: 1 });
    try {
      const stores = createPgStores({ pool, notify: false });
      // One connection, so that every call runs the statement it prepared.
      const prepared = async () => {
        const c = await pool.connect();
        try {
          const { rows } = await c.query(
            `SELECT generic_plans, custom_plans FROM pg_prepared_statements
             WHERE name = 'fm_flowmonkey_resumes_completeAndResumeMany'`,
          );
          return rows[0] as { generic_plans: string; custom_plans: string } | undefined;
        } finally {
          c.release();
        }
      };
      for (let i = 0; i < 12; i++) {
        const { execution } = await stores.executions.create(newExecution());
        await stores.jobs.create({ handler: 'plan', executionId: execution.id, stepId: 'first' });
        const [job] = await stores.jobs.claimBatch({ runnerId: 'r', limit: 1, handlers: ['plan'] });
        const written = await stores.completeAndResumeMany({
          items: [{ jobId: job?.id ?? '', leaseId: job?.leaseId ?? '', result: i }],
          executions: [{ execution: { ...execution, stepCount: 1 }, expectedVersion: 0 }],
        });
        expect(written?.executions).toHaveLength(1);
      }
      const counts = await prepared();
      // PostgreSQL makes five custom plans, then keeps the generic one if it is no dearer.
      expect(Number(counts?.generic_plans)).toBeGreaterThan(0);
      expect(Number(counts?.custom_plans)).toBeLessThanOrEqual(6);
    } finally {
      await pool.end();
    }
  });
});
