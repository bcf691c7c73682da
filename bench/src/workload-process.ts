/**
 * Runs one workload for one adapter against a fresh database, in its own process, and
 * prints `RESULT <json>` as its last line. The parent (`run.ts`) creates and drops the
 * database and kills this process at the hard time limit.
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { enqueueNumbered, loadAdapter } from './adapter.js';
import { analyzeDatabase } from './database.js';
import { postgresCpuMs } from './postgres-cpu.js';
import { checkOnce, WorkerPool } from './worker-pool.js';
import type { WorkloadParams, WorkloadResult } from './workload-types.js';

const url = process.env.BENCH_URL ?? '';
const adapterName = process.env.BENCH_ADAPTER ?? '';
const params = JSON.parse(process.env.BENCH_PARAMS ?? '{}') as WorkloadParams;
const wallNow = () => performance.timeOrigin + performance.now();
/**
 * Whether the server's CPU can be read: it runs on this machine (see `benchServer`), whose
 * processes are in /proc (Linux).
 */
const serverLocal = process.env.BENCH_SERVER_LOCAL === '1' && existsSync('/proc/self/stat');

/**
 * Starts counting the CPU of a timed stretch that begins now, when the workers are told to
 * go, and ends at `stop`, just before they are told to finish. `perJob` then gives, in µs
 * per job, the worker processes' CPU (their own count, from `go` to `finish`) and, when
 * the server is on this machine, PostgreSQL's (every server process, from /proc) and the
 * two together: what a job cost in CPU, apart from the time spent waiting on round trips.
 */
function cpuPerJob(): {
  stop: () => void;
  perJob: (n: number, finals: readonly { cpuMs: number }[]) => Record<string, number>;
} {
  const pg0 = serverLocal ? postgresCpuMs() : Number.NaN;
  let postgresMs = Number.NaN;
  return {
    stop: () => {
      if (serverLocal) postgresMs = postgresCpuMs() - pg0;
    },
    perJob: (n, finals): Record<string, number> => {
      const worker = (finals.reduce((sum, f) => sum + f.cpuMs, 0) * 1000) / n;
      if (!serverLocal) return { workerCpuUs: worker };
      const postgres = (postgresMs * 1000) / n;
      return { workerCpuUs: worker, postgresCpuUs: postgres, cpuUs: worker + postgres };
    },
  };
}

/**
 * Gathers planner statistics, as autovacuum would within a minute of a bulk load (and, with
 * `VACUUM ANALYZE`, clears the dead row versions of a warm-up). Done for every adapter
 * alike; `--no-analyze` measures a never-analysed table instead.
 */
const analyze = (sql: 'ANALYZE' | 'VACUUM ANALYZE' = 'ANALYZE') => analyzeDatabase(url, sql);

/**
 * Polls `sql` (an adapter's `unfinishedSql`, prepared once) every 5 ms on a connection of
 * its own, and resolves with the wall-clock time at which it first finds every outcome
 * stored; `NaN` when `deadline` (a `performance.now()` time) passes first or the poll fails
 * (a lost connection included), so that a failed poll leaves its figure unmeasured instead
 * of failing the run. Sequential scans are off on that connection: the table fills with
 * finished (or dead) rows, which an index scan of the unfinished ones skips after its first
 * pass; JIT is off with them, since the cost estimates they inflate would set it off.
 */
async function whenAllStored(sql: string, deadline: number): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SET enable_seqscan = off; SET jit = off');
    for (;;) {
      const { rows } = await client.query<unknown[]>({
        name: 'unfinished',
        text: sql,
        rowMode: 'array',
      });
      if (rows[0]?.[0] === false) return wallNow();
      if (performance.now() > deadline) return Number.NaN;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  } catch {
    return Number.NaN;
  } finally {
    await client.end().catch(() => {});
  }
}

async function drain(): Promise<WorkloadResult> {
  const adapter = await loadAdapter(adapterName);
  await adapter.prepare(url);
  await adapter.open(url);
  const began = performance.now();
  await enqueueNumbered(adapter, params.n);
  const enqueueMs = performance.now() - began;
  await adapter.close();
  if (params.analyze !== false) await analyze();
  const pool = new WorkerPool(params.workers, {
    BENCH_ADAPTER: adapterName,
    BENCH_URL: url,
    BENCH_CONCURRENCY: String(params.concurrency),
    ...(params.memory === true ? { BENCH_HEAP_AT: String(params.n) } : {}),
  });
  try {
    await pool.ready();
    const unfinishedSql = params.timeStored === true ? adapter.unfinishedSql : undefined;
    const deadline = performance.now() + params.deadlineMs;
    const cpu = cpuPerJob();
    pool.go();
    // The poll starts late, so its own load falls on the run's last tenth only; no outcome
    // can be stored before its handler starts.
    let stored: Promise<number> | undefined;
    if (unfinishedSql !== undefined) {
      await pool.waitFor(Math.floor(params.n * 0.9), deadline);
      stored = whenAllStored(unfinishedSql, deadline);
    }
    await pool.waitFor(params.n, deadline);
    const storedAt = (await stored) ?? Number.NaN;
    await new Promise((resolve) => setTimeout(resolve, 300));
    cpu.stop();
    const finals = await pool.finish();
    const cpuMetrics = cpu.perJob(params.n, finals);
    const first = Math.min(...finals.filter((f) => f.firstAt > 0).map((f) => f.firstAt));
    const last = Math.max(...finals.map((f) => f.lastAt));
    const check = checkOnce(params.n, finals);
    const metrics: Record<string, number> = {
      enqueuePerSec: params.n / (enqueueMs / 1000),
      processPerSec: check.runs / ((last - first) / 1000),
      ...cpuMetrics,
    };
    // To the last stored outcome: handlers that ran ahead of their writes do not count.
    if (stored !== undefined) metrics.storedPerSec = params.n / ((storedAt - first) / 1000);
    if (params.memory === true)
      Object.assign(metrics, memoryMetrics(params.n, finals[0]?.rss ?? [], finals[0]?.heap ?? []));
    return {
      metrics,
      check,
      settings: adapter.settings({ concurrency: params.concurrency }),
    };
  } finally {
    pool.kill();
  }
}

/**
 * Peak RSS, RSS after 20 % of the jobs vs at the end, and the heap after a full GC at 20 %
 * vs 100 % (growth while draining: RSS also follows the allocator's sizing; the heap after a
 * GC is what the worker really keeps).
 */
function memoryMetrics(
  n: number,
  samples: [number, number][],
  heap: [number, number][],
): Record<string, number> {
  const mb = (b: number) => b / 1024 / 1024;
  const at = (share: number) => samples.find(([done]) => done >= n * share)?.[1] ?? 0;
  const peak = Math.max(...samples.map(([, r]) => r));
  const early = at(0.2);
  const late = samples.length > 0 ? (samples[samples.length - 1]?.[1] ?? 0) : 0;
  return {
    peakRssMb: mb(peak),
    rssAt20pctMb: mb(early),
    rssAtEndMb: mb(late),
    growthMb: mb(late - early),
    heapGrowthMb: heap.length === 2 ? mb((heap[1]?.[1] ?? 0) - (heap[0]?.[1] ?? 0)) : Number.NaN,
  };
}

async function insert(): Promise<WorkloadResult> {
  const adapter = await loadAdapter(adapterName);
  await adapter.prepare(url);
  await adapter.open(url);
  try {
    // Untimed warm-up, the same for every adapter: a long-lived producer's steady state,
    // not the first enqueues of a fresh process (connections, prepared statements, JIT).
    const warmUp = params.warmUp ?? 0;
    for (let i = 0; i < warmUp; i++) await adapter.enqueueOne({ i: -1 - i });
    let began = performance.now();
    for (let i = 0; i < params.n; i++) await adapter.enqueueOne({ i });
    const serialMs = performance.now() - began;
    let next = 0;
    began = performance.now();
    await Promise.all(
      Array.from({ length: params.producers ?? 10 }, async () => {
        while (next < params.n) await adapter.enqueueOne({ i: params.n + next++ });
      }),
    );
    const concurrentMs = performance.now() - began;
    return {
      metrics: {
        oneByOnePerSec: params.n / (serialMs / 1000),
        tenProducersPerSec: params.n / (concurrentMs / 1000),
      },
      check: null,
      settings: adapter.settings({ concurrency: 1 }),
    };
  } finally {
    await adapter.close();
  }
}

async function latency(): Promise<WorkloadResult> {
  const adapter = await loadAdapter(adapterName);
  await adapter.prepare(url);
  await adapter.open(url);
  const pool = new WorkerPool(1, {
    BENCH_ADAPTER: adapterName,
    BENCH_URL: url,
    BENCH_CONCURRENCY: String(params.concurrency),
  });
  try {
    await pool.ready();
    pool.go();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const n = Math.floor(params.durationMs / params.intervalMs);
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const due = start + i * params.intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await adapter.enqueueOne({ i, t: wallNow() });
    }
    await pool.waitFor(n, performance.now() + params.deadlineMs);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const finals = await pool.finish();
    const all = finals.flatMap((f) => f.latencies).sort((a, b) => a - b);
    const pct = (p: number) =>
      all[Math.min(all.length - 1, Math.floor(p * all.length))] ?? Number.NaN;
    return {
      metrics: {
        p50Ms: pct(0.5),
        p95Ms: pct(0.95),
        p99Ms: pct(0.99),
        maxMs: all[all.length - 1] ?? Number.NaN,
      },
      check: checkOnce(n, finals),
      settings: adapter.settings({ concurrency: params.concurrency }),
    };
  } finally {
    pool.kill();
    await adapter.close();
  }
}

/**
 * Runs `n` executions of the workflow to completion on the worker processes of `pool`,
 * untimed, pauses them and `VACUUM ANALYZE`s: the timed executions meet worker processes
 * that have run the flow before (V8 has compiled the engine's hot paths) and a database
 * that has been running for a while, as a deployed worker after its first minute. Timed
 * from a cold start, the one-process workflow spent about 1.4 times the Node CPU per
 * execution (`studies/workflow-backlog.ts`); and on a young database PostgreSQL keeps the
 * plans it made while the tables were nearly empty (sequential scans) until autovacuum
 * analyses them (see "A young database" in the postgres README). Their inputs start at
 * `params.n`, apart from the timed ones.
 */
async function warmUpWorkflow(pool: WorkerPool, n: number): Promise<void> {
  const { startExecutions } = await import('./flowmonkey-workflow.js');
  pool.go();
  await startExecutions(url, n, params.producers ?? 10, params.n);
  if (!(await pool.waitFor(n, performance.now() + params.deadlineMs))) {
    throw new Error(`warm-up: ${pool.total()} of ${n} finished`);
  }
  await pool.pause();
  if (params.analyze !== false) await analyze('VACUUM ANALYZE');
}

async function workflow(): Promise<WorkloadResult> {
  const { executionCounts, startExecutions } = await import('./flowmonkey-workflow.js');
  const adapter = await loadAdapter('flowmonkey');
  await adapter.prepare(url);
  const warmUp = params.warmUp ?? 0;
  const pool = new WorkerPool(params.workers, {
    BENCH_MODE: 'workflow',
    BENCH_URL: url,
    BENCH_CONCURRENCY: String(params.concurrency),
  });
  try {
    await pool.ready();
    if (warmUp > 0) await warmUpWorkflow(pool, warmUp);
    const start = () => startExecutions(url, params.n, params.producers ?? 10);
    const startMs = params.endToEnd === true ? 0 : await start();
    // End to end, the producers' starts fall in the same stretch: no per-execution figure.
    const cpu = params.endToEnd === true ? undefined : cpuPerJob();
    pool.go();
    // End to end: the producers start the executions while the workers run them, on the
    // same cores, timed from the first start to the last execution to finish.
    const startedAt = wallNow();
    const endToEndStartMs = params.endToEnd === true ? await start() : 0;
    await pool.waitFor(params.n, performance.now() + params.deadlineMs);
    await new Promise((resolve) => setTimeout(resolve, 300));
    cpu?.stop();
    const finals = await pool.finish();
    const cpuMetrics = cpu?.perJob(params.n, finals) ?? {};
    // Otherwise timed like the drain: from the first execution to finish to the last, so
    // a worker's start-up (loading the engine, connecting, the first claim) is not counted.
    const first = Math.min(...finals.filter((f) => f.firstAt > 0).map((f) => f.firstAt));
    const last = Math.max(...finals.map((f) => f.lastAt));
    const counts = await executionCounts(url);
    const check = checkOnce(params.n, finals);
    const metrics: Record<string, number> =
      params.endToEnd === true
        ? {
            startPerSec: params.n / (endToEndStartMs / 1000),
            executionsPerSec: check.runs / ((last - startedAt) / 1000),
          }
        : {
            startPerSec: params.n / (startMs / 1000),
            executionsPerSec: check.runs / ((last - first) / 1000),
          };
    return {
      metrics: { ...metrics, ...cpuMetrics, completed: (counts.completed ?? 0) - warmUp },
      check,
      settings: {
        ...adapter.settings({ concurrency: params.concurrency }),
        workers: params.workers,
        ...(params.endToEnd === true ? { producers: params.producers ?? 10 } : {}),
      },
    };
  } finally {
    pool.kill();
  }
}

const run = { drain, insert, latency, workflow }[params.kind];
const result = await run();
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
