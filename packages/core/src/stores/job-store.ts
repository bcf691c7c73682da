import type { Job, JobStatus, LeaseRef, NewJob } from '../job.js';
import type { ErrorInfo } from '../result.js';

/** Parameters of {@link JobStore.claimBatch}. */
export interface ClaimBatchParams {
  runnerId: string;
  /**
   * Most jobs to claim; a larger value is clamped to `MAX_CLAIM_BATCH` (1000), so a claim
   * that returns that many may have left more due jobs behind.
   */
  limit: number;
  /** Only jobs of these handler types (a runner claims only what it can run). Omitted: any. */
  handlers?: readonly string[];
  /** Only jobs in these queues. Omitted: any. */
  queues?: readonly string[];
  /** Override of the current time, epoch ms (tests). */
  now?: number;
}

/** What `JobStore.completeMany` takes (see there). */
export interface CompleteManyParams {
  items: readonly (LeaseRef & { result: unknown })[];
  events?: readonly RunnerJobEvent[];
  returnJobs?: boolean;
  now?: number;
}

/** What `JobStore.fail` takes (see there). */
export type FailParams = LeaseRef & {
  error: ErrorInfo;
  retryAt?: number | null;
  retryDelayMs?: number | null;
  now?: number;
};

/** Result of {@link JobStore.completeMany}. */
export interface CompleteManyResult {
  /** Ids of the jobs now `completed`. */
  completed: string[];
  /** Ids whose lease was no longer held: nothing was written for them. */
  lost: string[];
  /** The completion time written (`finishedAt`), epoch ms. */
  finishedAt: number;
  /**
   * With `returnJobs: true`, the jobs now `completed` as stored, in the order of
   * `completed`; absent otherwise (and from a store that does not support it).
   */
  jobs?: Job[];
}

/** Result of {@link JobStore.heartbeatMany}. */
export interface HeartbeatManyResult {
  /** Job ids whose lease is no longer held: their holder must abort them. */
  lost: string[];
  /** Job ids still held whose cancellation was requested. */
  cancelRequested: string[];
}

/**
 * Kinds of {@link RunnerJobEvent}: what a runner observes about an attempt that no store
 * write records by itself. `started`: the handler was invoked (after the claim, possibly
 * later with prefetch). `timeout`: the runner aborted the handler for its time limit (the
 * attempt's failure follows as `retried` or `failed` with code `JOB_TIMEOUT`).
 * `lease-lost`: the runner found that it no longer holds the lease (the job was reaped,
 * taken over or finished elsewhere) and dropped the attempt.
 */
export type RunnerJobEventKind = 'started' | 'timeout' | 'lease-lost';

/** One event for {@link JobStore.recordEvents}. */
export interface RunnerJobEvent extends LeaseRef {
  kind: RunnerJobEventKind;
  /** The attempt it concerns (the job's `attempts` when it was claimed), >= 1. */
  attempt: number;
  /** JSON details, e.g. `{ runnerId }` or `{ timeoutMs }`. @default null */
  data?: Record<string, unknown> | null;
}

/** Result of {@link JobStore.recordEvents}. */
export interface RecordEventsResult {
  /** Events written. */
  recorded: number;
  /** `started` and `timeout` events not written because their lease was no longer held. */
  fenced: number;
}

/** Parameters of {@link JobStore.listDeadLetters}. */
export interface ListDeadLettersParams {
  /** Most jobs to return (0..100 000). */
  limit: number;
  /** Jobs to skip, for paging. @default 0 */
  offset?: number;
  /** Only dead letters of this handler type. Omitted: any. */
  handler?: string;
  /** Only dead letters in this queue. Omitted: any. */
  queue?: string;
}

/** Parameters of {@link JobStore.redriveMany}. */
export interface RedriveManyParams {
  /** Most jobs to redrive in this call (1..100 000). */
  limit: number;
  /** Only dead letters of this handler type. Omitted: any. */
  handler?: string;
  /** Only dead letters in this queue. Omitted: any. */
  queue?: string;
  /** Only jobs that failed strictly before this time (epoch ms or Date). Omitted: any. */
  failedBefore?: number | Date;
  /** Override of the current time, epoch ms (tests). */
  now?: number;
}

/** Parameters of {@link JobStore.pruneFinished}. */
export interface PruneFinishedParams {
  /** Terminal statuses to prune (`completed`, `failed`, `cancelled`); at least one. */
  statuses: readonly JobStatus[];
  /** Prune jobs whose `finishedAt` is older than `now - olderThanMs`, in ms (>= 0). */
  olderThanMs: number;
  /** Most jobs to delete in this call (1..100 000). */
  limit: number;
  /** Override of the current time, epoch ms (tests). */
  now?: number;
}

/** Result of {@link JobStore.pruneFinished}. */
export interface PruneFinishedResult {
  /** Jobs deleted. */
  jobs: number;
  /** Job events deleted with them (always 0 for a store that keeps no events). */
  events: number;
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
   * Claims up to `limit` (at most `MAX_CLAIM_BATCH`) due pending jobs (`runAt <= now`),
   * highest priority first, then oldest `runAt`, then id. Each becomes `running` with
   * `attempts + 1`, a fresh `leaseId`, `runnerId`, `heartbeatAt = now` and
   * `startedAt = now`. Concurrent claimers never receive the same job.
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
   * Completes many running jobs in one call (one round trip and one commit for the
   * Postgres store), each fenced by its own lease like `complete`. A fenced-out item
   * changes nothing and is reported in `lost` instead of throwing; the others commit.
   * Validates every result first (`ValidationError` naming `items[i].result`, nothing
   * written). `events` (optional) are appended to the history first, in the same statement
   * and as {@link recordEvents} would (a runner's `started` rows of the same attempts, so
   * they come before their `completed` rows; `events[i].kind` named when invalid); a store
   * that keeps no history checks and drops them. `returnJobs: true` also returns the
   * completed jobs as stored (`jobs`: what the engine needs to resume their executions);
   * by default only ids come back. Optional: callers fall back to `complete` when a store
   * lacks it.
   */
  completeMany?(params: CompleteManyParams): Promise<CompleteManyResult>;

  /**
   * Appends runner-observed events to the job's history (in the order given, at the
   * store's now), in one round trip for the Postgres store. `started` and `timeout` are
   * fenced like every write of a running job: one whose lease is no longer held is not
   * written (counted in `fenced`), so a job's history never shows an attempt starting
   * after it was taken from its runner. `lease-lost` is written whatever the job's state:
   * it records that the holder's writes were refused. Validates every event first
   * (`ValidationError` naming `events[i].kind`, nothing written). Optional: a store that
   * keeps no event history (the in-memory one) omits it, and runners then skip it.
   */
  recordEvents?(params: { events: readonly RunnerJobEvent[] }): Promise<RecordEventsResult>;

  /**
   * Records a failed attempt. With `retryAt` (epoch ms) or `retryDelayMs` (ms from the
   * store's now: database time for Postgres, so a skewed process clock does not shift
   * retries) and attempts remaining, the job goes back to `pending` with that `runAt`;
   * otherwise it becomes `failed`. Giving both is a `ValidationError`. A job whose
   * cancellation was requested becomes `cancelled` instead.
   */
  fail(params: FailParams): Promise<Job>;

  /**
   * Gives a running job back: `pending` again with the attempt refunded (`attempts - 1`),
   * `runAt` = `runAt` (epoch ms), or the store's now plus `delayMs` (ms, default 0); giving
   * both is a `ValidationError`. Used on graceful shutdown and for snoozes. A job whose
   * cancellation was requested becomes `cancelled` instead.
   */
  release(params: LeaseRef & { runAt?: number; delayMs?: number; now?: number }): Promise<Job>;

  /**
   * Requests cancellation. A `pending` job becomes `cancelled` at once; a `running` job gets
   * `cancelRequested = true` and its holder aborts it, then calls `confirmCancel`; a
   * terminal job is returned unchanged. Throws `NotFoundError` for an unknown id.
   */
  cancel(params: { jobId: string; reason?: string; now?: number }): Promise<Job>;

  /** The holder of a running job acknowledges its cancellation: the job becomes `cancelled`. */
  confirmCancel(params: LeaseRef & { reason?: string; now?: number }): Promise<Job>;

  /**
   * Lists jobs with a status, oldest (by `createdAt`) first. For the Postgres store, pending
   * and running jobs are read through an index; a finished status is sorted over all its
   * rows, so it suits an operator's look, not a hot path.
   */
  listByStatus(params: { status: JobStatus; limit: number; offset?: number }): Promise<Job[]>;

  /** Running jobs whose `heartbeatAt` is older than `now - stalledThresholdMs`, oldest first. */
  findStalled(params: { stalledThresholdMs: number; limit: number; now?: number }): Promise<Job[]>;

  /**
   * Reaps a stalled job under the lease it was seen with: back to `pending` when attempts
   * remain (the attempt counts as failed with `error`), else `failed`; a job whose
   * cancellation was requested becomes `cancelled`. Throws `LeaseLostError` when the lease
   * moved on (the job completed or was taken over meanwhile) and changes nothing. With
   * `stalledThresholdMs` (ms, finite, >= 0) the job must also still be stalled
   * (`heartbeatAt < now - stalledThresholdMs`): a runner that heartbeated after
   * `findStalled` keeps its job and this throws `LeaseLostError`, changing nothing.
   * Omitted: no staleness check (only the lease fences the write).
   */
  resetStalled(
    params: LeaseRef & { error?: ErrorInfo; stalledThresholdMs?: number; now?: number },
  ): Promise<Job>;

  /** All jobs of an execution, oldest first. */
  getByExecution(executionId: string): Promise<Job[]>;

  /**
   * Claims one pending job by id, whatever its `runAt` (what `Job.now({ persist: true })`
   * and `executeFromDatabase` use). Same effects as {@link claimBatch}, and `runAt`
   * becomes now (a job created far in the future stays invisible to runners until then).
   * Returns `undefined`
   * when the job does not exist or is not `pending`.
   */
  claimById(params: { jobId: string; runnerId: string; now?: number }): Promise<Job | undefined>;

  /**
   * Lists dead letters: `failed` jobs (attempts exhausted, or a non-retryable error), with
   * their last `error` and `attempts`, most recently failed first.
   */
  listDeadLetters(params: ListDeadLettersParams): Promise<Job[]>;

  /**
   * Puts one dead letter back: `pending` with `attempts = 0`, `runAt = now`, no lease, no
   * `finishedAt`; its last `error` is kept (and a `redriven` event recorded where the store
   * keeps events). Throws `NotFoundError` for an unknown id and `InvalidStateError` when the
   * job is not `failed`. A parent execution is not touched: it already took its failure path.
   */
  redrive(params: { jobId: string; now?: number }): Promise<Job>;

  /**
   * Redrives up to `limit` dead letters matching the filter, oldest failure first, and
   * returns how many were redriven.
   */
  redriveMany(params: RedriveManyParams): Promise<number>;

  /**
   * Deletes up to `limit` jobs (and their events) in the given terminal statuses whose
   * `finishedAt` is older than `now - olderThanMs`, oldest first. A job whose execution is
   * still non-terminal is never deleted. Returns the counts deleted.
   */
  pruneFinished(params: PruneFinishedParams): Promise<PruneFinishedResult>;
}
