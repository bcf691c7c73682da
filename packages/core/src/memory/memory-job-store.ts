import { randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.js';
import type { Job, JobStatus, LeaseRef, NewJob } from '../job.js';
import { assertNoDuplicateJobIds, normalizeClaimBatch } from '../job-store-checks.js';
import { newJobAsStored } from '../new-job-as-stored.js';
import type { ErrorInfo } from '../result.js';
import type {
  ClaimBatchParams,
  CompleteManyParams,
  CompleteManyResult,
  FailParams,
  HeartbeatManyResult,
  JobStore,
  ListDeadLettersParams,
  PruneFinishedParams,
  PruneFinishedResult,
  RedriveManyParams,
} from '../stores/job-store.js';
import {
  assertDurationMs,
  assertInteger,
  assertText,
  assertTimestamp,
  MAX_TEXT_LENGTH,
  type NormalizedNewJob,
  normalizeNewJob,
  normalizeNewJobs,
} from '../validation.js';
import { MemoryJobMaintenance } from './memory-job-maintenance.js';
import { MemoryJobTransitions } from './memory-job-transitions.js';
import { copy, type MemoryStoreContext } from './memory-state.js';

const JOB_STATUSES: readonly JobStatus[] = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
];
const MAX_LIMIT = 100_000;

/**
 * In-memory {@link JobStore} for unit tests and quick scripts. It keeps every documented
 * behaviour of the Postgres store (fencing, claim order, idempotency, validation) but no
 * durability. Every method body runs without awaiting, so calls never interleave and
 * concurrent claimers can never receive the same job. Values are deep-copied in and out.
 */
export class MemoryJobStore implements JobStore {
  readonly #ctx: MemoryStoreContext;
  readonly #maintenance: MemoryJobMaintenance;
  readonly #transitions: MemoryJobTransitions;

  /** @param ctx state, clock and limits shared with the other memory stores. */
  constructor(ctx: MemoryStoreContext) {
    this.#ctx = ctx;
    this.#maintenance = new MemoryJobMaintenance(ctx);
    this.#transitions = new MemoryJobTransitions(ctx);
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
    return this.#transitions.heartbeat(params);
  }

  async heartbeatMany(params: {
    leases: readonly LeaseRef[];
    now?: number;
  }): Promise<HeartbeatManyResult> {
    return this.#transitions.heartbeatMany(params);
  }

  async progress(
    params: LeaseRef & { percent: number; message?: string; now?: number },
  ): Promise<Job> {
    return this.#transitions.progress(params);
  }

  async complete(params: LeaseRef & { result: unknown; now?: number }): Promise<Job> {
    return this.#transitions.complete(params);
  }

  async completeMany(params: CompleteManyParams): Promise<CompleteManyResult> {
    return this.#transitions.completeMany(params);
  }

  async fail(params: FailParams): Promise<Job> {
    return this.#transitions.fail(params);
  }

  async release(
    params: LeaseRef & { runAt?: number; delayMs?: number; now?: number },
  ): Promise<Job> {
    return this.#transitions.release(params);
  }

  async cancel(params: { jobId: string; reason?: string; now?: number }): Promise<Job> {
    return this.#transitions.cancel(params);
  }

  async confirmCancel(params: LeaseRef & { reason?: string; now?: number }): Promise<Job> {
    return this.#transitions.confirmCancel(params);
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
    return this.#transitions.resetStalled(params);
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
