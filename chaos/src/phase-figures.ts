import type pg from 'pg';

/** Throughput and claim latency of one phase of a run, all in database time. */
export interface PhaseFigures {
  /** Length of the phase, in ms. */
  durationMs: number;
  /** Jobs created in the phase. */
  created: number;
  /** Jobs finished in the phase, per second (whenever they were created). */
  completedPerS: number;
  /** Claim latency (`started_at - created_at`) of the jobs created in the phase: median, ms. */
  claimP50Ms: number;
  /** 99th percentile of the same, ms. */
  claimP99Ms: number;
  /** Largest of the same, ms. */
  claimMaxMs: number;
  /** Most jobs created in the phase waiting to be claimed at one moment. */
  peakBacklog: number;
}

const LATENCY_MS = `extract(epoch FROM started_at - created_at) * 1000`;

/**
 * Figures of the phase `[from, to)` (database timestamps) of the `flowmonkey.jobs` table:
 * completions per second by `finished_at`, claim latency percentiles of the jobs created
 * in it, and the peak backlog (a running sum of +1 at each `created_at`, -1 at each
 * `started_at`). Meant for after the run, once every job has started.
 */
export async function phaseFigures(pool: pg.Pool, from: Date, to: Date): Promise<PhaseFigures> {
  const { rows } = await pool.query<Record<string, string | null>>(
    `WITH j AS (SELECT created_at, started_at FROM flowmonkey.jobs
                 WHERE created_at >= $1 AND created_at < $2),
          e AS (SELECT created_at AS t, 1 AS d FROM j
                UNION ALL SELECT started_at, -1 FROM j WHERE started_at IS NOT NULL),
          b AS (SELECT sum(d) OVER (ORDER BY t, d DESC ROWS UNBOUNDED PRECEDING) AS backlog FROM e)
     SELECT (SELECT count(*) FROM j) AS created,
            (SELECT count(*) FROM flowmonkey.jobs WHERE finished_at >= $1 AND finished_at < $2)
              AS finished,
            (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ${LATENCY_MS}) FROM j) AS p50,
            (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY ${LATENCY_MS}) FROM j) AS p99,
            (SELECT max(${LATENCY_MS}) FROM j) AS max,
            (SELECT coalesce(max(backlog), 0) FROM b) AS backlog`,
    [from, to],
  );
  const r = rows[0] ?? {};
  const durationMs = to.getTime() - from.getTime();
  const num = (v: string | null | undefined) => Math.round(Number(v ?? 0) * 10) / 10;
  return {
    durationMs,
    created: Number(r.created ?? 0),
    completedPerS: Math.round((Number(r.finished ?? 0) * 1000) / Math.max(1, durationMs)),
    claimP50Ms: num(r.p50),
    claimP99Ms: num(r.p99),
    claimMaxMs: num(r.max),
    peakBacklog: Number(r.backlog ?? 0),
  };
}

/**
 * The phase `[from, to)` cut into buckets of about `bucketMs` (the last one takes the
 * remainder): per bucket, the claim-latency p99 (ms) of the jobs created in it and the
 * completions per second, as two lists for a report (`"4, 5, 38"`).
 */
export async function phaseSeries(
  pool: pg.Pool,
  from: Date,
  to: Date,
  bucketMs: number,
): Promise<{ claimP99Ms: string; completedPerS: string }> {
  const { rows } = await pool.query<{ n: number; p99: string | null; finished: string }>(
    `WITH k AS (SELECT greatest(1, round(extract(epoch FROM $2::timestamptz - $1::timestamptz)
                                          * 1000 / $3))::int AS count),
          buckets AS (
       SELECT n, $1::timestamptz + n * $3 * interval '1 millisecond' AS lo,
              CASE WHEN n = k.count - 1 THEN $2::timestamptz
                   ELSE $1::timestamptz + (n + 1) * $3 * interval '1 millisecond' END AS hi
         FROM k, generate_series(0, k.count - 1) AS n)
     SELECT b.n,
            (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY ${LATENCY_MS})
               FROM flowmonkey.jobs WHERE created_at >= b.lo AND created_at < b.hi) AS p99,
            (SELECT count(*) FROM flowmonkey.jobs WHERE finished_at >= b.lo AND finished_at < b.hi)
              * 1000.0 / greatest(1, extract(epoch FROM b.hi - b.lo) * 1000) AS finished
       FROM buckets b ORDER BY b.n`,
    [from, to, bucketMs],
  );
  return {
    claimP99Ms: rows.map((r) => (r.p99 === null ? '-' : Number(r.p99).toFixed(0))).join(', '),
    completedPerS: rows.map((r) => Number(r.finished).toFixed(0)).join(', '),
  };
}
