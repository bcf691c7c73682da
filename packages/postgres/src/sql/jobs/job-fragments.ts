import { epochMs } from '../sql-helpers.js';

/**
 * The fence every write to a running job carries. A lease is set exactly while the job runs
 * (constraint `jobs_lease_iff_running`), so the lease alone proves `running`, and the fence
 * is a primary-key lookup whatever the statistics say about running rows.
 */
export const FENCE = `id = $1 AND lease_id = $2`;

/** Appends one job event per row of CTE `src`, with `kind` a SQL expression over it. */
export function appendEvents(s: string, kind: string, data = 'NULL', lease = 'lease_id'): string {
  return `INSERT INTO ${s}.job_events (job_id, kind, attempt, lease_id, data, at)
    SELECT id, ${kind}, attempts, ${lease}, ${data}, updated_at FROM src`;
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
export function lazyCommit(n: number): string {
  return `lazy AS (SELECT set_config('synchronous_commit',
        CASE WHEN $${n}::boolean THEN 'off' ELSE current_setting('synchronous_commit') END, true))`;
}

/** The error column of a failed attempt: `$n` ErrorInfo plus the attempt and time. */
export function jobError(errorParam: string, at: string): string {
  return `${errorParam}::jsonb || jsonb_build_object('attempt', attempts, 'at', ${epochMs(at)})`;
}
