import { nowParam } from '../sql-helpers.js';
import { appendEvents, FENCE, jobError } from './job-fragments.js';

/**
 * The reaper's statements: `findStalled` lists the running jobs whose heartbeat is too old,
 * and `resetStalled` takes the lease back from one of them.
 */
export function jobStalledStatements(s: string): Record<'findStalled' | 'resetStalled', string> {
  return {
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
  };
}
