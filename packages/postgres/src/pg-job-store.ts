import {
  assertDurationMs,
  assertErrorInfo,
  assertInteger,
  assertJsonPayload,
  assertLeaseRef,
  assertOptionalText,
  assertRunAtOrDelay,
  assertText,
  type ClaimBatchParams,
  type CompleteManyParams,
  type CompleteManyResult,
  type ErrorInfo,
  type FailParams,
  type HeartbeatManyResult,
  isUuid,
  type Job,
  type JobStatus,
  type JobStore,
  LeaseLostError,
  type LeaseRef,
  type ListDeadLettersParams,
  type NewJob,
  NotFoundError,
  normalizeClaimBatch,
  type PruneFinishedParams,
  type PruneFinishedResult,
  type RecordEventsResult,
  type RedriveManyParams,
  type RunnerJobEvent,
  TERMINAL_JOB_STATUSES,
  ValidationError,
} from '@flowmonkey/core';
import pg from 'pg';
import { GroupCommit } from './group-commit.js';
import { JobBatchWriter } from './job-batch-writer.js';
import { JobDeadLetters } from './job-dead-letters.js';
import { JobInserter, type TakenKey } from './job-inserter.js';
import { type Row, runStatement } from './queryable.js';
import { claimedRowToJob, rowToJob } from './rows.js';
import { limitValue, nowValue, ownTransaction } from './statement-values.js';
import type { StoreContext } from './store-context.js';

const JOB_STATUSES: readonly JobStatus[] = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
];
const STALLED_ERROR: ErrorInfo = {
  code: 'JOB_STALLED',
  message: 'the job stopped heartbeating',
};

/**
 * Core's {@link JobStore} on PostgreSQL. Claims with `FOR NO KEY UPDATE SKIP LOCKED` in
 * priority, `run_at`, id order (served by the partial index `jobs_claim_idx`); every write to
 * a running job is fenced by id and lease id (a lease is set exactly while the job runs), and a fenced-out write changes nothing
 * and throws `LeaseLostError`. Each change appends its `job_events` row in the same
 * statement. Times are database time unless `now` is injected.
 */
export class PgJobStore implements JobStore {
  readonly #ctx: StoreContext;
  readonly #inserter: JobInserter;
  readonly #batches: JobBatchWriter;
  readonly #deadLetters: JobDeadLetters;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    this.#inserter = new JobInserter(ctx);
    this.#batches = new JobBatchWriter(ctx);
    this.#deadLetters = new JobDeadLetters(ctx, (jobId) => this.get(jobId));
  }

  #sql() {
    return this.#ctx.statements.jobs;
  }

  async create(job: NewJob): Promise<Job> {
    // On the pool, concurrent creates are group-committed: one INSERT and commit for all
    // those waiting while the previous one runs, and a lone create (the first after an idle
    // spell, or one of a failed batch) goes through the one-row statement. Inside a
    // transaction: written at once, through the one-row statement.
    // A key found taken in a batch is read after the batch (see GroupCommit).
    if (!(this.#ctx.db instanceof pg.Pool)) return this.#inserter.one(job);
    const [created] = await this.#inserter.holdersOfTakenKeys([await this.#creates.add(job)]);
    return created as Job;
  }

  readonly #creates = new GroupCommit<NewJob, Job | TakenKey>({
    writeMany: (jobs) => this.#inserter.insertMany(jobs, false),
    writeOne: (job) => this.#inserter.one(job),
  });

  async createMany(jobs: readonly NewJob[]): Promise<Job[]> {
    if (!Array.isArray(jobs)) throw new ValidationError('jobs', 'must be an array');
    if (jobs.length === 0) return [];
    return this.#inserter.many(jobs, true);
  }

  async get(jobId: string): Promise<Job | undefined> {
    if (typeof jobId !== 'string' || !isUuid(jobId)) return undefined;
    const [row] = await runStatement(this.#ctx.db, this.#sql().get, [jobId]);
    return row === undefined ? undefined : rowToJob(row);
  }

  async claimBatch(params: ClaimBatchParams): Promise<Job[]> {
    const { runnerId, limit, handlers, queues } = normalizeClaimBatch(params);
    const rows = await runStatement(this.#ctx.db, this.#sql().claimBatch, [
      runnerId,
      limit,
      nowValue(params.now),
      handlers,
      queues,
      ownTransaction(this.#ctx.db),
    ]);
    return rows.map((row) => claimedRowToJob(row, runnerId));
  }

  async heartbeat(params: LeaseRef & { now?: number }): Promise<{ cancelRequested: boolean }> {
    const row = await this.#fenced('heartbeat', params, [nowValue(params.now)]);
    return { cancelRequested: row.cancel_requested === true };
  }

  async heartbeatMany(params: {
    leases: readonly LeaseRef[];
    now?: number;
  }): Promise<HeartbeatManyResult> {
    return this.#batches.heartbeatMany(params);
  }

  async progress(
    params: LeaseRef & { percent: number; message?: string; now?: number },
  ): Promise<Job> {
    const percent = params.percent;
    if (typeof percent !== 'number' || !(percent >= 0 && percent <= 100)) {
      throw new ValidationError('percent', 'must be a number from 0 to 100');
    }
    const message = assertOptionalText(params.message, 'message', { maxLength: 2000 });
    return rowToJob(
      await this.#fenced('progress', params, [percent, message, nowValue(params.now)]),
    );
  }

  async complete(params: LeaseRef & { result: unknown; now?: number }): Promise<Job> {
    const result = assertJsonPayload(params.result, 'result', {
      maxBytes: this.#ctx.maxPayloadBytes,
    });
    return rowToJob(await this.#fenced('complete', params, [result, nowValue(params.now)]));
  }

  async completeMany(params: CompleteManyParams): Promise<CompleteManyResult> {
    return this.#batches.completeMany(params);
  }

  async recordEvents(params: { events: readonly RunnerJobEvent[] }): Promise<RecordEventsResult> {
    return this.#batches.recordEvents(params);
  }

  async fail(params: FailParams): Promise<Job> {
    const error = assertErrorInfo(params.error, 'error', { maxBytes: this.#ctx.maxPayloadBytes });
    const retry = assertRunAtOrDelay(
      params.retryAt,
      'retryAt',
      params.retryDelayMs,
      'retryDelayMs',
    );
    const retryAt = retry.at === null ? null : new Date(retry.at);
    return rowToJob(
      await this.#fenced('fail', params, [error, retryAt, nowValue(params.now), retry.delayMs]),
    );
  }

  async release(
    params: LeaseRef & { runAt?: number; delayMs?: number; now?: number },
  ): Promise<Job> {
    const when = assertRunAtOrDelay(params.runAt, 'runAt', params.delayMs, 'delayMs');
    const runAt = when.at === null ? null : new Date(when.at);
    const row = await this.#fenced('release', params, [runAt, nowValue(params.now), when.delayMs]);
    if (row.due === true) this.#ctx.wake.jobsDue();
    return rowToJob(row);
  }

  async cancel(params: { jobId: string; reason?: string; now?: number }): Promise<Job> {
    const reason = assertOptionalText(params.reason, 'reason', { maxLength: 2000 });
    if (typeof params.jobId !== 'string' || !isUuid(params.jobId)) {
      throw new NotFoundError('job', String(params.jobId));
    }
    const [row] = await runStatement(this.#ctx.db, this.#sql().cancel, [
      params.jobId,
      reason,
      nowValue(params.now),
    ]);
    if (row !== undefined) {
      if (row.status === 'running') this.#ctx.wake.cancelRequested(String(row.id));
      return rowToJob(row);
    }
    const existing = await this.get(params.jobId);
    if (existing === undefined) throw new NotFoundError('job', params.jobId);
    return existing;
  }

  async confirmCancel(params: LeaseRef & { reason?: string; now?: number }): Promise<Job> {
    const reason = assertOptionalText(params.reason, 'reason', { maxLength: 2000 });
    return rowToJob(await this.#fenced('confirmCancel', params, [reason, nowValue(params.now)]));
  }

  async listByStatus(params: {
    status: JobStatus;
    limit: number;
    offset?: number;
  }): Promise<Job[]> {
    if (!JOB_STATUSES.includes(params.status)) {
      throw new ValidationError('status', `must be one of ${JOB_STATUSES.join(', ')}`);
    }
    const rows = await runStatement(this.#ctx.db, this.#sql()[`listByStatus_${params.status}`], [
      limitValue(params.limit),
      limitValue(params.offset ?? 0, 'offset'),
    ]);
    return rows.map(rowToJob);
  }

  async findStalled(params: {
    stalledThresholdMs: number;
    limit: number;
    now?: number;
  }): Promise<Job[]> {
    const threshold = params.stalledThresholdMs;
    if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 0) {
      throw new ValidationError('stalledThresholdMs', 'must be a finite number >= 0');
    }
    const rows = await runStatement(this.#ctx.db, this.#sql().findStalled, [
      threshold,
      limitValue(params.limit),
      nowValue(params.now),
    ]);
    return rows.map(rowToJob);
  }

  async resetStalled(
    params: LeaseRef & { error?: ErrorInfo; stalledThresholdMs?: number; now?: number },
  ): Promise<Job> {
    const error = assertErrorInfo(params.error ?? STALLED_ERROR, 'error', {
      maxBytes: this.#ctx.maxPayloadBytes,
    });
    const threshold =
      params.stalledThresholdMs === undefined
        ? null
        : assertDurationMs(params.stalledThresholdMs, 'stalledThresholdMs');
    const row = await this.#fenced('resetStalled', params, [
      error,
      nowValue(params.now),
      threshold,
    ]);
    if (row.status === 'pending') this.#ctx.wake.jobsDue();
    return rowToJob(row);
  }

  async getByExecution(executionId: string): Promise<Job[]> {
    if (typeof executionId !== 'string' || executionId.length === 0) return [];
    const rows = await runStatement(this.#ctx.db, this.#sql().getByExecution, [executionId]);
    return rows.map(rowToJob);
  }

  async claimById(params: {
    jobId: string;
    runnerId: string;
    now?: number;
  }): Promise<Job | undefined> {
    const runnerId = assertText(params.runnerId, 'runnerId', { maxLength: 255 });
    if (typeof params.jobId !== 'string' || !isUuid(params.jobId)) return undefined;
    const [row] = await runStatement(this.#ctx.db, this.#sql().claimById, [
      params.jobId,
      runnerId,
      nowValue(params.now),
    ]);
    return row === undefined ? undefined : rowToJob(row);
  }

  async listDeadLetters(params: ListDeadLettersParams): Promise<Job[]> {
    return this.#deadLetters.list(params);
  }

  async redrive(params: { jobId: string; now?: number }): Promise<Job> {
    return this.#deadLetters.redrive(params);
  }

  async redriveMany(params: RedriveManyParams): Promise<number> {
    return this.#deadLetters.redriveMany(params);
  }

  async pruneFinished(params: PruneFinishedParams): Promise<PruneFinishedResult> {
    const statuses = params.statuses;
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
    const olderThanMs = assertInteger(params.olderThanMs, 'olderThanMs', {
      min: 0,
      max: Number.MAX_SAFE_INTEGER,
    });
    const [row] = await runStatement(this.#ctx.db, this.#sql().pruneFinished, [
      [...statuses],
      olderThanMs,
      assertInteger(params.limit, 'limit', { min: 1, max: 100_000 }),
      nowValue(params.now),
    ]);
    return { jobs: Number(row?.jobs ?? 0), events: Number(row?.events ?? 0) };
  }

  /** Runs a write fenced by `(jobId, leaseId)`; no row means the lease is lost. */
  async #fenced(
    name:
      | 'heartbeat'
      | 'progress'
      | 'complete'
      | 'fail'
      | 'release'
      | 'confirmCancel'
      | 'resetStalled',
    lease: LeaseRef,
    values: readonly unknown[],
  ): Promise<Row> {
    const { jobId, leaseId } = assertLeaseRef(lease);
    if (!isUuid(leaseId)) throw new LeaseLostError(jobId, leaseId);
    const db = name === 'heartbeat' ? (this.#ctx.heartbeatDb ?? this.#ctx.db) : this.#ctx.db;
    const [row] = await runStatement(db, this.#sql()[name], [jobId, leaseId, ...values]);
    if (row === undefined) throw new LeaseLostError(jobId, leaseId);
    return row;
  }
}
