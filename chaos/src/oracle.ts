import type pg from 'pg';

/** What the oracle counted after a run. */
export interface OracleFigures {
  /** Jobs the scenario created (its own count). */
  jobs: number;
  /** Created jobs not found in the table. */
  missing: number;
  /** Jobs not in a terminal state (pending or running). */
  stuck: number;
  /** Jobs that ended `failed` or `cancelled` (the workload never fails on its own). */
  failed: number;
  /** Jobs with more than one `completed` event. */
  completedTwice: number;
  /** Events recorded on a job after its terminal event (a terminal job moved again). */
  movedAfterTerminal: number;
  /** Completed jobs without the side effect of the attempt that completed them. */
  completedWithoutEffect: number;
  /** `(job, attempt)` pairs with two side effects: two holders of one attempt. */
  sameAttemptTwice: number;
  /** Jobs whose handler wrote its side effect more than once (re-runs: at-least-once). */
  duplicatedSideEffects: number;
  /** Executions checked. */
  executions: number;
  /** Executions not completed, or whose history is not each step exactly once. */
  badExecutions: number;
}

const TERMINAL = `('completed', 'failed', 'cancelled')`;

/**
 * Checks a finished run: every job of `jobIds` exists and is terminal, none completed
 * twice or moved after its end, every completion has its side effect, no attempt ran
 * twice, and every execution of `executionIds` completed having visited `steps` once each.
 */
export async function checkOracle(
  pool: pg.Pool,
  params: {
    jobIds: readonly string[];
    executionIds?: readonly string[];
    steps?: readonly string[];
  },
): Promise<OracleFigures> {
  const ids = [...params.jobIds];
  const one = async (sql: string, values: unknown[] = [ids]): Promise<number> => {
    const { rows } = await pool.query<{ n: string }>(sql, values);
    return Number(rows[0]?.n ?? 0);
  };
  const execIds = [...(params.executionIds ?? [])];
  const steps = JSON.stringify(params.steps ?? []);
  return {
    jobs: ids.length,
    missing:
      ids.length -
      (await one('SELECT count(*) AS n FROM flowmonkey.jobs WHERE id = ANY($1::uuid[])')),
    stuck: await one(
      `SELECT count(*) AS n FROM flowmonkey.jobs WHERE id = ANY($1::uuid[]) AND status NOT IN ${TERMINAL}`,
    ),
    failed: await one(
      `SELECT count(*) AS n FROM flowmonkey.jobs WHERE id = ANY($1::uuid[]) AND status IN ('failed', 'cancelled')`,
    ),
    completedTwice: await one(
      `SELECT count(*) AS n FROM (SELECT job_id FROM flowmonkey.job_events
        WHERE job_id = ANY($1::uuid[]) AND kind = 'completed' GROUP BY job_id HAVING count(*) > 1) d`,
    ),
    movedAfterTerminal: await one(
      `SELECT count(*) AS n FROM flowmonkey.job_events e JOIN (
         SELECT job_id, min(id) AS end_id FROM flowmonkey.job_events
         WHERE job_id = ANY($1::uuid[]) AND kind IN ('completed', 'failed', 'cancelled')
           AND NOT (kind = 'cancelled' AND coalesce((data->>'requested')::boolean, false))
         GROUP BY job_id) t ON t.job_id = e.job_id AND e.id > t.end_id
       -- a stale holder recording that its writes were refused is not a move
       WHERE e.kind <> 'lease-lost'`,
    ),
    completedWithoutEffect: await one(
      `SELECT count(*) AS n FROM flowmonkey.jobs j WHERE j.id = ANY($1::uuid[])
        AND j.status = 'completed' AND NOT EXISTS (SELECT 1 FROM chaos_side_effects s
          WHERE s.job_id = j.id AND s.attempt = j.attempts)`,
    ),
    sameAttemptTwice: await one(
      `SELECT count(*) AS n FROM (SELECT 1 FROM chaos_side_effects WHERE job_id = ANY($1::uuid[])
        GROUP BY job_id, attempt HAVING count(*) > 1) d`,
    ),
    duplicatedSideEffects: await one(
      `SELECT count(*) AS n FROM (SELECT 1 FROM chaos_side_effects WHERE job_id = ANY($1::uuid[])
        GROUP BY job_id HAVING count(*) > 1) d`,
    ),
    executions: execIds.length,
    badExecutions:
      execIds.length === 0
        ? 0
        : execIds.length -
          (await one(
            `SELECT count(*) AS n FROM flowmonkey.executions WHERE id = ANY($1::text[])
              AND status = 'completed'
              AND (SELECT jsonb_agg(h->'stepId') FROM jsonb_array_elements(history) h) = $2::jsonb`,
            [execIds, steps],
          )),
  };
}

/** The oracle's pass criteria: names of the figures that must be zero and are not. */
export function oracleViolations(f: OracleFigures): string[] {
  const mustBeZero: (keyof OracleFigures)[] = [
    'missing',
    'stuck',
    'failed',
    'completedTwice',
    'movedAfterTerminal',
    'completedWithoutEffect',
    'sameAttemptTwice',
    'badExecutions',
  ];
  return mustBeZero.filter((k) => f[k] !== 0).map((k) => `${k} = ${f[k]}`);
}
