import { randomUUID } from 'node:crypto';
import type { Execution } from '@flowmonkey/core';
import { newExecution } from '@flowmonkey/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { createPgStores, type PgStores } from '../src/create-pg-stores.js';
import { useTestDatabase } from '../src/testing/index.js';
import { truncateAll } from './helpers.js';

const db = useTestDatabase();
let stores: PgStores;

beforeEach(async () => {
  await truncateAll(db().pool);
  stores = createPgStores({ pool: db().pool, notify: false });
});

/** An execution whose texts need escaping (quotes, backslashes, a newline, non-ASCII). */
function execution(overrides: Partial<Execution> = {}): Execution {
  const now = Date.now();
  return newExecution({
    flowId: 'flow "quoted" \\ back',
    flowVersion: 3,
    currentStepId: 'étape',
    input: { order: 42, note: 'a "quote", a \\ and \n a newline' },
    context: { input: { order: 42 }, charge: { ok: true, cents: [1, 2.5, -3] } },
    history: [
      {
        stepId: 'first',
        attempt: 1,
        startedAt: now - 900,
        finishedAt: now - 800,
        outcome: 'success',
        jobId: null,
        error: null,
      },
    ],
    stepCount: 1,
    tenantId: 'tenant-7',
    createdAt: now - 1000,
    updatedAt: now,
    ...overrides,
  });
}

/** The stored row as PostgreSQL has it: payloads as jsonb text, times as text with µs. */
async function storedRow(id: string): Promise<Record<string, unknown>> {
  const { rows } = await db().pool.query(
    `SELECT flow_id, flow_version, status, current_step_id, input::text, context::text,
       output::text, output IS NULL AS output_sql_null, error::text, history::text, step_count,
       waiting_on::text, waiting_on IS NULL AS waiting_sql_null, wake_at::text,
       idempotency_key, tenant_id, parent_execution_id, version, created_at::text,
       updated_at::text
     FROM flowmonkey.executions WHERE id = $1`,
    [id],
  );
  return rows[0] as Record<string, unknown>;
}

describe('PgExecutionStore.updateMany', () => {
  it('stores each execution exactly as update() would, payloads, nulls and times included', async () => {
    const wakeAt = Date.UTC(2031, 4, 6, 7, 8, 9, 123);
    const changes: Partial<Execution>[] = [
      {
        status: 'waiting',
        waitingOn: { stepId: 'second', jobId: randomUUID(), reason: 'job', until: null },
        wakeAt,
        stepCount: 2,
      },
      { status: 'completed', output: { total: 99, items: ['x"y'] }, currentStepId: null },
      // The last millisecond a timestamp may hold: stored exactly, as update() stores it.
      { wakeAt: 253_402_300_799_999, status: 'waiting' },
      {
        status: 'failed',
        error: { code: 'E_STEP', message: 'it broke: "badly"' },
        tenantId: 'tenant \u00e9 "q"',
      },
    ];
    const viaUpdate: Record<string, unknown>[] = [];
    const viaMany: Record<string, unknown>[] = [];
    const batch: { execution: Execution; expectedVersion: number }[] = [];
    for (const change of changes) {
      const template = execution();
      const { execution: a } = await stores.executions.create({ ...template, id: randomUUID() });
      const { execution: b } = await stores.executions.create({ ...template, id: randomUUID() });
      const next = (e: Execution) => ({ ...e, ...change, updatedAt: e.updatedAt + 7 });
      await stores.executions.update({ execution: next(a), expectedVersion: a.version });
      viaUpdate.push(await storedRow(a.id));
      batch.push({ execution: next(b), expectedVersion: b.version });
    }
    const result = await stores.executions.updateMany({ items: batch });
    expect(result.conflicts).toEqual([]);
    for (const { execution: e } of batch) viaMany.push(await storedRow(e.id));
    expect(viaMany).toEqual(viaUpdate);
    // JSON null payloads stay JSON null, not SQL NULL.
    expect(viaMany[1]).toMatchObject({ output_sql_null: false, waiting_sql_null: false });
    expect(result.updated.map((e) => e.version)).toEqual([1, 1, 1, 1]);
    expect(result.updated.map((e) => e.wakeAt)).toEqual(batch.map((b) => b.execution.wakeAt));
    for (const e of result.updated) expect(await stores.executions.get(e.id)).toEqual(e);
  });
});
