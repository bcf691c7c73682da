import { assertJsonPayload } from '../assert-json-payload.js';
import { LeaseLostError, NotFoundError, ValidationError } from '../errors.js';
import type { Job, JobError, LeaseRef } from '../job.js';
import { assertLeaseRef, assertLeaseRefs, normalizeRunnerEvents } from '../job-store-checks.js';
import type { ErrorInfo } from '../result.js';
import type {
  CompleteManyParams,
  CompleteManyResult,
  FailParams,
  HeartbeatManyResult,
} from '../stores/job-store.js';
import {
  assertDurationMs,
  assertErrorInfo,
  assertRunAtOrDelay,
  assertText,
  assertTimestamp,
} from '../validation.js';
import { copy, type MemoryStoreContext } from './memory-state.js';

/** Longest progress message or cancel reason, as the Postgres column allows. */
const MAX_MESSAGE_LENGTH = 2000;

/**
 * What happens to a stored job after it is created, kept apart from `MemoryJobStore` so
 * each file stays small: heartbeats and progress, completion, failure, release and stall
 * reset, each fenced by the job's lease, and cancellation. Same rules as the Postgres
 * statements. Every method is synchronous, so calls never interleave.
 */
export class MemoryJobTransitions {
  readonly #ctx: MemoryStoreContext;

  /** @param ctx the state shared with the other memory stores. */
  constructor(ctx: MemoryStoreContext) {
    this.#ctx = ctx;
  }

  /** See `JobStore.heartbeat`. */
  heartbeat(params: LeaseRef & { now?: number }): { cancelRequested: boolean } {
    const now = this.#now(params.now);
    const job = this.#fenced(params);
    job.heartbeatAt = now;
    job.updatedAt = now;
    return { cancelRequested: job.cancelRequested };
  }

  /** See `JobStore.heartbeatMany`. */
  heartbeatMany(params: { leases: readonly LeaseRef[]; now?: number }): HeartbeatManyResult {
    const leases = assertLeaseRefs(params.leases);
    const now = this.#now(params.now);
    const result: HeartbeatManyResult = { lost: [], cancelRequested: [] };
    for (const lease of leases) {
      const job = this.#held(lease);
      if (job === undefined) {
        result.lost.push(lease.jobId);
        continue;
      }
      job.heartbeatAt = now;
      job.updatedAt = now;
      if (job.cancelRequested) result.cancelRequested.push(job.id);
    }
    return result;
  }

  /** See `JobStore.progress`. */
  progress(params: LeaseRef & { percent: number; message?: string; now?: number }): Job {
    const now = this.#now(params.now);
    const { percent } = params;
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) {
      throw new ValidationError('percent', 'must be a number between 0 and 100');
    }
    const message =
      params.message === undefined || params.message === null
        ? null
        : assertMessage(params.message, 'message');
    const job = this.#fenced(params);
    job.progress = { percent, message, at: now };
    job.heartbeatAt = now;
    job.updatedAt = now;
    return copy(job);
  }

  /** See `JobStore.complete`. */
  complete(params: LeaseRef & { result: unknown; now?: number }): Job {
    const now = this.#now(params.now);
    const json = assertJsonPayload(params.result, 'result', {
      maxBytes: this.#ctx.maxPayloadBytes,
    });
    const job = this.#fenced(params);
    job.result = JSON.parse(json);
    finish(job, 'completed', now);
    return copy(job);
  }

  /** See `JobStore.completeMany`. */
  completeMany(params: CompleteManyParams): CompleteManyResult {
    // Checked like the Postgres store's, then dropped: this store keeps no event history.
    normalizeRunnerEvents(params?.events ?? [], this.#ctx.maxPayloadBytes);
    if (!Array.isArray(params.items)) throw new ValidationError('items', 'must be an array');
    const now = this.#now(params.now);
    // Checked as the Postgres store checks them, item by item, before anything is written.
    const results = params.items.map((item, i) => {
      if (typeof item?.jobId !== 'string')
        throw new ValidationError(`items[${i}].jobId`, 'must be a string');
      if (typeof item.leaseId !== 'string')
        throw new ValidationError(`items[${i}].leaseId`, 'must be a string');
      return assertJsonPayload(item.result, `items[${i}].result`, {
        maxBytes: this.#ctx.maxPayloadBytes,
      });
    });
    const out: CompleteManyResult = { completed: [], lost: [], finishedAt: now };
    const jobs: Job[] = [];
    params.items.forEach((item, i) => {
      let job: Job;
      try {
        job = this.#fenced(item);
      } catch (error) {
        if (!(error instanceof LeaseLostError)) throw error;
        out.lost.push(item.jobId);
        return;
      }
      job.result = JSON.parse(results[i] ?? 'null');
      finish(job, 'completed', now);
      out.completed.push(job.id);
      if (params.returnJobs === true) jobs.push(copy(job));
    });
    return params.returnJobs === true ? { ...out, jobs } : out;
  }

  /** See `JobStore.fail`. */
  fail(params: FailParams): Job {
    const now = this.#now(params.now);
    const error = this.#errorInfo(params.error, 'error');
    const retry = assertRunAtOrDelay(
      params.retryAt,
      'retryAt',
      params.retryDelayMs,
      'retryDelayMs',
    );
    const retryAt = retry.delayMs === null ? retry.at : now + retry.delayMs;
    const job = this.#fenced(params);
    if (job.cancelRequested) return copy(endCancelRequested(job, now, error));
    job.error = { ...error, attempt: job.attempts, at: now };
    if (retryAt !== null && job.attempts < job.maxAttempts) {
      toPending(job, retryAt, now);
    } else {
      finish(job, 'failed', now);
    }
    return copy(job);
  }

  /** See `JobStore.release`. */
  release(params: LeaseRef & { runAt?: number; delayMs?: number; now?: number }): Job {
    const now = this.#now(params.now);
    const when = assertRunAtOrDelay(params.runAt, 'runAt', params.delayMs, 'delayMs');
    const runAt = when.at ?? now + (when.delayMs ?? 0);
    const job = this.#fenced(params);
    if (job.cancelRequested) return copy(endCancelRequested(job, now));
    job.attempts = Math.max(0, job.attempts - 1);
    toPending(job, runAt, now);
    return copy(job);
  }

  /** See `JobStore.cancel`. */
  cancel(params: { jobId: string; reason?: string; now?: number }): Job {
    const now = this.#now(params.now);
    const reason = params.reason === undefined ? undefined : assertMessage(params.reason, 'reason');
    const job = this.#ctx.state.jobs.get(params.jobId);
    if (job === undefined) throw new NotFoundError('job', String(params.jobId));
    if (job.status === 'pending') {
      job.error = cancelledError(job, reason, now);
      finish(job, 'cancelled', now);
    } else if (job.status === 'running' && !job.cancelRequested) {
      job.cancelRequested = true;
      job.updatedAt = now;
    }
    return copy(job);
  }

  /** See `JobStore.confirmCancel`. */
  confirmCancel(params: LeaseRef & { reason?: string; now?: number }): Job {
    const now = this.#now(params.now);
    const reason = params.reason === undefined ? undefined : assertMessage(params.reason, 'reason');
    const job = this.#fenced(params);
    job.error = cancelledError(job, reason, now);
    finish(job, 'cancelled', now);
    return copy(job);
  }

  /** See `JobStore.resetStalled`. */
  resetStalled(
    params: LeaseRef & { error?: ErrorInfo; stalledThresholdMs?: number; now?: number },
  ): Job {
    const now = this.#now(params.now);
    const error =
      params.error === undefined
        ? { code: 'JOB_STALLED', message: 'the job stopped heartbeating and was reaped' }
        : this.#errorInfo(params.error, 'error');
    const threshold =
      params.stalledThresholdMs === undefined
        ? null
        : assertDurationMs(params.stalledThresholdMs, 'stalledThresholdMs');
    const job = this.#fenced(params);
    // A heartbeat since findStalled means the runner is alive: it keeps its job.
    if (threshold !== null && !(job.heartbeatAt !== null && job.heartbeatAt < now - threshold)) {
      throw new LeaseLostError(job.id, params.leaseId);
    }
    if (job.cancelRequested) {
      job.error = cancelledError(job, undefined, now);
      finish(job, 'cancelled', now);
      return copy(job);
    }
    job.error = { ...error, attempt: job.attempts, at: now };
    if (job.attempts < job.maxAttempts) toPending(job, now, now);
    else finish(job, 'failed', now);
    return copy(job);
  }

  #now(now: number | undefined): number {
    return now === undefined ? this.#ctx.clock.now() : assertTimestamp(now, 'now');
  }

  /** The stored job if it is running under `lease`, else `undefined`. */
  #held(lease: LeaseRef): Job | undefined {
    const job = this.#ctx.state.jobs.get(lease.jobId);
    if (job === undefined || job.status !== 'running' || job.leaseId !== lease.leaseId) {
      return undefined;
    }
    return job;
  }

  /** The stored job running under `lease`; throws `LeaseLostError` otherwise. */
  #fenced(lease: LeaseRef): Job {
    assertLeaseRef(lease);
    const job = this.#held(lease);
    if (job === undefined) throw new LeaseLostError(String(lease.jobId), String(lease.leaseId));
    return job;
  }

  #errorInfo(value: unknown, field: string): ErrorInfo {
    const json = assertErrorInfo(value, field, { maxBytes: this.#ctx.maxPayloadBytes });
    return JSON.parse(json) as ErrorInfo;
  }
}

/**
 * Ends a job whose cancellation was requested as `cancelled` instead of putting it back
 * to `pending` (a retry or release must not lose the request); `cause` is the attempt's
 * failure, when it failed.
 */
function endCancelRequested(job: Job, now: number, cause?: ErrorInfo): Job {
  job.error = cancelledError(job, undefined, now);
  if (cause !== undefined) job.error.cause = cause;
  job.cancelRequested = false;
  finish(job, 'cancelled', now);
  return job;
}

/** Back to `pending` to run again at `runAt`; the lease is dropped, the attempts kept. */
function toPending(job: Job, runAt: number, now: number): void {
  job.status = 'pending';
  job.runAt = runAt;
  job.leaseId = null;
  job.updatedAt = now;
}

/** Ends a job in `status` at `now`, dropping its lease. */
function finish(job: Job, status: 'completed' | 'failed' | 'cancelled', now: number): void {
  job.status = status;
  job.leaseId = null;
  job.finishedAt = now;
  job.updatedAt = now;
}

function assertMessage(value: unknown, field: string): string {
  if (value === '') return value;
  return assertText(value, field, { maxLength: MAX_MESSAGE_LENGTH });
}

function cancelledError(job: Job, reason: string | undefined, now: number): JobError {
  return { code: 'CANCELLED', message: reason ?? 'job cancelled', attempt: job.attempts, at: now };
}
