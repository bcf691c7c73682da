import { randomUUID } from 'node:crypto';
import { assertJsonPayload } from '../assert-json-payload.js';
import { LeaseLostError, NotFoundError, ValidationError } from '../errors.js';
import type { Job, JobError, JobStatus, LeaseRef, NewJob } from '../job.js';
import {
  assertLeaseRef,
  assertLeaseRefs,
  assertNoDuplicateJobIds,
  normalizeClaimBatch,
  normalizeRunnerEvents,
} from '../job-store-checks.js';
import { newJobAsStored } from '../new-job-as-stored.js';
import type { ErrorInfo } from '../result.js';
import type {
  ClaimBatchParams,
  CompleteManyResult,
  HeartbeatManyResult,
  JobStore,
  ListDeadLettersParams,
  PruneFinishedParams,
  PruneFinishedResult,
  RedriveManyParams,
  RunnerJobEvent,
} from '../stores/job-store.js';
import {
  assertDurationMs,
  assertErrorInfo,
  assertInteger,
  assertRunAtOrDelay,
  assertText,
  assertTimestamp,
  MAX_TEXT_LENGTH,
  type NormalizedNewJob,
  normalizeNewJob,
  normalizeNewJobs,
} from '../validation.js';
import { MemoryJobMaintenance } from './memory-job-maintenance.js';
import { copy, type MemoryStoreContext } from './memory-state.js';

const JOB_STATUSES: readonly JobStatus[] = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
];
const MAX_LIMIT = 100_000;
/** Longest progress message or cancel reason, as the Postgres column allows. */
const MAX_MESSAGE_LENGTH = 2000;

/**
 * In-memory {@link JobStore} for unit tests and quick scripts. It keeps every documented
 * behaviour of the Postgres store (fencing, claim order, idempotency, validation) but no
 * durability. Every method body runs without awaiting, so calls never interleave and
 * concurrent claimers can never receive the same job. Values are deep-copied in and out.
 */
export class MemoryJobStore implements JobStore {
  readonly #ctx: MemoryStoreContext;
  readonly #maintenance: MemoryJobMaintenance;

  /** @param ctx state, clock and limits shared with the other memory stores. */
  constructor(ctx: MemoryStoreContext) {
    this.#ctx = ctx;
    this.#maintenance = new MemoryJobMaintenance(ctx);
  }

  async create(job: NewJob): Promise<Job> {
    return this.createSync(job);
  }

  /**
   * Synchronous {@link create}, for the other memory stores (a schedule fire must create its
   * job without yielding). Not part of the `JobStore` interface.
   */
  createSync(job: NewJob): Job {
    const now = this.#ctx.clock.now();
    const normalized = normalizeNewJob(job, { now, maxPayloadBytes: this.#ctx.maxPayloadBytes });
    return copy(this.#insert(normalized, now));
  }

  async createMany(jobs: readonly NewJob[]): Promise<Job[]> {
    const now = this.#ctx.clock.now();
    const normalized = normalizeNewJobs(jobs, { now, maxPayloadBytes: this.#ctx.maxPayloadBytes });
    assertNoDuplicateJobIds(normalized);
    normalized.forEach((job, index) => {
      if (this.#ctx.state.jobs.has(job.id) && !this.#existingByKey(job)) {
        throw new ValidationError(`jobs[${index}].id`, 'a job with this id already exists');
      }
    });
    return normalized.map((job) => copy(this.#insert(job, now)));
  }

  async get(jobId: string): Promise<Job | undefined> {
    const job = this.#ctx.state.jobs.get(jobId);
    return job === undefined ? undefined : copy(job);
  }

  async claimBatch(params: ClaimBatchParams): Promise<Job[]> {
    const checked = normalizeClaimBatch(params);
    const { runnerId, limit } = checked;
    const now = this.#now(params.now);
    const handlers = checked.handlers === null ? null : new Set(checked.handlers);
    const queues = checked.queues === null ? null : new Set(checked.queues);
    const due: Job[] = [];
    for (const job of this.#ctx.state.jobs.values()) {
      // A pending job never carries a cancel request (fail/release cancel it instead);
      // skipping one anyway keeps a stray flag from handing out a job meant to stop.
      if (job.status !== 'pending' || job.runAt > now || job.cancelRequested) continue;
      if (handlers !== null && !handlers.has(job.handler)) continue;
      if (queues !== null && !queues.has(job.queue)) continue;
      due.push(job);
    }
    due.sort(compareClaimOrder);
    return due.slice(0, limit).map((job) => {
      job.status = 'running';
      job.attempts += 1;
      job.leaseId = randomUUID();
      job.runnerId = runnerId;
      job.heartbeatAt = now;
      job.startedAt = now;
      job.updatedAt = now;
      return copy(job);
    });
  }

  async claimById(params: {
    jobId: string;
    runnerId: string;
    now?: number;
  }): Promise<Job | undefined> {
    const runnerId = assertText(params.runnerId, 'runnerId', { maxLength: MAX_TEXT_LENGTH });
    const now = this.#now(params.now);
    const job = this.#ctx.state.jobs.get(params.jobId);
    if (job === undefined || job.status !== 'pending') return undefined;
    job.runAt = now;
    return copy(claimJob(job, runnerId, now));
  }

  async listDeadLetters(params: ListDeadLettersParams): Promise<Job[]> {
    return this.#maintenance.listDeadLetters(params);
  }

  async redrive(params: { jobId: string; now?: number }): Promise<Job> {
    return this.#maintenance.redrive(params);
  }

  async redriveMany(params: RedriveManyParams): Promise<number> {
    return this.#maintenance.redriveMany(params);
  }

  async pruneFinished(params: PruneFinishedParams): Promise<PruneFinishedResult> {
    return this.#maintenance.pruneFinished(params);
  }

  async heartbeat(params: LeaseRef & { now?: number }): Promise<{ cancelRequested: boolean }> {
    const now = this.#now(params.now);
    const job = this.#fenced(params);
    job.heartbeatAt = now;
    job.updatedAt = now;
    return { cancelRequested: job.cancelRequested };
  }

  async heartbeatMany(params: {
    leases: readonly LeaseRef[];
    now?: number;
  }): Promise<HeartbeatManyResult> {
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

  async progress(
    params: LeaseRef & { percent: number; message?: string; now?: number },
  ): Promise<Job> {
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

  async complete(params: LeaseRef & { result: unknown; now?: number }): Promise<Job> {
    const now = this.#now(params.now);
    const json = assertJsonPayload(params.result, 'result', {
      maxBytes: this.#ctx.maxPayloadBytes,
    });
    const job = this.#fenced(params);
    job.result = JSON.parse(json);
    this.#finish(job, 'completed', now);
    return copy(job);
  }

  async completeMany(params: {
    items: readonly (LeaseRef & { result: unknown })[];
    events?: readonly RunnerJobEvent[];
    returnJobs?: boolean;
    now?: number;
  }): Promise<CompleteManyResult> {
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
      this.#finish(job, 'completed', now);
      out.completed.push(job.id);
      if (params.returnJobs === true) jobs.push(copy(job));
    });
    return params.returnJobs === true ? { ...out, jobs } : out;
  }

  async fail(
    params: LeaseRef & {
      error: ErrorInfo;
      retryAt?: number | null;
      retryDelayMs?: number | null;
      now?: number;
    },
  ): Promise<Job> {
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
    if (job.cancelRequested) return copy(this.#cancelRequested(job, now, error));
    job.error = { ...error, attempt: job.attempts, at: now };
    if (retryAt !== null && job.attempts < job.maxAttempts) {
      this.#toPending(job, retryAt, now);
    } else {
      this.#finish(job, 'failed', now);
    }
    return copy(job);
  }

  async release(
    params: LeaseRef & { runAt?: number; delayMs?: number; now?: number },
  ): Promise<Job> {
    const now = this.#now(params.now);
    const when = assertRunAtOrDelay(params.runAt, 'runAt', params.delayMs, 'delayMs');
    const runAt = when.at ?? now + (when.delayMs ?? 0);
    const job = this.#fenced(params);
    if (job.cancelRequested) return copy(this.#cancelRequested(job, now));
    job.attempts = Math.max(0, job.attempts - 1);
    this.#toPending(job, runAt, now);
    return copy(job);
  }

  async cancel(params: { jobId: string; reason?: string; now?: number }): Promise<Job> {
    const now = this.#now(params.now);
    const reason = params.reason === undefined ? undefined : assertMessage(params.reason, 'reason');
    const job = this.#ctx.state.jobs.get(params.jobId);
    if (job === undefined) throw new NotFoundError('job', String(params.jobId));
    if (job.status === 'pending') {
      job.error = cancelledError(job, reason, now);
      this.#finish(job, 'cancelled', now);
    } else if (job.status === 'running' && !job.cancelRequested) {
      job.cancelRequested = true;
      job.updatedAt = now;
    }
    return copy(job);
  }

  async confirmCancel(params: LeaseRef & { reason?: string; now?: number }): Promise<Job> {
    const now = this.#now(params.now);
    const reason = params.reason === undefined ? undefined : assertMessage(params.reason, 'reason');
    const job = this.#fenced(params);
    job.error = cancelledError(job, reason, now);
    this.#finish(job, 'cancelled', now);
    return copy(job);
  }

  async listByStatus(params: {
    status: JobStatus;
    limit: number;
    offset?: number;
  }): Promise<Job[]> {
    if (!JOB_STATUSES.includes(params.status)) {
      throw new ValidationError('status', `must be one of ${JOB_STATUSES.join(', ')}`);
    }
    const { limit, offset } = pageOf(params);
    const jobs = [...this.#ctx.state.jobs.values()].filter((job) => job.status === params.status);
    jobs.sort(compareCreated);
    return jobs.slice(offset, offset + limit).map(copy);
  }

  async findStalled(params: {
    stalledThresholdMs: number;
    limit: number;
    now?: number;
  }): Promise<Job[]> {
    const now = this.#now(params.now);
    const threshold = assertDurationMs(params.stalledThresholdMs, 'stalledThresholdMs');
    const limit = assertInteger(params.limit, 'limit', { min: 0, max: MAX_LIMIT });
    const cutoff = now - threshold;
    const stalled = [...this.#ctx.state.jobs.values()].filter(
      (job) => job.status === 'running' && job.heartbeatAt !== null && job.heartbeatAt < cutoff,
    );
    stalled.sort((a, b) => (a.heartbeatAt ?? 0) - (b.heartbeatAt ?? 0) || compareIds(a, b));
    return stalled.slice(0, limit).map(copy);
  }

  async resetStalled(
    params: LeaseRef & { error?: ErrorInfo; stalledThresholdMs?: number; now?: number },
  ): Promise<Job> {
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
      this.#finish(job, 'cancelled', now);
      return copy(job);
    }
    job.error = { ...error, attempt: job.attempts, at: now };
    if (job.attempts < job.maxAttempts) this.#toPending(job, now, now);
    else this.#finish(job, 'failed', now);
    return copy(job);
  }

  async getByExecution(executionId: string): Promise<Job[]> {
    const jobs = [...this.#ctx.state.jobs.values()].filter(
      (job) => job.executionId === executionId,
    );
    jobs.sort(compareCreated);
    return jobs.map(copy);
  }

  #now(now: number | undefined): number {
    return now === undefined ? this.#ctx.clock.now() : assertTimestamp(now, 'now');
  }

  #existingByKey(job: NormalizedNewJob): Job | undefined {
    if (job.idempotencyKey === null) return undefined;
    const id = this.#ctx.state.jobKeys.get(job.idempotencyKey);
    return id === undefined ? undefined : this.#ctx.state.jobs.get(id);
  }

  /** Stores a validated job, or returns the one already holding its idempotency key. */
  #insert(job: NormalizedNewJob, now: number): Job {
    const existing = this.#existingByKey(job);
    if (existing !== undefined) return existing;
    if (this.#ctx.state.jobs.has(job.id)) {
      throw new ValidationError('id', 'a job with this id already exists');
    }
    const stored = newJobAsStored(job, { runAt: job.runAt, createdAt: now });
    this.#ctx.state.jobs.set(stored.id, stored);
    if (stored.idempotencyKey !== null)
      this.#ctx.state.jobKeys.set(stored.idempotencyKey, stored.id);
    return stored;
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

  /**
   * Ends a job whose cancellation was requested as `cancelled` instead of putting it back
   * to `pending` (a retry or release must not lose the request); `cause` is the attempt's
   * failure, when it failed.
   */
  #cancelRequested(job: Job, now: number, cause?: ErrorInfo): Job {
    job.error = cancelledError(job, undefined, now);
    if (cause !== undefined) job.error.cause = cause;
    job.cancelRequested = false;
    this.#finish(job, 'cancelled', now);
    return job;
  }

  #toPending(job: Job, runAt: number, now: number): void {
    job.status = 'pending';
    job.runAt = runAt;
    job.leaseId = null;
    job.updatedAt = now;
  }

  #finish(job: Job, status: 'completed' | 'failed' | 'cancelled', now: number): void {
    job.status = status;
    job.leaseId = null;
    job.finishedAt = now;
    job.updatedAt = now;
  }
}

/** Makes a pending job `running` under a fresh lease, as `claimBatch` does (for `claimById`). */
function claimJob(job: Job, runnerId: string, now: number): Job {
  job.status = 'running';
  job.attempts += 1;
  job.leaseId = randomUUID();
  job.runnerId = runnerId;
  job.heartbeatAt = now;
  job.startedAt = now;
  job.updatedAt = now;
  job.cancelRequested = false;
  return job;
}

function assertMessage(value: unknown, field: string): string {
  if (value === '') return value;
  return assertText(value, field, { maxLength: MAX_MESSAGE_LENGTH });
}

function cancelledError(job: Job, reason: string | undefined, now: number): JobError {
  return { code: 'CANCELLED', message: reason ?? 'job cancelled', attempt: job.attempts, at: now };
}

function pageOf(params: { limit: number; offset?: number }): { limit: number; offset: number } {
  return {
    limit: assertInteger(params.limit, 'limit', { min: 0, max: MAX_LIMIT }),
    offset: assertInteger(params.offset ?? 0, 'offset', { min: 0, max: Number.MAX_SAFE_INTEGER }),
  };
}

function compareIds(a: { id: string }, b: { id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Claim order: priority descending, then `runAt` ascending, then id. */
function compareClaimOrder(a: Job, b: Job): number {
  return b.priority - a.priority || a.runAt - b.runAt || compareIds(a, b);
}

/** Oldest first; the sort is stable, so jobs created in the same ms keep insertion order. */
function compareCreated(a: Job, b: Job): number {
  return a.createdAt - b.createdAt;
}
