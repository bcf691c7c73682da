import { epochMs } from '../sql-helpers.js';
import { appendEvents } from './job-fragments.js';

/**
 * A new job's values from parameter `$first` on (createOne: `newJobValues(1)`): id, queue,
 * handler, execution id, step id, input as JSON text, priority, run at (NULL: database
 * now), max attempts, timeout ms, retry as JSON text, idempotency key, correlation id (13
 * parameters), then `created_at` and `updated_at` from the database clock.
 */
export function newJobValues(first: number): string {
  const p = (i: number) => `$${first + i}`;
  return `${p(0)}::uuid, ${p(1)}::text, ${p(2)}::text, ${p(3)}::text, ${p(4)}::text,
  ${p(5)}::jsonb, ${p(6)}::int, coalesce(${p(7)}::timestamptz, now()), ${p(8)}::int,
  ${p(9)}::bigint, ${p(10)}::jsonb, ${p(11)}::text, ${p(12)}::text, now(), now()`;
}

/**
 * The start of `createOne`, `createMany` and `parkOnNewJob`, up to their final SELECT:
 * after the CTEs `ctes` (empty, or ending in a comma), CTE `src` inserts the rows of
 * `source` (VALUES or a SELECT, columns as `newJobValues`) and returns them with the
 * columns the `created` events and the callers read, and CTE `ev` appends those events.
 * With `skipTakenKeys` a row whose idempotency key is taken (partial unique index
 * `jobs_idempotency_idx`; an uncommitted insert of the key is waited for) is skipped;
 * without, it fails the statement (unique violation), and so undoes its other CTEs.
 */
export function insertNewJobs(
  s: string,
  ctes: string,
  source: string,
  skipTakenKeys = true,
): string {
  const onConflict = skipTakenKeys
    ? 'ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING'
    : '';
  return `WITH ${ctes}src AS (
        INSERT INTO ${s}.jobs AS j (id, queue, handler, execution_id, step_id, input, priority,
          run_at, max_attempts, timeout_ms, retry, idempotency_key, correlation_id,
          created_at, updated_at)
        ${source}
        ${onConflict}
        RETURNING j.id, j.attempts, j.lease_id, j.run_at, j.created_at, j.updated_at
      ), ev AS (${appendEvents(s, "'created'")})`;
}

/**
 * CTE `r`: the new jobs of JSON document `param` (see `newJobsJson`), `ord` their order.
 */
export function newJobRecords(param: string): string {
  return `r AS (
        SELECT * FROM jsonb_to_recordset(${param}::jsonb) AS r(
          ord int, id uuid, queue text, handler text, execution_id text, step_id text,
          input jsonb, priority int, run_at timestamptz, max_attempts int, timeout_ms bigint,
          retry jsonb, idempotency_key text, correlation_id text)
      )`;
}

/** A row of `newJobRecords`' CTE `r` as the values `insertNewJobs` inserts. */
export const NEW_JOB_RECORD_VALUES = `r.id, r.queue, r.handler, r.execution_id, r.step_id,
          coalesce(r.input, 'null'::jsonb), r.priority, coalesce(r.run_at, now()),
          r.max_attempts, r.timeout_ms, r.retry, r.idempotency_key, r.correlation_id, now(),
          now()`;

/**
 * What `createOne`, `createMany` (with the id) and `parkOnNewJob` return of each job CTE
 * `src` inserted: the times the database chose (epoch ms; the store builds the rest from
 * what it sent) and whether the job is due now.
 */
export const NEW_JOB_TIMES = `${epochMs('src.run_at')} AS run_at, ${epochMs('src.created_at')} AS created_at,
  src.run_at <= now() AS due`;
