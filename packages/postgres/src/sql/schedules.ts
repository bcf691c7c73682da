import { epochMs, type NamedStatement, namedStatements, nowParam } from './sql-helpers.js';

/** Names of the schedule store's statements. */
export type ScheduleStatementName =
  | 'upsert'
  | 'get'
  | 'list'
  | 'remove'
  | 'setEnabled'
  | 'recordFire'
  | 'getFire'
  | 'acquireLeadership'
  | 'getLeadership'
  | 'releaseLeadership'
  | 'listDue'
  | 'getLastFire'
  | 'advance';

/** Name of the leadership lease row the scheduler uses. */
export const SCHEDULER_LEASE = 'scheduler';

/**
 * Builds the schedule store's SQL for the quoted schema `s`; `schema` (unquoted) only
 * suffixes the prepared-statement names.
 */
export function scheduleStatements(
  s: string,
  schema: string,
): Record<ScheduleStatementName, NamedStatement> {
  return namedStatements<ScheduleStatementName>(schema, 'schedules', {
    // Replaces everything but the fire history (last_fire_at) and created_at.
    upsert: `INSERT INTO ${s}.schedules AS t (name, cron, timezone, handler, queue, input,
        priority, max_attempts, enabled, overlap, next_fire_at)
      VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10, $11)
      ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, timezone = excluded.timezone,
        handler = excluded.handler, queue = excluded.queue, input = excluded.input,
        priority = excluded.priority, max_attempts = excluded.max_attempts,
        enabled = excluded.enabled, overlap = excluded.overlap,
        next_fire_at = excluded.next_fire_at, updated_at = now()
      RETURNING *`,
    get: `SELECT * FROM ${s}.schedules WHERE name = $1`,
    list: `SELECT * FROM ${s}.schedules ORDER BY name`,
    remove: `DELETE FROM ${s}.schedules WHERE name = $1 RETURNING name`,
    setEnabled: `UPDATE ${s}.schedules SET enabled = $2, updated_at = now()
      WHERE name = $1 RETURNING *`,
    recordFire: recordFireSql(s),
    getFire: `SELECT j.* FROM ${s}.schedule_fires f JOIN ${s}.jobs j ON j.id = f.job_id
      WHERE f.schedule_name = $1 AND f.fire_at = $2`,
    ...leadershipStatements(s),
    // $1 limit, $2 now. The LEFT JOIN returns one row (with now_ms) even when nothing is
    // due, so the caller learns the database time in the same round trip. Served by the
    // partial index schedules_next_fire_idx (next_fire_at) WHERE enabled.
    listDue: `WITH n AS (SELECT ${nowParam(2)} AS now)
      SELECT d.*, ${epochMs('n.now')} AS now_ms FROM n LEFT JOIN LATERAL (
        SELECT * FROM ${s}.schedules
        WHERE enabled AND next_fire_at <= n.now
        ORDER BY next_fire_at, name LIMIT $1
      ) d ON true`,
    // The primary key (schedule_name, fire_at) serves the backwards scan.
    getLastFire: `SELECT ${epochMs('f.fire_at')} AS fire_at_ms, f.job_id AS fire_job_id, j.*
      FROM ${s}.schedule_fires f LEFT JOIN ${s}.jobs j ON j.id = f.job_id
      WHERE f.schedule_name = $1 ORDER BY f.fire_at DESC LIMIT 1`,
    // Compare-and-set on next_fire_at, so a slower scheduler never moves it backwards.
    advance: `UPDATE ${s}.schedules SET next_fire_at = $3, updated_at = now()
      WHERE name = $1 AND next_fire_at IS NOT DISTINCT FROM $2::timestamptz
      RETURNING name`,
  });
}

/**
 * Records one tick of a schedule and enqueues its job, in one statement.
 * $1 name, $2 fireAt, $3 nextFireAt, $4 JSON of the new job (as createMany's rows).
 * The primary key (schedule_name, fire_at) makes a tick recordable once, by anyone.
 */
function recordFireSql(s: string): string {
  return `WITH r AS (
        SELECT * FROM jsonb_to_record($4::jsonb) AS r(
          id uuid, queue text, handler text, execution_id text, step_id text, input jsonb,
          priority int, run_at timestamptz, max_attempts int, timeout_ms bigint, retry jsonb,
          idempotency_key text, correlation_id text)
      ), fire AS (
        INSERT INTO ${s}.schedule_fires (schedule_name, fire_at, job_id)
        SELECT $1, $2, r.id FROM r WHERE EXISTS (SELECT 1 FROM ${s}.schedules WHERE name = $1)
        ON CONFLICT DO NOTHING
        RETURNING job_id
      ), src AS (
        INSERT INTO ${s}.jobs AS j (id, queue, handler, execution_id, step_id, input, priority,
          run_at, max_attempts, timeout_ms, retry, idempotency_key, correlation_id)
        SELECT r.id, r.queue, r.handler, r.execution_id, r.step_id, coalesce(r.input, 'null'),
          r.priority, coalesce(r.run_at, now()), r.max_attempts, r.timeout_ms, r.retry,
          r.idempotency_key, r.correlation_id
        FROM r JOIN fire ON fire.job_id = r.id
        RETURNING j.*
      ), ev AS (
        INSERT INTO ${s}.job_events (job_id, kind, attempt, data, at)
        SELECT id, 'created', 0, jsonb_build_object('schedule', $1::text), created_at FROM src
      ), sched AS (
        UPDATE ${s}.schedules SET updated_at = now(),
          last_fire_at = greatest(last_fire_at, $2::timestamptz),
          next_fire_at = CASE WHEN last_fire_at IS NULL OR $2::timestamptz >= last_fire_at
            THEN $3::timestamptz ELSE next_fire_at END
        WHERE name = $1 AND EXISTS (SELECT 1 FROM fire)
      )
      SELECT src.*, src.run_at <= now() AS due FROM src`;
}

/** The scheduler's leadership lease: acquire (or renew), read, release. */
function leadershipStatements(
  s: string,
): Pick<
  Record<ScheduleStatementName, string>,
  'acquireLeadership' | 'getLeadership' | 'releaseLeadership'
> {
  return {
    // Granted when free, lapsed, or already ours; the term grows when the holder changes.
    acquireLeadership: `INSERT INTO ${s}.leader_leases AS l (name, holder_id, term, acquired_at,
        expires_at)
      VALUES ($1, $2, 1, ${nowParam(4)}, ${nowParam(4)} + $3::float8 * interval '1 millisecond')
      ON CONFLICT (name) DO UPDATE SET holder_id = excluded.holder_id,
        term = CASE WHEN l.holder_id = excluded.holder_id THEN l.term ELSE l.term + 1 END,
        acquired_at = CASE WHEN l.holder_id = excluded.holder_id THEN l.acquired_at
          ELSE excluded.acquired_at END,
        expires_at = excluded.expires_at
      WHERE l.holder_id = excluded.holder_id OR l.expires_at <= ${nowParam(4)}
      RETURNING holder_id, term, ${epochMs('expires_at')} AS expires_at_ms`,
    getLeadership: `SELECT holder_id, term, ${epochMs('expires_at')} AS expires_at_ms
      FROM ${s}.leader_leases WHERE name = $1`,
    // Expires the lease rather than deleting it, so the term keeps growing.
    releaseLeadership: `UPDATE ${s}.leader_leases SET expires_at = timestamptz 'epoch'
      WHERE name = $1 AND holder_id = $2`,
  };
}
