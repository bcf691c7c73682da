/**
 * Renders the demo's live progress line: a bar over finished executions, counts of
 * executions and jobs by status. Redraws in place on a terminal, prints a line a second
 * otherwise (CI logs).
 */
import type pg from 'pg';

/** Counts read from the database in one round trip. */
export interface ProgressCounts {
  executions: Record<string, number>;
  jobs: Record<string, number>;
  /** Pending jobs that already failed once and wait for their retry. */
  retrying: number;
}

/** Reads execution and job counts by status. */
export async function readCounts(pool: pg.Pool, schema = 'flowmonkey'): Promise<ProgressCounts> {
  const { rows } = await pool.query<{ kind: string; status: string; n: number }>(
    `SELECT 'execution' AS kind, status, count(*)::int AS n FROM ${schema}.executions GROUP BY status
     UNION ALL
     SELECT 'job', CASE WHEN status = 'pending' AND attempts > 0 THEN 'retrying' ELSE status END,
            count(*)::int FROM ${schema}.jobs GROUP BY 2`,
  );
  const counts: ProgressCounts = { executions: {}, jobs: {}, retrying: 0 };
  for (const row of rows) {
    if (row.kind === 'execution') counts.executions[row.status] = row.n;
    else if (row.status === 'retrying') counts.retrying = row.n;
    else counts.jobs[row.status] = row.n;
  }
  return counts;
}

/** Draws one progress line; `total` is the number of executions started. */
export function renderProgress(counts: ProgressCounts, total: number, elapsedMs: number): string {
  const e = counts.executions;
  const finished = (e.completed ?? 0) + (e.failed ?? 0) + (e.cancelled ?? 0);
  const width = 24;
  const filled = total === 0 ? width : Math.round((finished / total) * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const j = counts.jobs;
  return (
    `[${bar}] ${String(finished).padStart(3)}/${total} executions ` +
    `(completed ${e.completed ?? 0}, failed ${e.failed ?? 0}, waiting ${e.waiting ?? 0}) | ` +
    `jobs: pending ${j.pending ?? 0}, running ${j.running ?? 0}, retrying ${counts.retrying}, ` +
    `completed ${j.completed ?? 0}, failed ${j.failed ?? 0} | ${(elapsedMs / 1000).toFixed(1)} s`
  );
}

/**
 * Redraws the progress line every 200 ms until all `total` executions are finished or
 * `deadlineMs` has passed since `startedAt` (a `performance.now()` reading).
 */
export async function watchProgress(
  pool: pg.Pool,
  schema: string,
  total: number,
  startedAt: number,
  deadlineMs: number,
): Promise<void> {
  const tty = process.stdout.isTTY === true;
  let lastPrinted = 0;
  for (;;) {
    const counts = await readCounts(pool, schema);
    const elapsed = performance.now() - startedAt;
    const line = renderProgress(counts, total, elapsed);
    const e = counts.executions;
    const done = (e.completed ?? 0) + (e.failed ?? 0) + (e.cancelled ?? 0) === total;
    if (tty) process.stdout.write(`\r${line}`);
    else if (done || elapsed - lastPrinted >= 1000) {
      process.stdout.write(`${line}\n`);
      lastPrinted = elapsed;
    }
    if (done || elapsed > deadlineMs) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  if (tty) process.stdout.write('\n');
}
