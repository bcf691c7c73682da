import {
  Logger as GraphileLogger,
  type Logger,
  makeWorkerUtils,
  type Runner,
  run,
  runMigrations,
  type WorkerUtils,
} from 'graphile-worker';
import type { BenchAdapter, BenchJob, WorkerSpec } from './adapter.js';

const TASK = 'noop';
/**
 * The local queue: graphile-worker's best drain setting here (the settings sweep in
 * bench/HISTORY.md, "Peers at their best settings"; issue 6 measured about 34,500 jobs/s
 * at 500 and 45,000 at 5,000). BENCH_GRAPHILE_LOCAL_QUEUE overrides it, for a sweep.
 */
const LOCAL_QUEUE = Number(process.env.BENCH_GRAPHILE_LOCAL_QUEUE ?? 5000);
const silent: Logger = new GraphileLogger(() => () => {});

/** graphile-worker with its documented batching: a local queue and batched completion. */
export class GraphileAdapter implements BenchAdapter {
  readonly name = 'graphile-worker';
  readonly version = '0.17.3';
  // graphile-worker deletes a job once completed.
  readonly unfinishedSql = 'SELECT EXISTS (SELECT 1 FROM graphile_worker._private_jobs)';
  #url = '';
  #utils: WorkerUtils | undefined;
  #runner: Runner | undefined;

  settings(spec: WorkerSpec): Record<string, unknown> {
    return {
      concurrency: spec.concurrency,
      'localQueue.size': LOCAL_QUEUE,
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
      pollInterval: 1000,
      pool: 'maxPoolSize 10',
    };
  }

  async prepare(url: string): Promise<void> {
    await runMigrations({ connectionString: url, logger: silent });
  }

  async open(url: string): Promise<void> {
    this.#url = url;
    this.#utils = await makeWorkerUtils({ connectionString: url, logger: silent, maxPoolSize: 10 });
  }

  async enqueueMany(jobs: readonly BenchJob[]): Promise<void> {
    await this.#need().addJobs(jobs.map((payload) => ({ identifier: TASK, payload })));
  }

  async enqueueOne(job: BenchJob): Promise<void> {
    await this.#need().addJob(TASK, job);
  }

  async startWorker(spec: WorkerSpec, onJob: (job: BenchJob) => void): Promise<void> {
    this.#runner = await run({
      connectionString: this.#url,
      concurrency: spec.concurrency,
      noHandleSignals: true,
      pollInterval: 1000,
      logger: silent,
      maxPoolSize: 10,
      taskList: {
        [TASK]: async (payload) => {
          onJob(payload as BenchJob);
        },
      },
      preset: {
        worker: {
          localQueue: { size: LOCAL_QUEUE },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        },
      },
    });
  }

  async close(): Promise<void> {
    await this.#runner?.stop();
    await this.#utils?.release();
  }

  #need(): WorkerUtils {
    if (this.#utils === undefined) throw new Error('adapter not opened');
    return this.#utils;
  }
}
