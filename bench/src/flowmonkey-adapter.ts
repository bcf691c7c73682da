import { noopLogger } from '@flowmonkey/core';
import { BasicJobRunner } from '@flowmonkey/jobs';
import { createPgStores, JobListener, migrate, type PgStores } from '@flowmonkey/postgres';
import pg from 'pg';
import type { BenchAdapter, BenchJob, WorkerSpec } from './adapter.js';
import { BATCH, PREFETCH } from './flowmonkey-settings.js';

const HANDLER = 'noop';

/** FlowMonkey plain jobs: `PgJobStore.create`/`createMany` and a `BasicJobRunner`. */
export class FlowMonkeyAdapter implements BenchAdapter {
  readonly name = 'flowmonkey';
  readonly version = 'workspace';
  // Finished jobs stay, as `completed`; each unfinished status has a partial index.
  readonly unfinishedSql =
    "SELECT EXISTS (SELECT 1 FROM flowmonkey.jobs WHERE status = 'pending') OR EXISTS (SELECT 1 FROM flowmonkey.jobs WHERE status = 'running')";
  #pool: pg.Pool | undefined;
  #stores: PgStores | undefined;
  #listener: JobListener | undefined;
  #runner: BasicJobRunner | undefined;

  settings(spec: WorkerSpec): Record<string, unknown> {
    return {
      maxConcurrent: spec.concurrency,
      batchSize: BATCH,
      prefetch: PREFETCH,
      listen: true,
      pool: 10,
    };
  }

  async prepare(url: string): Promise<void> {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    try {
      await migrate({ pool });
    } finally {
      await pool.end();
    }
  }

  async open(url: string): Promise<void> {
    this.#pool = new pg.Pool({ connectionString: url, max: 10 });
    // `pool.end()` resolves before its connections' goodbyes reach the server; a database
    // dropped right after (studies/cpu-per-job.ts) terminates them, and that error would
    // otherwise end the process.
    this.#pool.on('error', () => {});
    this.#stores = createPgStores({ pool: this.#pool });
  }

  async enqueueMany(jobs: readonly BenchJob[]): Promise<void> {
    const stores = this.#need();
    await stores.jobs.createMany(jobs.map((input) => ({ handler: HANDLER, input })));
  }

  async enqueueOne(job: BenchJob): Promise<void> {
    await this.#need().jobs.create({ handler: HANDLER, input: job });
  }

  async startWorker(spec: WorkerSpec, onJob: (job: BenchJob) => void): Promise<void> {
    const stores = this.#need();
    this.#listener = new JobListener({ pool: stores.pool });
    this.#runner = new BasicJobRunner({
      jobStore: stores.jobs,
      wakeups: this.#listener,
      maxConcurrent: spec.concurrency,
      batchSize: BATCH,
      prefetch: PREFETCH,
      logger: noopLogger,
    });
    this.#runner.registerHandler(HANDLER, async (input: BenchJob) => {
      onJob(input);
      return null;
    });
    await this.#listener.start();
    await this.#runner.start();
  }

  async close(): Promise<void> {
    await this.#runner?.stop({ graceful: true, timeoutMs: 2000 });
    await this.#listener?.stop();
    await this.#stores?.notifier.flush();
    await this.#pool?.end();
  }

  #need(): PgStores {
    if (this.#stores === undefined) throw new Error('adapter not opened');
    return this.#stores;
  }
}
