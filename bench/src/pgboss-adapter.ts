import PgBoss from 'pg-boss';
import type { BenchAdapter, BenchJob, WorkerSpec } from './adapter.js';

const QUEUE = 'bench';
/**
 * pg-boss 10's worker waits out its polling interval after every fetch, full or not, so a
 * queue drains at most `batchSize` jobs per worker per 0.5 s: at 100 (the bench's setting
 * before the settings sweep) 2,000 jobs/s for 10 workers, whatever the database could do.
 * BENCH_PGBOSS_BATCH overrides it, for a sweep.
 */
const BATCH = Number(process.env.BENCH_PGBOSS_BATCH ?? 1000);
const CHUNK = 1000;

/**
 * pg-boss 10: `work()` registered `concurrency` times (its way of running jobs in
 * parallel), each fetching `batchSize` jobs per poll and completing them together.
 */
export class PgBossAdapter implements BenchAdapter {
  readonly name = 'pg-boss';
  readonly version = '10.4.2';
  // No `unfinishedSql`: pg-boss keeps completed jobs in its job table and indexes no job
  // from `active` on, so the check would scan the whole table every few ms.
  #boss: PgBoss | undefined;

  settings(spec: WorkerSpec): Record<string, unknown> {
    return {
      workers: spec.concurrency,
      batchSize: BATCH,
      pollingIntervalSeconds: 0.5,
      supervise: false,
      pool: 'max 10',
    };
  }

  async prepare(url: string): Promise<void> {
    const boss = new PgBoss({ connectionString: url, max: 2, supervise: false, schedule: false });
    boss.on('error', () => {});
    await boss.start();
    await boss.createQueue(QUEUE);
    await boss.stop({ graceful: false, wait: true });
  }

  async open(url: string): Promise<void> {
    this.#boss = new PgBoss({
      connectionString: url,
      max: 10,
      supervise: false,
      schedule: false,
      migrate: false,
    });
    this.#boss.on('error', (error) => process.stderr.write(`pg-boss: ${String(error)}\n`));
    await this.#boss.start();
  }

  async enqueueMany(jobs: readonly BenchJob[]): Promise<void> {
    const boss = this.#need();
    for (let i = 0; i < jobs.length; i += CHUNK) {
      await boss.insert(jobs.slice(i, i + CHUNK).map((data) => ({ name: QUEUE, data })));
    }
  }

  async enqueueOne(job: BenchJob): Promise<void> {
    await this.#need().send(QUEUE, job);
  }

  async startWorker(spec: WorkerSpec, onJob: (job: BenchJob) => void): Promise<void> {
    const boss = this.#need();
    for (let w = 0; w < spec.concurrency; w++) {
      await boss.work<BenchJob>(
        QUEUE,
        { batchSize: BATCH, pollingIntervalSeconds: 0.5 },
        async (jobs) => {
          for (const job of jobs) onJob(job.data);
        },
      );
    }
  }

  async close(): Promise<void> {
    await this.#boss?.stop({ graceful: true, wait: true, timeout: 5000 });
  }

  #need(): PgBoss {
    if (this.#boss === undefined) throw new Error('adapter not opened');
    return this.#boss;
  }
}
