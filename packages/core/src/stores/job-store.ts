import type { Job, JobStatus, LeaseRef, NewJob } from '../job.js';
import type { ErrorInfo } from '../result.js';

/** Parameters of {@link JobStore.claimBatch}. */
export interface ClaimBatchParams {
  runnerId: string;
  /** Most jobs to claim. */
  limit: number;
  /** Only jobs of these handler types (a runner claims only what it can run). Omitted: any. */
  handlers?: readonly string[];
  /** Only jobs in these queues. Omitted: any. */
  queues?: readonly string[];
  /** Override of the current time, epoch ms (tests). */
  now?: number;
}

/** Result of {@link JobStore.heartbeatMany}. */
export interface HeartbeatManyResult {
  /** Job ids whose lease is no longer held: their holder must abort them. */
  lost: string[];
  /** Job ids still held whose cancellation was requested. */
  cancelRequested: string[];
}

/**
 * Persists jobs. Every write to a running job is fenced by `{ jobId, leaseId }`: when the
 * job is not `running` under that lease, nothing changes and the method throws
 * `LeaseLostError`. Time comparisons use the store's clock (database time for Postgres)
 * unless `now` is passed.
 */
export interface JobStore {
  /**
   * Inserts a job. Validates it first (`ValidationError` naming the field, nothing
   * written). With an `idempotencyKey` already used, returns the existing job.
   */
  create(job: NewJob): Promise<Job>;

  /** Inserts many jobs at once, all or none, returning them in input order. */
  createMany(jobs: readonly NewJob[]): Promise<Job[]>;

  /** Returns the job, or `undefined`. */
  get(jobId: string): Promise<Job | undefined>;

  /**
   * Claims up to `limit` due pending jobs (`runAt <= now`), highest priority first, then
   * oldest `runAt`, then id. Each becomes `running` with `attempts + 1`, a fresh `leaseId`,
   * `runnerId`, `heartbeatAt = now` and `startedAt = now`. Concurrent claimers never
   * receive the same job.
   */
  claimBatch(params: ClaimBatchParams): Promise<Job[]>;

  /** Extends the lease (`heartbeatAt = now`). Returns whether cancellation was requested. */
  heartbeat(params: LeaseRef & { now?: number }): Promise<{ cancelRequested: boolean }>;

  /** Heartbeats many leases in one call; lost leases are reported, not thrown. */
  heartbeatMany(params: {
    leases: readonly LeaseRef[];
    now?: number;
  }): Promise<HeartbeatManyResult>;

  /** Records progress (`percent` 0..100) on a running job; also extends the lease. */
  progress(params: LeaseRef & { percent: number; message?: string; now?: number }): Promise<Job>;

  /** Marks the job `completed` with `result`. */
  complete(params: LeaseRef & { result: unknown; now?: number }): Promise<Job>;

  /**
   * Records a failed attempt. With `retryAt` and attempts remaining the job goes back to
   * `pending` with `runAt = retryAt`; otherwise it becomes `failed`.
   */
  fail(
    params: LeaseRef & { error: ErrorInfo; retryAt?: number | null; now?: number },
  ): Promise<Job>;

  /**
   * Gives a running job back: `pending` again with the attempt refunded (`attempts - 1`),
   * `runAt` = the given time or now. Used on graceful shutdown and for snoozes.
   */
  release(params: LeaseRef & { runAt?: number; now?: number }): Promise<Job>;

  /**
   * Requests cancellation. A `pending` job becomes `cancelled` at once; a `running` job gets
   * `cancelRequested = true` and its holder aborts it, then calls `confirmCancel`; a
   * terminal job is returned unchanged. Throws `NotFoundError` for an unknown id.
   */
  cancel(params: { jobId: string; reason?: string; now?: number }): Promise<Job>;

  /** The holder of a running job acknowledges its cancellation: the job becomes `cancelled`. */
  confirmCancel(params: LeaseRef & { reason?: string; now?: number }): Promise<Job>;

  /** Lists jobs with a status, oldest first. */
  listByStatus(params: { status: JobStatus; limit: number; offset?: number }): Promise<Job[]>;

  /** Running jobs whose `heartbeatAt` is older than `now - stalledThresholdMs`, oldest first. */
  findStalled(params: { stalledThresholdMs: number; limit: number; now?: number }): Promise<Job[]>;

  /**
   * Reaps a stalled job under the lease it was seen with: back to `pending` when attempts
   * remain (the attempt counts as failed with `error`), else `failed`; a job whose
   * cancellation was requested becomes `cancelled`. Throws `LeaseLostError` when the lease
   * moved on (the job completed or was taken over meanwhile) and changes nothing.
   */
  resetStalled(params: LeaseRef & { error?: ErrorInfo; now?: number }): Promise<Job>;

  /** All jobs of an execution, oldest first. */
  getByExecution(executionId: string): Promise<Job[]>;
}
