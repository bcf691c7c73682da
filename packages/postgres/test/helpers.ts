import type pg from 'pg';

/** Empties every FlowMonkey table of `schema` (default `flowmonkey`). */
export async function truncateAll(pool: pg.Pool, schema = 'flowmonkey'): Promise<void> {
  await pool.query(
    `TRUNCATE ${schema}.jobs, ${schema}.job_events, ${schema}.executions, ${schema}.schedules,
      ${schema}.schedule_fires, ${schema}.runners, ${schema}.leader_leases`,
  );
}

/** Row counts of the tables bad input must never reach. */
export async function rowCounts(
  pool: pg.Pool,
  schema = 'flowmonkey',
): Promise<Record<string, number>> {
  const { rows } = await pool.query<{
    jobs: string;
    events: string;
    executions: string;
    schedules: string;
  }>(
    `SELECT (SELECT count(*) FROM ${schema}.jobs) AS jobs,
      (SELECT count(*) FROM ${schema}.job_events) AS events,
      (SELECT count(*) FROM ${schema}.executions) AS executions,
      (SELECT count(*) FROM ${schema}.schedules) AS schedules`,
  );
  const r = rows[0];
  return {
    jobs: Number(r?.jobs),
    events: Number(r?.events),
    executions: Number(r?.executions),
    schedules: Number(r?.schedules),
  };
}
