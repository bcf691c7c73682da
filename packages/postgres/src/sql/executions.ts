import { type NamedStatement, namedStatements, nowParam, rowCountHint } from './sql-helpers.js';

/** Names of the execution store's statements. */
export type ExecutionStatementName =
  | 'create'
  | 'getByIdempotencyKey'
  | 'get'
  | 'getMany'
  | 'update'
  | 'updateMany'
  | 'createMany'
  | 'exists'
  | 'list'
  | 'listDueWakeups';

/** Column order shared by `create` ($1..$19) and `update`. */
const COLUMNS = `id, flow_id, flow_version, status, current_step_id, input, context, output, error,
  history, step_count, waiting_on, wake_at, idempotency_key, tenant_id, parent_execution_id,
  version, created_at, updated_at`;

/**
 * The rows of JSON document `param` (see `updateManyDocuments`) as recordset `x`. A JSON
 * null becomes SQL NULL in a recordset, so `RECORD_VALUES` takes the payloads back as JSON
 * `null`, as `update` stores them.
 */
function executionRecords(param: string): string {
  return `jsonb_to_recordset(${param}::jsonb) AS x(id text, flow_id text, flow_version int,
          status text, current_step_id text, input jsonb, context jsonb, output jsonb,
          error jsonb, history jsonb, step_count int, waiting_on jsonb, wake_at timestamptz,
          idempotency_key text, tenant_id text, parent_execution_id text, version int,
          created_at timestamptz, updated_at timestamptz)`;
}

/**
 * {@link executionRecords} as a subquery `x` whose size the planner is told (see
 * `rowCountHint`; `count` the parameter holding the number of rows), to be joined with
 * `executions` by primary key.
 */
function sizedExecutionRecords(param: string, count: string): string {
  return `(SELECT * FROM ${executionRecords(param)} ${rowCountHint(count)}) x`;
}

/** The values of recordset `x`'s row in `COLUMNS` order. */
const RECORD_VALUES = `x.id, x.flow_id, x.flow_version, x.status, x.current_step_id,
        coalesce(x.input, 'null'), coalesce(x.context, 'null'), coalesce(x.output, 'null'),
        coalesce(x.error, 'null'), coalesce(x.history, 'null'), x.step_count,
        coalesce(x.waiting_on, 'null'), x.wake_at, x.idempotency_key, x.tenant_id,
        x.parent_execution_id, x.version, x.created_at, x.updated_at`;

/**
 * `updateMany`, also the first CTE of `parkOnNewJobMany`: writes each row of JSON document
 * `param` (`count` rows, a parameter) over the execution with its id whose version is still
 * the row's `version`, and returns the ids written.
 */
export function updateExecutionsFrom(s: string, param: string, count: string): string {
  return `UPDATE ${s}.executions e SET flow_id = x.flow_id, flow_version = x.flow_version,
        status = x.status, current_step_id = x.current_step_id,
        input = coalesce(x.input, 'null'), context = coalesce(x.context, 'null'),
        output = coalesce(x.output, 'null'), error = coalesce(x.error, 'null'),
        history = coalesce(x.history, 'null'), step_count = x.step_count,
        waiting_on = coalesce(x.waiting_on, 'null'), wake_at = x.wake_at,
        idempotency_key = x.idempotency_key, tenant_id = x.tenant_id,
        parent_execution_id = x.parent_execution_id, version = x.version + 1,
        created_at = x.created_at, updated_at = x.updated_at
      FROM ${sizedExecutionRecords(param, count)}
      WHERE e.id = x.id AND e.version = x.version
      RETURNING e.id`;
}

/**
 * `update`, also the first CTE of `parkOnNewJob`: the execution's columns in `COLUMNS`
 * order as $1-$19, $1 the id and $17 the expected version; the stored version becomes
 * $17 + 1. Like `create`, returns the id only: the store builds the written execution
 * from what it sent.
 */
export function updateExecution(s: string): string {
  return `UPDATE ${s}.executions SET flow_id = $2, flow_version = $3, status = $4,
        current_step_id = $5, input = $6::jsonb, context = $7::jsonb, output = $8::jsonb,
        error = $9::jsonb, history = $10::jsonb, step_count = $11, waiting_on = $12::jsonb,
        wake_at = $13, idempotency_key = $14, tenant_id = $15, parent_execution_id = $16,
        version = $17 + 1, created_at = $18, updated_at = $19
      WHERE id = $1 AND version = $17
      RETURNING id`;
}

/**
 * Builds the execution store's SQL for the quoted schema `s`; `schema` (unquoted) only
 * suffixes the prepared-statement names. Updates are optimistic: fenced by `version`.
 */
export function executionStatements(
  s: string,
  schema: string,
): Record<ExecutionStatementName, NamedStatement> {
  return namedStatements<ExecutionStatementName>(schema, 'executions', {
    create: `INSERT INTO ${s}.executions (${COLUMNS})
      VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8::jsonb, $9::jsonb, $10::jsonb, $11,
        $12::jsonb, $13, $14, $15, $16, $17, $18, $19)
      ON CONFLICT (flow_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id`,
    getByIdempotencyKey: `SELECT * FROM ${s}.executions WHERE flow_id = $1 AND idempotency_key = $2`,
    get: `SELECT * FROM ${s}.executions WHERE id = $1`,
    update: updateExecution(s),
    getMany: `SELECT * FROM ${s}.executions WHERE id = ANY($1::text[])`,
    // $1: a JSON array of rows (see `updateManyDocuments`), timestamps as ISO text, `version`
    // holding the expected one. JSON, not one array per column: node-postgres escapes every
    // element of a text array, and a batch of execution contexts is mostly quotes. Each
    // row is fenced by its own version: a row that moved on (or is missing) matches nothing
    // and is left out of RETURNING, which gives only ids (the store builds the written
    // executions from what it sent). The store sends the rows sorted by id, so that
    // concurrent batches updated in document order (a nested loop over the primary key)
    // lock shared rows in one order; a plan that hashes the document may not, and a
    // deadlock then fails one batch (`ConcurrencyError`), whose caller writes it again.
    // $2: the number of rows in $1 (see rowCountHint).
    updateMany: updateExecutionsFrom(s, '$1', '$2'),
    // $1: a JSON array of new executions (as `updateMany`'s, `version` 0), in input order:
    // a group-committed batch of `create`s. Returns the ids it inserted; a row whose
    // `(flow_id, idempotency_key)` is taken (by an earlier row of the batch too) is skipped.
    createMany: `INSERT INTO ${s}.executions (${COLUMNS})
      SELECT ${RECORD_VALUES} FROM ${executionRecords('$1')}
      ON CONFLICT (flow_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id`,
    exists: `SELECT version FROM ${s}.executions WHERE id = $1`,
    list: `SELECT * FROM ${s}.executions
      WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR flow_id = $2)
        AND ($3::text IS NULL OR tenant_id = $3)
      ORDER BY created_at DESC, id DESC LIMIT $4 OFFSET $5`,
    // Served by executions_wake_idx.
    listDueWakeups: `SELECT * FROM ${s}.executions
      WHERE status = 'waiting' AND wake_at IS NOT NULL AND wake_at <= ${nowParam(2)}
      ORDER BY wake_at, id LIMIT $1`,
  });
}
