import { nowParam } from '../sql-helpers.js';
import { appendEvents } from './job-fragments.js';

/** Redrive's SET list: back to pending with fresh attempts, the last error kept. */
const REDRIVE_SET = (now: string) => `status = 'pending', attempts = 0, run_at = ${now},
  lease_id = NULL, runner_id = NULL, cancel_requested = false, finished_at = NULL,
  updated_at = ${now}`;

/** The redriven event: the attempts spent and the error that made the job a dead letter. */
const REDRIVEN_DATA = `jsonb_build_object('attempts', prev_attempts, 'error', error)`;

/**
 * Statements for dead letters and retention. A dead letter is a `failed` job;
 * `jobs_dead_letter_idx` (migration 00002) serves listing it newest first and
 * `jobs_finished_idx` serves the pruner's scan by `finished_at`.
 */
export function jobDeadLetterStatements(
  s: string,
): Record<'listDeadLetters' | 'redrive' | 'redriveMany' | 'pruneFinished', string> {
  return {
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
