import { epochMs, nowParam } from '../sql-helpers.js';
import { appendEvents, FENCE, lazyCommit } from './job-fragments.js';

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

/**
 * The statements of a lease: the claims that take it (`claimBatch`, and `claimById` for one
 * named job), and the heartbeats and progress reports that its holder sends while the job
 * runs.
 */
export function jobLeaseStatements(
  s: string,
): Record<'claimBatch' | 'claimById' | 'heartbeat' | 'heartbeatMany' | 'progress', string> {
  return {
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
  };
}
