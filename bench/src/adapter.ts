import { analyzeDatabase } from './database.js';

/** What every benchmark job carries: its index (to count runs per job) and an optional send time. */
export interface BenchJob {
  /** 0-based index of the job in its workload. */
  i: number;
  /** Wall-clock time the producer sent it, epoch ms with sub-ms precision (latency workload). */
  t?: number;
}

/** Settings of one worker process. */
export interface WorkerSpec {
  /** Jobs run at once in this process. */
  concurrency: number;
}

/**
 * One queue library driven through its public API. `prepare` runs once per fresh database
 * (schema, migrations, queue); every process then calls `open` and uses the rest.
 */
export interface BenchAdapter {
  /** Short name used in the tables. */
  readonly name: string;
  /** Library version, printed with the results. */
  readonly version: string;
  /** The settings the adapter runs with, printed with the results. */
  settings(spec: WorkerSpec): Record<string, unknown>;
  /**
   * A query whose one row's one column is true while some enqueued job's outcome is not
   * stored yet (pending, or running, or completed by a handler but not written), cheap
   * enough to repeat every few ms (it runs prepared, with sequential scans off, so on the
   * library's indexes); absent for an adapter that runs no jobs or has no such index.
   */
  readonly unfinishedSql?: string;
  prepare(url: string): Promise<void>;
  open(url: string): Promise<void>;
  /** Enqueues many jobs in as few calls as the library allows. */
  enqueueMany(jobs: readonly BenchJob[]): Promise<void>;
  /** Enqueues one job, resolving once it is committed. */
  enqueueOne(job: BenchJob): Promise<void>;
  /** Starts working; `onJob` is called at the start of every handler run. */
  startWorker(spec: WorkerSpec, onJob: (job: BenchJob) => void): Promise<void>;
  /** Stops working and closes every connection. */
  close(): Promise<void>;
}

/** Enqueues jobs `0` to `n - 1` through `enqueueMany`, 5,000 per call. */
export async function enqueueNumbered(adapter: BenchAdapter, n: number): Promise<void> {
  for (let from = 0; from < n; from += 5000) {
    const length = Math.min(5000, n - from);
    await adapter.enqueueMany(Array.from({ length }, (_, k): BenchJob => ({ i: from + k })));
  }
}

/**
 * For the studies: the adapter called `name` on the fresh database at `url`, prepared and
 * open, with jobs `0` to `n - 1` enqueued and the database `ANALYZE`d, as the drain
 * workload leaves it before its worker starts. The caller closes it.
 */
export async function openWithJobs(name: string, url: string, n: number): Promise<BenchAdapter> {
  const adapter = await loadAdapter(name);
  await adapter.prepare(url);
  await adapter.open(url);
  try {
    await enqueueNumbered(adapter, n);
    await analyzeDatabase(url);
  } catch (error) {
    await adapter.close();
    throw error;
  }
  return adapter;
}

/** Builds the adapter called `name`. */
export async function loadAdapter(name: string): Promise<BenchAdapter> {
  switch (name) {
    case 'flowmonkey':
      return new (await import('./flowmonkey-adapter.js')).FlowMonkeyAdapter();
    case 'graphile-worker':
      return new (await import('./graphile-adapter.js')).GraphileAdapter();
    case 'pg-boss':
      return new (await import('./pgboss-adapter.js')).PgBossAdapter();
    case 'plain-insert':
      return new (await import('./plain-insert-adapter.js')).PlainInsertAdapter();
    default:
      throw new Error(`unknown adapter "${name}"`);
  }
}

/** Reads the `version` of an installed package. */
export async function packageVersion(name: string): Promise<string> {
  const { createRequire } = await import('node:module');
  const { readFileSync } = await import('node:fs');
  const require = createRequire(import.meta.url);
  let dir = require.resolve(name);
  for (;;) {
    const parent = dir.slice(0, dir.lastIndexOf('/'));
    if (parent === dir || parent === '') return 'unknown';
    dir = parent;
    try {
      const pkg = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === name) return pkg.version ?? 'unknown';
    } catch {
      // not the package root yet
    }
  }
}
