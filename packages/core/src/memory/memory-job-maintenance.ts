import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { TERMINAL_EXECUTION_STATUSES } from '../execution.js';
import { type Job, type JobStatus, TERMINAL_JOB_STATUSES } from '../job.js';
import type {
  ListDeadLettersParams,
  PruneFinishedParams,
  PruneFinishedResult,
  RedriveManyParams,
} from '../stores/job-store.js';
import { assertInteger, assertText, assertTimestamp, MAX_TEXT_LENGTH } from '../validation.js';
import { copy, type MemoryStoreContext } from './memory-state.js';

const MAX_LIMIT = 100_000;

/**
 * Dead-letter and retention operations of the in-memory job store, kept apart from
 * `MemoryJobStore` so each file stays small. Same rules as the Postgres statements.
 */
export class MemoryJobMaintenance {
  readonly #ctx: MemoryStoreContext;

  /** @param ctx the state shared with the other memory stores. */
  constructor(ctx: MemoryStoreContext) {
    this.#ctx = ctx;
  }

  /** See `JobStore.listDeadLetters`. */
  listDeadLetters(params: ListDeadLettersParams): Job[] {
    const limit = assertInteger(params.limit, 'limit', { min: 0, max: MAX_LIMIT });
    const offset = assertInteger(params.offset ?? 0, 'offset', {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const matches = this.#deadLetters(params);
    matches.sort((a, b) => (b.finishedAt ?? 0) - (a.finishedAt ?? 0) || compareIds(b, a));
    return matches.slice(offset, offset + limit).map(copy);
  }

  /** See `JobStore.redrive`. */
  redrive(params: { jobId: string; now?: number }): Job {
    const now = this.#now(params.now);
    const job = this.#ctx.state.jobs.get(params.jobId);
    if (job === undefined) throw new NotFoundError('job', String(params.jobId));
    if (job.status !== 'failed') {
      throw new InvalidStateError(
        `job "${job.id}" is ${job.status}; only a failed job (a dead letter) can be redriven`,
        { details: { jobId: job.id, status: job.status } },
      );
    }
    redriveJob(job, now);
    return copy(job);
  }

  /** See `JobStore.redriveMany`. */
  redriveMany(params: RedriveManyParams): number {
    const limit = assertInteger(params.limit, 'limit', { min: 1, max: MAX_LIMIT });
    const now = this.#now(params.now);
    const before =
      params.failedBefore === undefined
        ? null
        : assertTimestamp(params.failedBefore, 'failedBefore');
    const matches = this.#deadLetters(params).filter(
      (job) => before === null || (job.finishedAt ?? 0) < before,
    );
    matches.sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0) || compareIds(a, b));
    const picked = matches.slice(0, limit);
    for (const job of picked) redriveJob(job, now);
    return picked.length;
  }

  /** See `JobStore.pruneFinished`. */
  pruneFinished(params: PruneFinishedParams): PruneFinishedResult {
    const statuses = checkStatuses(params.statuses);
    const olderThanMs = assertInteger(params.olderThanMs, 'olderThanMs', {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const limit = assertInteger(params.limit, 'limit', { min: 1, max: MAX_LIMIT });
    const cutoff = this.#now(params.now) - olderThanMs;
    const { jobs, jobKeys } = this.#ctx.state;
    const old = [...jobs.values()].filter(
      (job) =>
        statuses.includes(job.status) &&
        job.finishedAt !== null &&
        job.finishedAt < cutoff &&
        !this.#executionStillNeeds(job),
    );
    old.sort((a, b) => (a.finishedAt ?? 0) - (b.finishedAt ?? 0) || compareIds(a, b));
    const doomed = old.slice(0, limit);
    for (const job of doomed) {
      jobs.delete(job.id);
      if (job.idempotencyKey !== null) jobKeys.delete(job.idempotencyKey);
    }
    return { jobs: doomed.length, events: 0 };
  }

  #deadLetters(filter: { handler?: string; queue?: string }): Job[] {
    const handler = optionalText(filter.handler, 'handler');
    const queue = optionalText(filter.queue, 'queue');
    return [...this.#ctx.state.jobs.values()].filter(
      (job) =>
        job.status === 'failed' &&
        (handler === null || job.handler === handler) &&
        (queue === null || job.queue === queue),
    );
  }

  /** True when the job belongs to an execution that exists and is not terminal yet. */
  #executionStillNeeds(job: Job): boolean {
    if (job.executionId === null) return false;
    const execution = this.#ctx.state.executions.get(job.executionId);
    return execution !== undefined && !TERMINAL_EXECUTION_STATUSES.includes(execution.status);
  }

  #now(now: number | undefined): number {
    return now === undefined ? this.#ctx.clock.now() : assertTimestamp(now, 'now');
  }
}

/** Back to `pending` with fresh attempts; the last error stays for the record. */
function redriveJob(job: Job, now: number): void {
  job.status = 'pending';
  job.attempts = 0;
  job.runAt = now;
  job.leaseId = null;
  job.runnerId = null;
  job.cancelRequested = false;
  job.finishedAt = null;
  job.updatedAt = now;
}

function checkStatuses(statuses: unknown): readonly JobStatus[] {
  if (!Array.isArray(statuses) || statuses.length === 0) {
    throw new ValidationError('statuses', 'must be a non-empty array of terminal statuses');
  }
  statuses.forEach((status, i) => {
    if (!TERMINAL_JOB_STATUSES.includes(status)) {
      throw new ValidationError(
        `statuses[${i}]`,
        `must be one of ${TERMINAL_JOB_STATUSES.join(', ')}`,
      );
    }
  });
  return statuses as JobStatus[];
}

function optionalText(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  return assertText(value, field, { maxLength: MAX_TEXT_LENGTH });
}

function compareIds(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
