import type { JobStatus } from '@flowmonkey/core';
import { epochMs, type NamedStatement, namedStatements, nowParam, opaque } from './sql-helpers.js';

/** Names of the job store's statements (each equal to the store method it serves). */
export type JobStatementName =
  | 'createOne'
  | 'createMany'
  | 'getByIdempotencyKeys'
  | 'get'
  | 'claimBatch'
  | 'heartbeat'
  | 'heartbeatMany'
  | 'progress'
  | 'complete'
  | 'completeMany'
  | 'completeManyReturningJobs'
  | 'recordEvents'
  | 'fail'
  | 'release'
  | 'cancel'
  | 'confirmCancel'
  | `listByStatus_${JobStatus}`
  | 'findStalled'
  | 'resetStalled'
  | 'getByExecution'
  | 'claimById'
  | 'listDeadLetters'
  | 'redrive'
  | 'redriveMany'
  | 'pruneFinished';

/**
 * The fence every write to a running job carries. A lease is set exactly while the job runs
 * (constraint `jobs_lease_iff_running`), so the lease alone proves `running`, and the fence
 * is a primary-key lookup whatever the statistics say about running rows.
 */
const FENCE = `id = $1 AND lease_id = $2`;

/**
 * What a claim returns per job (see `claimedRowToJob`): what the claim did not set itself,
 * timestamps as epoch ms. The columns the claim just wrote (status, runner, lease times,
 * cancel flag) are known to the caller; a claim returns hundreds of rows a second, and
 * the text of a timestamp costs more to write and to parse than the number.
 */
const CLAIMED_COLUMNS = `src.id, src.queue, src.handler, src.execution_id, src.step_id, src.input,
      src.result, src.error, src.priority, ${epochMs('src.run_at')} AS run_at, src.attempts,
      src.max_attempts, src.timeout_ms, src.retry, src.lease_id, src.progress_percent,
      src.progress_message, ${epochMs('src.progress_at')} AS progress_at, src.idempotency_key,
      src.correlation_id, ${epochMs('src.created_at')} AS created_at,
      ${epochMs('src.started_at')} AS started_at, ${epochMs('src.finished_at')} AS finished_at`;

/** Appends one job event per row of CTE `src`, with `kind` a SQL expression over it. */
function appendEvents(s: string, kind: string, data = 'NULL', lease = 'lease_id'): string {
  return `INSERT INTO ${s}.job_events (job_id, kind, attempt, lease_id, data, at)
    SELECT id, ${kind}, attempts, ${lease}, ${data}, updated_at FROM src`;
}

/**
 * Runner-observed events as CTE `e` from five parallel array parameters starting at `$first`
 * (job ids, lease ids, kinds, attempts, data as JSON text or NULL), in order (`ord`); their
 * number hidden from custom plans (see `opaque`).
 */
function runnerEventsCte(first: number): string {
  const [a, b, c, d, e] = [0, 1, 2, 3, 4].map((i) => `$${first + i}`);
  return `e AS (
        SELECT * FROM unnest(${opaque(`${a}::uuid[]`)}, ${b}::uuid[], ${c}::text[], ${d}::int[], ${e}::text[])
          WITH ORDINALITY AS e(job_id, lease_id, kind, attempt, data, ord)
      )`;
}

/** A row of CTE `e` as `job_events` takes it (with `ord`, the order to append in). */
const RUNNER_EVENT_ROW = `e.job_id, e.kind, e.attempt, e.lease_id, e.data::jsonb AS data, now() AS at, e.ord`;

/**
 * The rows of CTE `e` to append: `started` and `timeout` only while their lease is held (a
 * stale runner's history ends where its lease did), `lease-lost` always. The lease is read
 * from the statement's snapshot, before any update in the same statement.
 */
function fencedRunnerEvents(s: string): string {
  return `SELECT ${RUNNER_EVENT_ROW}
        FROM e LEFT JOIN ${s}.jobs j ON j.id = e.job_id AND j.lease_id = e.lease_id
        WHERE e.kind = 'lease-lost' OR j.id IS NOT NULL`;
}

/**
 * {@link fencedRunnerEvents} inside `completeMany`, keeping the same rows: an event of a job
 * that the statement completes under the same lease (CTE `src`, whose update was fenced by
 * that lease in the same snapshot) is kept by a hashed lookup of `src`, which PostgreSQL
 * evaluates before the primary-key probe that the other events get (EXPLAIN shows the probe
 * run only for those).
 */
function fencedRunnerEventsBesideCompletions(s: string): string {
  return `SELECT ${RUNNER_EVENT_ROW}
        FROM e
        WHERE e.kind = 'lease-lost'
          OR (e.job_id, e.lease_id) IN (SELECT id, old_lease_id FROM src)
          OR EXISTS (SELECT 1 FROM ${s}.jobs j WHERE j.id = e.job_id AND j.lease_id = e.lease_id)`;
}

/**
 * CTE `lazy` turning `synchronous_commit` off for the statement's own transaction when
 * boolean `$n` is true (the store passes true only outside a caller's transaction): its
 * commit then returns without waiting for the WAL flush. Used by the claim, heartbeats and
 * runner events, whose loss in a server crash costs at most a job claimed again, a lease
 * that looks older or a missing history row; a completion waits for its flush as always,
 * which also makes everything written before it durable. Join `lazy` into the statement so
 * that it is evaluated.
 */
function lazyCommit(n: number): string {
  return `lazy AS (SELECT set_config('synchronous_commit',
        CASE WHEN $${n}::boolean THEN 'off' ELSE current_setting('synchronous_commit') END, true))`;
}

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

/** The error column of a failed attempt: `$n` ErrorInfo plus the attempt and time. */
function jobError(errorParam: string, at: string): string {
  return `${errorParam}::jsonb || jsonb_build_object('attempt', attempts, 'at', ${epochMs(at)})`;
}

/**
 * `fail`'s retry condition: a retry time ($4) or delay ($6), attempts left and no
 * cancellation requested.
 */
const FAIL_RETRIES = `NOT cancel_requested
  AND ($4::timestamptz IS NOT NULL OR $6::float8 IS NOT NULL) AND attempts < max_attempts`;

/** When a job runs again: `$at` (timestamptz) or, when NULL, `now` plus `$delay` ms. */
function runAgainAt(at: string, delay: string, now: string): string {
  return `coalesce(${at}::timestamptz,
    ${now} + coalesce(${delay}::float8, 0) * interval '1 millisecond')`;
}

/**
 * The error column of a job cancelled because cancellation was requested, at SQL time `at`;
 * `cause` is a jsonb expression (the failed attempt's error) or omitted.
 */
function cancelledError(at: string, cause?: string): string {
  const base = `jsonb_build_object('code', 'CANCELLED', 'message', 'cancelled',
    'attempt', attempts, 'at', ${epochMs(at)})`;
  return cause === undefined ? base : `${base} || jsonb_build_object('cause', ${cause})`;
}

/**
 * The CTEs of `completeMany` (`l`, `e`, `src`, `ev`; no leading WITH): $1 job ids, $2
 * lease ids, $3 results as JSON text (parallel arrays), $4 now, $5-$9 runner events to
 * append first (see runnerEventsCte; empty arrays for none). Each row is fenced by its
 * own lease; CTE `src` returns each completed row's `returning` columns and the lease it
 * was completed under (`old_lease_id`). The history rows go in one INSERT, runner events
 * first, so their ids keep that order. The batch's size is hidden from custom plans (see
 * `opaque`).
 */
export function completeJobsCtes(s: string, returning: string): string {
  return `l AS (
        SELECT * FROM unnest(${opaque('$1::uuid[]')}, $2::uuid[], $3::text[]) AS l(id, lease_id, result)
      ), ${runnerEventsCte(5)}, src AS (
        UPDATE ${s}.jobs j SET status = 'completed', result = l.result::jsonb, lease_id = NULL,
          cancel_requested = false, finished_at = ${nowParam(4)}, updated_at = ${nowParam(4)}
        FROM l WHERE j.id = l.id AND j.lease_id = l.lease_id
        RETURNING ${returning}, l.lease_id AS old_lease_id
      ), ev AS (
        INSERT INTO ${s}.job_events (job_id, kind, attempt, lease_id, data, at)
        SELECT job_id, kind, attempt, lease_id, data, at FROM (
          SELECT *, 0 AS phase FROM (${fencedRunnerEventsBesideCompletions(s)}) r
          UNION ALL
          SELECT id, 'completed', attempts, old_lease_id, NULL, updated_at, 0, 1 FROM src
        ) x ORDER BY phase, ord
      )`;
}

/**
 * `completeMany` (see completeJobsCtes): one statement, one commit for the whole batch.
 * Returns each completed row's id, the lease it was completed under and the time, and
 * with `wholeRows` every column as well.
 */
function completeManySql(s: string, wholeRows: boolean): string {
  const returning = wholeRows ? 'j.*' : 'j.id, j.attempts, j.updated_at';
  return `WITH ${completeJobsCtes(s, returning)}
      SELECT ${wholeRows ? '*' : 'id, old_lease_id'}, ${epochMs('updated_at')} AS at FROM src`;
}

/**
 * Builds the job store's SQL for the quoted schema `s`; `schema` (unquoted) only suffixes
 * the prepared-statement names. Data-modifying CTEs append the job event in the same
 * statement as the change it records.
 */
export function jobStatements(s: string, schema: string): Record<JobStatementName, NamedStatement> {
  return namedStatements<JobStatementName>(schema, 'jobs', {
    // $1-$13: the job (see newJobValues). $14: the jobs channel to NOTIFY (delivered at
    // commit) when the job was inserted due; NULL leaves the wake-up to the caller. One row:
    // no JSON to unpack, and the NOTIFY is a CASE in the select list, not a CTE. Returns
    // only what the database chose (times as epoch ms; see newJobAsStored): node-postgres
    // handled the 30-column row description and row of `RETURNING *` on every call.
    createOne: `${insertNewJobs(s, '', `VALUES (${newJobValues(1)})`)}
      SELECT ${NEW_JOB_TIMES}, CASE WHEN $14::text IS NOT NULL
        AND src.run_at <= now() THEN pg_notify($14::text, '') END AS notified
      FROM src`,
    // $1: JSON array of new jobs (with `ord`); idempotent on the partial unique index.
    // $2: channel for an in-statement NOTIFY, or NULL. Returns per inserted job its id and
    // what the database chose, as createOne does (a batch of 5,000 read back whole cost
    // node-postgres more than the insert cost the server).
    createMany: `${insertNewJobs(
      s,
      `${newJobRecords('$1')}, `,
      `SELECT ${NEW_JOB_RECORD_VALUES} FROM r ORDER BY r.ord`,
    )},
      -- $2: the jobs channel to NOTIFY (delivered at commit) when a due job was inserted;
      -- NULL leaves the wake-up to the caller. Referenced below so that it runs.
      wake AS (SELECT pg_notify($2::text, '') FROM src
        WHERE $2::text IS NOT NULL AND src.run_at <= now() LIMIT 1)
      SELECT src.id, ${NEW_JOB_TIMES}, (SELECT count(*) FROM wake) AS notified
      FROM src`,
    getByIdempotencyKeys: `SELECT * FROM ${s}.jobs WHERE idempotency_key = ANY($1::text[])`,
    get: `SELECT * FROM ${s}.jobs WHERE id = $1`,
    // Served by jobs_claim_idx: an index scan in claim order that stops after $2 rows.
    // SKIP LOCKED lets concurrent claimers pass over each other's rows instead of queueing;
    // NO KEY UPDATE is the weakest lock an update of non-key columns needs. The update finds
    // its rows by primary key (`= ANY(ARRAY(...))`): a join with `due` was planned as a hash
    // join over a scan of the whole table.
    // $6: commit lazily (see lazyCommit).
    claimBatch: `WITH ${lazyCommit(6)}, due AS (
        SELECT id FROM ${s}.jobs
        WHERE status = 'pending' AND run_at <= ${nowParam(3)}
          AND ($4::text[] IS NULL OR handler = ANY($4::text[]))
          AND ($5::text[] IS NULL OR queue = ANY($5::text[]))
        ORDER BY priority DESC, run_at, id
        LIMIT $2
        FOR NO KEY UPDATE SKIP LOCKED
      ), src AS (
        UPDATE ${s}.jobs j SET status = 'running', attempts = j.attempts + 1,
          lease_id = gen_random_uuid(), runner_id = $1, heartbeat_at = ${nowParam(3)},
          started_at = ${nowParam(3)}, updated_at = ${nowParam(3)}, cancel_requested = false
        WHERE j.id = ANY(ARRAY(SELECT id FROM due))
        RETURNING j.*
      ), ev AS (${appendEvents(s, "'claimed'")})
      SELECT ${CLAIMED_COLUMNS} FROM src, lazy ORDER BY src.priority DESC, src.run_at, src.id`,
    heartbeat: `UPDATE ${s}.jobs SET heartbeat_at = ${nowParam(3)}
      WHERE ${FENCE} RETURNING cancel_requested`,
    // $1 job ids, $2 lease ids (parallel arrays), $3 now, $4 commit lazily (see lazyCommit).
    heartbeatMany: `WITH l AS (SELECT * FROM unnest($1::uuid[], $2::uuid[]) AS l(id, lease_id)),
        ${lazyCommit(4)}
      UPDATE ${s}.jobs j SET heartbeat_at = ${nowParam(3)}
      FROM l, lazy WHERE j.id = l.id AND j.lease_id = l.lease_id
      RETURNING j.id, j.lease_id, j.cancel_requested`,
    progress: `WITH src AS (
        UPDATE ${s}.jobs SET progress_percent = $3, progress_message = $4,
          progress_at = ${nowParam(5)}, heartbeat_at = ${nowParam(5)}, updated_at = ${nowParam(5)}
        WHERE ${FENCE} RETURNING *
      ), ev AS (${appendEvents(s, "'progress'", "jsonb_build_object('percent', $3::real, 'message', $4::text)")})
      SELECT * FROM src`,
    complete: `WITH src AS (
        UPDATE ${s}.jobs SET status = 'completed', result = $3::jsonb, lease_id = NULL,
          cancel_requested = false, finished_at = ${nowParam(4)}, updated_at = ${nowParam(4)}
        WHERE ${FENCE} RETURNING *
      ), ev AS (${appendEvents(s, "'completed'", 'NULL', '$2::uuid')})
      SELECT * FROM src`,
    completeMany: completeManySql(s, false),
    // completeMany returning the completed rows whole (`returnJobs: true`).
    completeManyReturningJobs: completeManySql(s, true),
    // $1-$5: the events (see runnerEventsCte), $6 commit lazily (see lazyCommit).
    recordEvents: `WITH ${runnerEventsCte(1)}, ${lazyCommit(6)}, ins AS (
        INSERT INTO ${s}.job_events (job_id, kind, attempt, lease_id, data, at)
        SELECT job_id, kind, attempt, lease_id, data, at FROM (${fencedRunnerEvents(s)}) r
        ORDER BY ord
        RETURNING 1
      )
      SELECT count(*)::int AS recorded FROM ins, lazy`,
    // $3 ErrorInfo JSON, $4 retryAt, $5 now, $6 retryDelayMs (from now, database time
    // unless injected); $4 and $6 NULL: no retry. A job whose cancellation was requested
    // becomes `cancelled` instead of retrying.
    fail: `WITH src AS (
        UPDATE ${s}.jobs SET
          status = CASE WHEN cancel_requested THEN 'cancelled'
            WHEN ${FAIL_RETRIES} THEN 'pending' ELSE 'failed' END,
          run_at = CASE WHEN ${FAIL_RETRIES} THEN ${runAgainAt('$4', '$6', nowParam(5))}
            ELSE run_at END,
          finished_at = CASE WHEN ${FAIL_RETRIES} THEN NULL ELSE ${nowParam(5)} END,
          error = CASE WHEN cancel_requested THEN ${cancelledError(nowParam(5), '$3::jsonb')}
            ELSE ${jobError('$3', nowParam(5))} END,
          lease_id = NULL, cancel_requested = false, updated_at = ${nowParam(5)}
        WHERE ${FENCE} RETURNING *
      ), ev AS (${appendEvents(s, "CASE status WHEN 'pending' THEN 'retried' ELSE status END", 'error', '$2::uuid')})
      SELECT * FROM src`,
    // $3 runAt, $4 now, $5 delayMs (from now; NULL: 0). The attempt is refunded: a release
    // is not a failure. A job whose cancellation was requested becomes `cancelled` instead
    // (the request must not be lost).
    release: `WITH src AS (
        UPDATE ${s}.jobs SET
          status = CASE WHEN cancel_requested THEN 'cancelled' ELSE 'pending' END,
          attempts = CASE WHEN cancel_requested THEN attempts ELSE greatest(attempts - 1, 0) END,
          run_at = CASE WHEN cancel_requested THEN run_at
            ELSE ${runAgainAt('$3', '$5', nowParam(4))} END,
          finished_at = CASE WHEN cancel_requested THEN ${nowParam(4)} ELSE finished_at END,
          error = CASE WHEN cancel_requested THEN ${cancelledError(nowParam(4))} ELSE error END,
          lease_id = NULL, cancel_requested = false, updated_at = ${nowParam(4)}
        WHERE ${FENCE} RETURNING *
      ), ev AS (${appendEvents(s, "CASE status WHEN 'cancelled' THEN 'cancelled' ELSE 'released' END", 'NULL', '$2::uuid')})
      SELECT src.*, src.status = 'pending' AND src.run_at <= ${nowParam(4)} AS due FROM src`,
    // A pending job is cancelled at once; a running one is flagged for its holder.
    cancel: `WITH src AS (
        UPDATE ${s}.jobs SET
          status = CASE WHEN status = 'pending' THEN 'cancelled' ELSE status END,
          cancel_requested = (status = 'running'),
          finished_at = CASE WHEN status = 'pending' THEN ${nowParam(3)} ELSE finished_at END,
          error = CASE WHEN status = 'pending' THEN jsonb_build_object('code', 'CANCELLED',
            'message', coalesce($2, 'cancelled'), 'attempt', attempts,
            'at', ${epochMs(nowParam(3))}) ELSE error END,
          updated_at = ${nowParam(3)}
        WHERE id = $1 AND status IN ('pending', 'running') RETURNING *
      ), ev AS (${appendEvents(s, "'cancelled'", "jsonb_build_object('reason', $2::text, 'requested', status = 'running')")})
      SELECT * FROM src`,
    confirmCancel: `WITH src AS (
        UPDATE ${s}.jobs SET status = 'cancelled', lease_id = NULL,
          error = jsonb_build_object('code', 'CANCELLED', 'message', coalesce($3, 'cancelled'),
            'attempt', attempts, 'at', ${epochMs(nowParam(4))}),
          finished_at = ${nowParam(4)}, updated_at = ${nowParam(4)}
        WHERE ${FENCE} RETURNING *
      ), ev AS (${appendEvents(s, "'cancelled'", "jsonb_build_object('reason', $3::text)", '$2::uuid')})
      SELECT * FROM src`,
    ...listByStatusStatements(s),
    // Served by jobs_running_idx: the running jobs (few), filtered and sorted by heartbeat.
    findStalled: `SELECT * FROM ${s}.jobs
      WHERE status = 'running' AND heartbeat_at < ${nowParam(3)} - $1::float8 * interval '1 millisecond'
      ORDER BY heartbeat_at, id LIMIT $2`,
    // $3 ErrorInfo JSON, $4 now, $5 stalledThresholdMs or NULL. Fenced by the lease the
    // reaper saw and, with $5, by the heartbeat still being stale: a runner that
    // heartbeated since findStalled keeps its job.
    resetStalled: `WITH src AS (
        UPDATE ${s}.jobs SET
          status = CASE WHEN cancel_requested THEN 'cancelled'
            WHEN attempts < max_attempts THEN 'pending' ELSE 'failed' END,
          run_at = CASE WHEN NOT cancel_requested AND attempts < max_attempts
            THEN ${nowParam(4)} ELSE run_at END,
          finished_at = CASE WHEN NOT cancel_requested AND attempts < max_attempts
            THEN NULL ELSE ${nowParam(4)} END,
          error = ${jobError('$3', nowParam(4))},
          lease_id = NULL, cancel_requested = false, updated_at = ${nowParam(4)}
        WHERE ${FENCE} AND ($5::float8 IS NULL
          OR heartbeat_at < ${nowParam(4)} - $5::float8 * interval '1 millisecond')
        RETURNING *
      ), ev AS (${appendEvents(s, "CASE status WHEN 'pending' THEN 'reset' ELSE status END", 'error', '$2::uuid')})
      SELECT * FROM src`,
    getByExecution: `SELECT * FROM ${s}.jobs WHERE execution_id = $1 ORDER BY created_at, id`,
    ...deadLetterStatements(s),
  });
}

/**
 * One `listByStatus` statement per status, with the status as a literal: only then can the
 * planner use the partial index that holds it (`jobs_pending_created_idx` for pending, the
 * small `jobs_running_idx` for running, `jobs_finished_idx` / `jobs_dead_letter_idx` for
 * finished jobs, which are then sorted by creation), also in a generic prepared plan.
 * `$1` limit, `$2` offset.
 */
function listByStatusStatements(s: string): Record<`listByStatus_${JobStatus}`, string> {
  const list = (status: JobStatus) => `SELECT * FROM ${s}.jobs WHERE status = '${status}'
      ORDER BY created_at, id LIMIT $1 OFFSET $2`;
  return {
    listByStatus_pending: list('pending'),
    listByStatus_running: list('running'),
    listByStatus_completed: list('completed'),
    listByStatus_failed: list('failed'),
    listByStatus_cancelled: list('cancelled'),
  };
}

/** Redrive's SET list: back to pending with fresh attempts, the last error kept. */
const REDRIVE_SET = (now: string) => `status = 'pending', attempts = 0, run_at = ${now},
  lease_id = NULL, runner_id = NULL, cancel_requested = false, finished_at = NULL,
  updated_at = ${now}`;

/** The redriven event: the attempts spent and the error that made the job a dead letter. */
const REDRIVEN_DATA = `jsonb_build_object('attempts', prev_attempts, 'error', error)`;

/**
 * Statements for claim-by-id, dead letters and retention. A dead letter is a `failed` job;
 * `jobs_dead_letter_idx` (migration 00002) serves listing it newest first and
 * `jobs_finished_idx` serves the pruner's scan by `finished_at`.
 */
function deadLetterStatements(
  s: string,
): Record<'claimById' | 'listDeadLetters' | 'redrive' | 'redriveMany' | 'pruneFinished', string> {
  return {
    // $1 job id, $2 runner id, $3 now. Same effects as claimBatch, whatever run_at was;
    // run_at becomes now (the job runs now).
    claimById: `WITH src AS (
        UPDATE ${s}.jobs SET status = 'running', attempts = attempts + 1, run_at = ${nowParam(3)},
          lease_id = gen_random_uuid(), runner_id = $2, heartbeat_at = ${nowParam(3)},
          started_at = ${nowParam(3)}, updated_at = ${nowParam(3)}, cancel_requested = false
        WHERE id = $1 AND status = 'pending'
        RETURNING *
      ), ev AS (${appendEvents(s, "'claimed'")})
      SELECT * FROM src`,
    // $1 limit, $2 offset, $3 handler or NULL, $4 queue or NULL.
    listDeadLetters: `SELECT * FROM ${s}.jobs
      WHERE status = 'failed' AND ($3::text IS NULL OR handler = $3)
        AND ($4::text IS NULL OR queue = $4)
      ORDER BY finished_at DESC, id DESC LIMIT $1 OFFSET $2`,
    // $1 job id, $2 now. FOR UPDATE keeps the attempts read and the update consistent.
    redrive: `WITH prev AS (
        SELECT id, attempts AS prev_attempts FROM ${s}.jobs
        WHERE id = $1 AND status = 'failed' FOR UPDATE
      ), src AS (
        UPDATE ${s}.jobs j SET ${REDRIVE_SET(nowParam(2))}
        FROM prev WHERE j.id = prev.id RETURNING j.*, prev.prev_attempts
      ), ev AS (${appendEvents(s, "'redriven'", REDRIVEN_DATA)})
      SELECT src.*, src.run_at <= now() AS due FROM src`,
    // $1 limit, $2 handler, $3 queue, $4 failedBefore, $5 now. Oldest failures first;
    // SKIP LOCKED lets two operators redrive at once without waiting on each other.
    redriveMany: `WITH prev AS (
        SELECT id, attempts AS prev_attempts FROM ${s}.jobs
        WHERE status = 'failed' AND ($2::text IS NULL OR handler = $2)
          AND ($3::text IS NULL OR queue = $3)
          AND ($4::timestamptz IS NULL OR finished_at < $4::timestamptz)
        ORDER BY finished_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
      ), src AS (
        UPDATE ${s}.jobs j SET ${REDRIVE_SET(nowParam(5))}
        FROM prev WHERE j.id = prev.id RETURNING j.*, prev.prev_attempts
      ), ev AS (${appendEvents(s, "'redriven'", REDRIVEN_DATA)})
      SELECT count(*)::int AS redriven, bool_or(run_at <= now()) AS due FROM src`,
    // $1 statuses, $2 olderThanMs, $3 limit, $4 now. A job whose execution is not
    // terminal is kept: the execution may still read it.
    pruneFinished: `WITH doomed AS (
        SELECT j.id FROM ${s}.jobs j
        WHERE j.status = ANY($1::text[]) AND j.finished_at IS NOT NULL
          AND j.finished_at < ${nowParam(4)} - $2::float8 * interval '1 millisecond'
          AND (j.execution_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM ${s}.executions e WHERE e.id = j.execution_id
              AND e.status NOT IN ('completed', 'failed', 'cancelled')))
        ORDER BY j.finished_at, j.id LIMIT $3 FOR UPDATE SKIP LOCKED
      ), gone AS (
        DELETE FROM ${s}.jobs j USING doomed WHERE j.id = doomed.id RETURNING j.id
      ), events AS (
        DELETE FROM ${s}.job_events ev USING gone WHERE ev.job_id = gone.id RETURNING ev.id
      )
      SELECT (SELECT count(*) FROM gone)::int AS jobs, (SELECT count(*) FROM events)::int AS events`,
  };
}
