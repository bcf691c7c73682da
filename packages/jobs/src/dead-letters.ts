import type { Job, JobStore, ListDeadLettersParams, Logger } from '@flowmonkey/core';
import { noopLogger } from '@flowmonkey/core';

/** Filter of {@link DeadLetters.redriveMany}. */
export interface RedriveFilter {
  /** Most jobs to redrive (1..100 000). */
  limit: number;
  /** Only jobs of this handler type. */
  handler?: string;
  /** Only jobs in this queue. */
  queue?: string;
  /** Only jobs that failed before this time (epoch ms or Date). */
  failedBefore?: number | Date;
}

/**
 * The dead-letter queue: jobs that exhausted their attempts or failed with a non-retryable
 * error (status `failed`). `list` shows them with their last error and attempts, newest
 * failure first; `redrive` / `redriveMany` put them back to `pending` with fresh attempts
 * (`attempts = 0`, due now; the last error stays on the row and, on Postgres, a `redriven`
 * event records the attempts spent and the error). A redrive never touches a parent
 * execution: it took its failure path when the job failed, and the redriven job's later
 * outcome finds it no longer waiting, so that resume is a no-op.
 */
export class DeadLetters {
  readonly #jobStore: JobStore;
  readonly #logger: Logger;

  /** @param options `jobStore`, and a `logger` (default silent) that records redrives. */
  constructor(options: { jobStore: JobStore; logger?: Logger }) {
    this.#jobStore = options.jobStore;
    this.#logger = options.logger ?? noopLogger;
  }

  /** Dead letters, newest failure first, optionally of one handler or queue. */
  list(params: ListDeadLettersParams): Promise<Job[]> {
    return this.#jobStore.listDeadLetters(params);
  }

  /**
   * Redrives one dead letter and returns it (now `pending`). Throws `NotFoundError` for an
   * unknown id and `InvalidStateError` when the job is not `failed`.
   */
  async redrive(params: { jobId: string }): Promise<Job> {
    const job = await this.#jobStore.redrive({ jobId: params.jobId });
    this.#logger.info({ jobId: job.id, handler: job.handler }, 'dead letter redriven');
    return job;
  }

  /** Redrives up to `limit` dead letters matching the filter, oldest first; returns how many. */
  async redriveMany(filter: RedriveFilter): Promise<number> {
    const count = await this.#jobStore.redriveMany(filter);
    if (count > 0) this.#logger.info({ ...filter, count }, 'dead letters redriven');
    return count;
  }
}
