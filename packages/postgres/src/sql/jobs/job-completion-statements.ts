import { epochMs, nowParam, opaque } from '../sql-helpers.js';
import { appendEvents, FENCE, lazyCommit } from './job-fragments.js';

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
 * The statements that complete jobs (one, or a batch in one statement), and `recordEvents`,
 * which appends the runner-observed events that `completeMany` also takes.
 */
export function jobCompletionStatements(
  s: string,
): Record<'complete' | 'completeMany' | 'completeManyReturningJobs' | 'recordEvents', string> {
  return {
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
  };
}
