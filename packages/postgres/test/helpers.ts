import type pg from 'pg';
import { JobListener } from '../src/job-listener.js';

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

/**
 * Runs `fn` with a connected `JobListener` on `pool` and resolves once `fn` has resolved
 * and the listener has heard a `jobs` wake-up; stops the listener either way.
 */
export async function wakesListener(pool: pg.Pool, fn: () => Promise<unknown>): Promise<void> {
  const listener = new JobListener({ pool });
  const connected = new Promise((resolve) => listener.once('connected', () => resolve(null)));
  await listener.start();
  await connected;
  try {
    const woke = new Promise((resolve) => listener.once('jobs', () => resolve(null)));
    await fn();
    await woke;
  } finally {
    await listener.stop();
  }
}
