import { epochMs, nowParam } from '../sql-helpers.js';
import { appendEvents, FENCE, jobError } from './job-fragments.js';

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
 * The statements that end an attempt without completing it: `fail` (retry or fail for
 * good), `release` (run again later), and cancellation, requested (`cancel`) or confirmed
 * by the lease holder (`confirmCancel`).
 */
export function jobFailureStatements(
  s: string,
): Record<'fail' | 'release' | 'cancel' | 'confirmCancel', string> {
  return {
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
  };
}
