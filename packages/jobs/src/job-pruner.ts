import type { JobStatus } from '@flowmonkey/core';
import type { JobPrunerOptions, ResolvedPrunerOptions } from './pruner-options.js';
import { resolvePrunerOptions } from './pruner-options.js';
import { Service } from './service.js';

/** What one run of {@link JobPruner.runOnce} deleted. */
export interface PruneCounts {
  completed: number;
  failed: number;
  cancelled: number;
  /** Job events deleted with those jobs. */
  events: number;
}

/**
 * Retention: every `intervalMs` deletes finished jobs (and their `job_events`) older than
 * the configured age of their status (`completedMaxAgeMs`, `failedMaxAgeMs`,
 * `cancelledMaxAgeMs`; ages count from `finishedAt`, in the store's time), in statements
 * of at most `batchSize` jobs, paging on until a short page. A job whose execution is not
 * terminal yet is never deleted (the store's `pruneFinished` guarantees it), so executions
 * keep what they need. Any number of pruners may run at once.
 */
export class JobPruner {
  readonly #options: ResolvedPrunerOptions;
  readonly #service: Service;

  constructor(options: JobPrunerOptions) {
    this.#options = resolvePrunerOptions(options);
    this.#service = new Service({
      name: 'job-pruner',
      intervalMs: this.#options.intervalMs,
      run: () => this.runOnce(),
      logger: this.#options.logger,
    });
  }

  /** Starts pruning: a first run after a random delay up to `intervalMs`, then every interval. */
  start(): void {
    this.#service.start();
  }

  /** Stops pruning and waits for a run in flight. Idempotent; fine before `start()`. */
  stop(): Promise<void> {
    return this.#service.stop();
  }

  /** Runs one pass now over every status with an age, and returns what it deleted. */
  async runOnce(): Promise<PruneCounts> {
    const o = this.#options;
    const counts: PruneCounts = { completed: 0, failed: 0, cancelled: 0, events: 0 };
    const ages: [JobStatus & keyof PruneCounts, number | null][] = [
      ['completed', o.completedMaxAgeMs],
      ['failed', o.failedMaxAgeMs],
      ['cancelled', o.cancelledMaxAgeMs],
    ];
    for (const [status, olderThanMs] of ages) {
      if (olderThanMs === null) continue;
      for (;;) {
        const page = await o.jobStore.pruneFinished({
          statuses: [status],
          olderThanMs,
          limit: o.batchSize,
        });
        counts[status] += page.jobs;
        counts.events += page.events;
        if (page.jobs < o.batchSize) break;
      }
    }
    if (counts.completed + counts.failed + counts.cancelled > 0) {
      o.logger.info({ ...counts }, 'pruned finished jobs');
    }
    return counts;
  }
}
