import { type Execution, type Job, uuidv7 } from '@flowmonkey/core';
import type pg from 'pg';
import { rowToExecution, rowToJob } from '../rows.js';
import { assertSchemaName, DEFAULT_SCHEMA, quoteIdent } from '../schema-name.js';

/** Options of the fixture factories. */
export interface FixtureOptions {
  /** Schema holding the tables. @default 'flowmonkey' */
  schema?: string;
}

const JOB_COLUMNS: Record<keyof Job, string | null> = {
  id: 'id',
  queue: 'queue',
  handler: 'handler',
  executionId: 'execution_id',
  stepId: 'step_id',
  status: 'status',
  input: 'input',
  result: 'result',
  error: 'error',
  priority: 'priority',
  runAt: 'run_at',
  attempts: 'attempts',
  maxAttempts: 'max_attempts',
  timeoutMs: 'timeout_ms',
  retry: 'retry',
  leaseId: 'lease_id',
  runnerId: 'runner_id',
  heartbeatAt: 'heartbeat_at',
  progress: null,
  idempotencyKey: 'idempotency_key',
  correlationId: 'correlation_id',
  cancelRequested: 'cancel_requested',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
};
const JSON_FIELDS = new Set([
  'input',
  'result',
  'error',
  'retry',
  'context',
  'output',
  'history',
  'waitingOn',
]);
const TIME_FIELDS = new Set([
  'runAt',
  'heartbeatAt',
  'createdAt',
  'updatedAt',
  'startedAt',
  'finishedAt',
  'wakeAt',
]);

function toValue(field: string, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (JSON_FIELDS.has(field)) return JSON.stringify(value);
  if (TIME_FIELDS.has(field)) return new Date(value as number);
  return value;
}

async function insertRow(
  db: pg.Pool | pg.Client,
  table: string,
  values: Record<string, unknown>,
  options: FixtureOptions,
): Promise<Record<string, unknown>> {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  assertSchemaName(schema);
  const columns = Object.keys(values);
  const params = columns.map((_, i) => `$${i + 1}`);
  const result = await db.query<Record<string, unknown>>(
    `INSERT INTO ${quoteIdent(schema)}.${table} (${columns.map(quoteIdent).join(', ')})
     VALUES (${params.join(', ')}) RETURNING *`,
    Object.values(values),
  );
  const [row] = result.rows;
  if (row === undefined) throw new Error(`insert into ${table} returned no row`);
  return row;
}

/**
 * Inserts a job row directly, bypassing the store, so a test can start from any state
 * (e.g. `{ status: 'running', heartbeatAt: Date.now() - 600_000 }`). Defaults: a new id,
 * handler `test`, status `pending`, run now; a `running` job without `leaseId` gets one.
 * Returns the stored job.
 */
export async function insertJob(
  db: pg.Pool | pg.Client,
  partial: Partial<Job> = {},
  options: FixtureOptions = {},
): Promise<Job> {
  const job: Partial<Job> = { id: uuidv7(), handler: 'test', status: 'pending', ...partial };
  if (job.status === 'running') {
    job.leaseId ??= crypto.randomUUID();
    job.attempts ??= 1;
    job.heartbeatAt ??= Date.now();
    job.startedAt ??= job.heartbeatAt;
  }
  const values: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(job)) {
    const column = JOB_COLUMNS[field as keyof Job];
    if (column !== null && column !== undefined && value !== undefined) {
      values[column] = toValue(field, value);
    }
  }
  if (job.progress) {
    values.progress_percent = job.progress.percent;
    values.progress_message = job.progress.message;
    values.progress_at = new Date(job.progress.at);
  }
  return rowToJob(await insertRow(db, 'jobs', values, options));
}

/**
 * Inserts an execution row directly (defaults: a new id, flow `test` version 1, status
 * `running`, context `{}`, version 0) and returns the stored execution.
 */
export async function insertExecution(
  db: pg.Pool | pg.Client,
  partial: Partial<Execution> = {},
  options: FixtureOptions = {},
): Promise<Execution> {
  const e: Partial<Execution> = {
    id: uuidv7(),
    flowId: 'test',
    flowVersion: 1,
    status: 'running',
    ...partial,
  };
  const values: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(e)) {
    if (value === undefined) continue;
    values[field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = toValue(field, value);
  }
  return rowToExecution(await insertRow(db, 'executions', values, options));
}
