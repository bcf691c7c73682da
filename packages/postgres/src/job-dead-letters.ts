import {
  assertInteger,
  assertOptionalText,
  assertTimestamp,
  InvalidStateError,
  isUuid,
  type Job,
  type ListDeadLettersParams,
  NotFoundError,
  type RedriveManyParams,
} from '@flowmonkey/core';
import { runStatement } from './queryable.js';
import { rowToJob } from './rows.js';
import { limitValue, nowValue } from './statement-values.js';
import type { StoreContext } from './store-context.js';

/**
 * Lists and redrives dead letters (`failed` jobs) for `PgJobStore`: `listDeadLetters`,
 * `redrive` and `redriveMany`. A redrive wakes the runners (`ctx.wake.jobsDue()`) when it
 * made a job pending.
 */
export class JobDeadLetters {
  readonly #ctx: StoreContext;
  /** Reads a job (the store's `get`), to explain a redrive that found no dead letter. */
  readonly #get: (jobId: string) => Promise<Job | undefined>;

  constructor(ctx: StoreContext, get: (jobId: string) => Promise<Job | undefined>) {
    this.#ctx = ctx;
    this.#get = get;
  }

  /** `PgJobStore.listDeadLetters`: newest failure first. */
  async list(params: ListDeadLettersParams): Promise<Job[]> {
    const rows = await runStatement(this.#ctx.db, this.#ctx.statements.jobs.listDeadLetters, [
      limitValue(params.limit),
      limitValue(params.offset ?? 0, 'offset'),
      assertOptionalText(params.handler, 'handler', { maxLength: 255 }),
      assertOptionalText(params.queue, 'queue', { maxLength: 128 }),
    ]);
    return rows.map(rowToJob);
  }

  /**
   * `PgJobStore.redrive`: a job that is not a dead letter fails with `NotFoundError` (no such
   * job) or `InvalidStateError` (naming its status).
   */
  async redrive(params: { jobId: string; now?: number }): Promise<Job> {
    const jobId = params.jobId;
    if (typeof jobId !== 'string' || !isUuid(jobId)) throw new NotFoundError('job', String(jobId));
    const [row] = await runStatement(this.#ctx.db, this.#ctx.statements.jobs.redrive, [
      jobId,
      nowValue(params.now),
    ]);
    if (row !== undefined) {
      this.#ctx.wake.jobsDue();
      return rowToJob(row);
    }
    const existing = await this.#get(jobId);
    if (existing === undefined) throw new NotFoundError('job', jobId);
    throw new InvalidStateError(
      `job "${jobId}" is ${existing.status}; only a failed job (a dead letter) can be redriven`,
      { details: { jobId, status: existing.status } },
    );
  }

  /** `PgJobStore.redriveMany`: returns how many jobs were redriven. */
  async redriveMany(params: RedriveManyParams): Promise<number> {
    const limit = assertInteger(params.limit, 'limit', { min: 1, max: 100_000 });
    const before =
      params.failedBefore === undefined
        ? null
        : new Date(assertTimestamp(params.failedBefore, 'failedBefore'));
    const [row] = await runStatement(this.#ctx.db, this.#ctx.statements.jobs.redriveMany, [
      limit,
      assertOptionalText(params.handler, 'handler', { maxLength: 255 }),
      assertOptionalText(params.queue, 'queue', { maxLength: 128 }),
      before,
      nowValue(params.now),
    ]);
    const redriven = Number(row?.redriven ?? 0);
    if (redriven > 0) this.#ctx.wake.jobsDue();
    return redriven;
  }
}
