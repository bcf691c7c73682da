import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosDatabase, size, startChaosDatabase } from '../src/chaos-database.js';
import { createChaosWorker } from '../src/chaos-worker.js';
import { checkOracle, oracleViolations } from '../src/oracle.js';
import { type PhaseFigures, phaseFigures, phaseSeries } from '../src/phase-figures.js';
import { pause, report, until } from '../src/report.js';
import { SteadyProducer } from '../src/steady-producer.js';
import { readTableStats, TableStatsSampler } from '../src/table-stats-sampler.js';
import { WorkerProcess } from '../src/worker-process.js';

const LEASE_MS = 5000;
/**
 * Jobs enqueued per second, both forms: two worker processes keep up with room to spare on
 * 2 cores (they drain the long form's backlog at about 450 jobs/s once the transaction ends).
 */
const RATE_PER_S = 300;
/** The run's phases, in ms: the transaction is open for `during`. */
const PHASES = size(
  { warmup: 2000, before: 8000, during: 12_000, recovery: 6000, after: 8000 },
  { warmup: 10_000, before: 120_000, during: 300_000, recovery: 60_000, after: 120_000 },
);
const TABLES = ['jobs', 'job_events'];
/**
 * Autovacuum as one would tune it for a queue table: a vacuum once 1,000 row versions are
 * dead, whatever the table's size (the default waits for 20% of it), and a launcher that
 * looks every second (default 1 min, which a 40-second run might never see).
 */
const QUEUE_AUTOVACUUM = 'autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 1000';
/** After the transaction closes, the claim p99 must be within this factor of the baseline… */
const P99_FACTOR = 3;
/** …or within this many ms of it (a baseline of a few ms is noise on a loaded machine). */
const P99_SLACK_MS = 50;

let db: ChaosDatabase;
const workers: WorkerProcess[] = [];
let holder: pg.Client | undefined;
beforeAll(async () => {
  db = await startChaosDatabase({ settings: ['autovacuum_naptime=1s'] });
  for (const table of TABLES) {
    await db.pool.query(`ALTER TABLE flowmonkey.${table} SET (${QUEUE_AUTOVACUUM})`);
  }
});
afterAll(async () => {
  await holder?.end().catch(() => {});
  await Promise.all(workers.map((w) => w.kill()));
  await db?.close();
});

async function dbNow(): Promise<Date> {
  const { rows } = await db.pool.query<{ now: Date }>('SELECT clock_timestamp() AS now');
  return rows[0]?.now ?? new Date();
}

/**
 * Opens the long transaction on its own connection: REPEATABLE READ keeps the snapshot of
 * its first query until it ends, which holds back the xmin horizon, so no row version that
 * dies after it can be removed by any VACUUM. Returns the backend's pinned xmin.
 */
async function openLongTransaction(): Promise<string | null> {
  holder = new pg.Client({ connectionString: db.url });
  holder.on('error', () => {});
  await holder.connect();
  const { rows: me } = await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  await holder.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  await holder.query('SELECT count(*) FROM flowmonkey.jobs');
  const { rows } = await db.pool.query<{ xmin: string | null }>(
    `SELECT backend_xmin::text AS xmin FROM pg_stat_activity WHERE pid = $1`,
    [me[0]?.pid],
  );
  return rows[0]?.xmin ?? null;
}

/**
 * Row versions the workload killed in `[from, to)`: one per claim (`started_at`) and one
 * per completion (`finished_at`), both database time; heartbeats, which kill more, are not
 * counted. No job is retried here, so `started_at` is the one claim of each job.
 */
async function versionsKilled(from: Date, to: Date): Promise<number> {
  const { rows } = await db.pool.query<{ n: string }>(
    `SELECT (SELECT count(*) FROM flowmonkey.jobs WHERE started_at >= $1 AND started_at < $2)
          + (SELECT count(*) FROM flowmonkey.jobs WHERE finished_at >= $1 AND finished_at < $2)
            AS n`,
    [from, to],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Runs the scan of the claim query (`claimBatch`'s `due` step, without its row locks) under
 * EXPLAIN ANALYZE: its time in ms and the buffers it touched. Every dead row version still
 * indexed by the partial claim index costs a heap visit here until VACUUM removes it.
 */
async function claimScan(): Promise<{ ms: number; buffers: number }> {
  const { rows } = await db.pool.query<{ 'QUERY PLAN': ExplainedPlan[] }>(
    `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT id FROM flowmonkey.jobs
      WHERE status = 'pending' AND run_at <= now() ORDER BY priority DESC, run_at, id LIMIT 10`,
  );
  const explained = rows[0]?.['QUERY PLAN'][0];
  const plan = explained?.Plan;
  return {
    ms: Math.round((explained?.['Execution Time'] ?? 0) * 10) / 10,
    buffers: (plan?.['Shared Hit Blocks'] ?? 0) + (plan?.['Shared Read Blocks'] ?? 0),
  };
}

/** The parts of `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)` that {@link claimScan} reads. */
interface ExplainedPlan {
  'Execution Time': number;
  Plan: { 'Shared Hit Blocks': number; 'Shared Read Blocks': number };
}

/** Ms until `check` holds, polled every 200 ms, or `Infinity` past `budgetMs`. */
async function within(check: () => Promise<boolean>, budgetMs: number): Promise<number> {
  return until('recovery', check, budgetMs, 200).catch(() => Number.POSITIVE_INFINITY);
}

function phase(name: string, f: PhaseFigures): Record<string, number> {
  return {
    [`${name}CompletedPerS`]: f.completedPerS,
    [`${name}ClaimP50Ms`]: f.claimP50Ms,
    [`${name}ClaimP99Ms`]: f.claimP99Ms,
    [`${name}ClaimMaxMs`]: f.claimMaxMs,
    [`${name}PeakBacklog`]: f.peakBacklog,
  };
}

describe('scenario 11: bloat soak (a long-open transaction under a steady rate)', () => {
  it('pins dead tuples while open; claim latency, throughput and dead tuples recover once it closes', async () => {
    const control = createChaosWorker({
      url: db.url,
      workerId: 'control',
      leaseMs: LEASE_MS,
      heartbeatIntervalMs: 1000,
      pollIntervalMs: 500,
      maxConcurrent: 1,
      reaper: { stalledThresholdMs: LEASE_MS, checkIntervalMs: 1000 },
    });
    for (const id of ['soak-a', 'soak-b']) {
      workers.push(
        new WorkerProcess({
          url: db.url,
          workerId: id,
          leaseMs: LEASE_MS,
          heartbeatIntervalMs: 1000,
          pollIntervalMs: 500,
          maxConcurrent: 10,
        }),
      );
    }
    await Promise.all(workers.map((w) => w.next('ready')));
    control.reaper?.start();
    const producer = new SteadyProducer({ jobs: control.stores.jobs, ratePerS: RATE_PER_S });
    const sampler = new TableStatsSampler(db.pool, TABLES, size(250, 1000));
    const started = Date.now();
    producer.start();
    sampler.start();

    await pause(PHASES.warmup);
    const tBefore = await dbNow();
    const localBefore = Date.now();
    await pause(PHASES.before);
    const scanBefore = await claimScan();
    // The same measurement without the pin: what VACUUM keeps when no snapshot is old.
    await db.pool.query('VACUUM flowmonkey.jobs');
    const keptUnpinned = (await readTableStats(db.pool, ['jobs'])).jobs?.deadTuples ?? 0;

    const pinnedXmin = await openLongTransaction();
    const tOpen = await dbNow();
    const localOpen = Date.now();
    await pause(PHASES.during);
    const scanDuring = await claimScan();
    // What any VACUUM (autovacuum's or this one) can do while the snapshot is held: remove
    // nothing that died after it. VACUUM reports what it had to keep as n_dead_tup.
    await db.pool.query('VACUUM flowmonkey.jobs');
    const pinned = (await readTableStats(db.pool, ['jobs'])).jobs?.deadTuples ?? 0;
    const killed = await versionsKilled(tOpen, await dbNow());
    const { rows: ages } = await db.pool.query<{ age: number }>(
      `SELECT age(backend_xmin) AS age FROM pg_stat_activity WHERE backend_xmin IS NOT NULL
        ORDER BY age(backend_xmin) DESC LIMIT 1`,
    );
    await holder?.query('COMMIT');
    await holder?.end();
    holder = undefined;
    const tClose = await dbNow();
    const localClose = Date.now();

    // Recovery: the backlog of jobs enqueued before the close drains, and autovacuum (on
    // its own) brings dead tuples back under the steady state's peak.
    const baselineDead = sampler.max('jobs', 'deadTuples', localBefore, localOpen);
    const peakDuring = sampler.max('jobs', 'deadTuples', localOpen, localClose);
    const [backlogDrainMs, deadRecoveryMs] = await Promise.all([
      within(async () => {
        const { rows } = await db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM flowmonkey.jobs
            WHERE status IN ('pending', 'running') AND created_at < $1`,
          [tClose],
        );
        return Number(rows[0]?.n) === 0;
      }, PHASES.recovery),
      within(async () => {
        const stats = await readTableStats(db.pool, ['jobs']);
        return (stats.jobs?.deadTuples ?? Number.POSITIVE_INFINITY) <= baselineDead;
      }, PHASES.recovery),
    ]);
    await pause(Math.max(0, localClose + PHASES.recovery - Date.now()));
    const tAfter = await dbNow();
    const localAfter = Date.now();
    await pause(PHASES.after);
    const scanAfter = await claimScan();
    const tEnd = await dbNow();
    const localEnd = Date.now();
    await producer.stop();
    await sampler.stop();
    const drainMs = await until(
      'every job finished',
      async () => {
        const { rows } = await db.pool.query<{ n: string }>(
          `SELECT count(*) AS n FROM flowmonkey.jobs WHERE status IN ('pending', 'running')`,
        );
        return Number(rows[0]?.n) === 0;
      },
      60_000,
      200,
    );
    await control.stop();

    const before = await phaseFigures(db.pool, tBefore, tOpen);
    const during = await phaseFigures(db.pool, tOpen, tClose);
    const after = await phaseFigures(db.pool, tAfter, tEnd);
    const bucketMs = size(4000, 60_000);
    const series = await Promise.all(
      [
        [tBefore, tOpen],
        [tOpen, tClose],
        [tClose, tEnd],
      ].map(([from, to]) => phaseSeries(db.pool, from as Date, to as Date, bucketMs)),
    );
    const final = await readTableStats(db.pool, TABLES);
    const figures = await checkOracle(db.pool, { jobIds: producer.jobIds });
    const p99Limit = Math.round(
      Math.max(before.claimP99Ms * P99_FACTOR, before.claimP99Ms + P99_SLACK_MS),
    );
    report('11-bloat-soak', {
      ...figures,
      ratePerS: RATE_PER_S,
      workers: workers.length,
      openTransactionMs: localClose - localOpen,
      runMs: localEnd - started,
      ...phase('before', before),
      ...phase('during', during),
      ...phase('after', after),
      afterClaimP99LimitMs: p99Limit,
      claimScanMs: `${scanBefore.ms} / ${scanDuring.ms} / ${scanAfter.ms}`,
      claimScanBuffers: `${scanBefore.buffers} / ${scanDuring.buffers} / ${scanAfter.buffers}`,
      baselineDeadTuples: baselineDead,
      peakDeadTuplesDuring: peakDuring,
      versionsKilledDuring: killed,
      deadTuplesVacuumKept: pinned,
      deadTuplesVacuumKeptBefore: keptUnpinned,
      pinnedXminAge: ages[0]?.age ?? 0,
      afterPeakDeadTuples: sampler.max('jobs', 'deadTuples', localAfter, localEnd),
      jobEventsPeakDeadTuples: sampler.max('job_events', 'deadTuples', started, localEnd),
      backlogDrainMs,
      deadTuplesRecoveryMs: deadRecoveryMs,
      jobsAutovacuums: final.jobs?.autovacuums ?? 0,
      jobsSizeMiB: Math.round((final.jobs?.sizeBytes ?? 0) / 1048576),
      slowestInsertMs: Math.round(producer.slowestInsertMs),
      finalDrainMs: drainMs,
      [`claimP99MsPer${bucketMs / 1000}s`]: series.map((s) => s.claimP99Ms).join(' | '),
      [`completedPerSPer${bucketMs / 1000}s`]: series.map((s) => s.completedPerS).join(' | '),
    });
    expect(oracleViolations(figures)).toEqual([]);
    // The fault took effect: the transaction pinned the horizon and VACUUM had to keep at
    // least half of the row versions the workload killed while it was open.
    expect(pinnedXmin).not.toBeNull();
    expect(pinned).toBeGreaterThanOrEqual(killed / 2);
    // Recovery once it closed, within the recovery phase.
    expect(backlogDrainMs).toBeLessThanOrEqual(PHASES.recovery);
    expect(deadRecoveryMs).toBeLessThanOrEqual(PHASES.recovery);
    expect(after.completedPerS).toBeGreaterThanOrEqual(RATE_PER_S * 0.9);
    expect(after.claimP99Ms).toBeLessThanOrEqual(p99Limit);
  });
});
