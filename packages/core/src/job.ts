import type { ErrorInfo } from './result.js';
import type { RetryPolicy } from './retry-policy.js';

/**
 * Lifecycle of a job. `completed`, `failed` and `cancelled` are terminal. A job waiting
 * for a retry is `pending` with `attempts > 0` and its last error in `error`
 * (see {@link isRetrying}).
 */
export type JobStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/** Statuses after which a job never changes again (short of a redrive). */
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

/**
 * Named priority levels. Priorities are integers from `MIN_PRIORITY` to `MAX_PRIORITY`;
 * higher runs first, FIFO (by `runAt`, then id) within one priority.
 */
export const JobPriority = {
  LOW: -10,
  NORMAL: 0,
  HIGH: 10,
  CRITICAL: 20,
} as const;

/** Lowest allowed priority. */
export const MIN_PRIORITY = -1000;
/** Highest allowed priority. */
export const MAX_PRIORITY = 1000;
/** Queue used when none is given. */
export const DEFAULT_QUEUE = 'default';
/** Attempts a job gets when neither the job nor its handler says otherwise. */
export const DEFAULT_MAX_ATTEMPTS = 3;

/** The last error of a job, with the attempt it happened in. */
export interface JobError extends ErrorInfo {
  attempt: number;
  /** Epoch ms. */
  at: number;
}

/** Progress reported by a running handler. */
export interface JobProgress {
  /** 0..100. */
  percent: number;
  message: string | null;
  /** Epoch ms. */
  at: number;
}

/** A unit of background work, optionally linked to the execution step it runs for. */
export interface Job {
  id: string;
  queue: string;
  /** Handler type that runs it (the step's handler type for stateful steps). */
  handler: string;
  /** Parent execution for a stateful step; `null` for a plain background job. */
  executionId: string | null;
  stepId: string | null;
  status: JobStatus;
  input: unknown;
  /** The handler's output once completed; `null` before. */
  result: unknown;
  /** The last error, if any attempt failed. */
  error: JobError | null;
  priority: number;
  /** Epoch ms before which the job is not claimed. */
  runAt: number;
  /** Attempts started so far (incremented at claim). */
  attempts: number;
  maxAttempts: number;
  /** Per-attempt time limit in ms; `null` for none. */
  timeoutMs: number | null;
  /** Retry policy for this job; `null` uses the handler's (or the runner's) default. */
  retry: RetryPolicy | null;
  /** Fencing token of the current claim; `null` unless running. */
  leaseId: string | null;
  runnerId: string | null;
  /** Epoch ms of the last heartbeat (database time for the Postgres store). */
  heartbeatAt: number | null;
  progress: JobProgress | null;
  idempotencyKey: string | null;
  /** Free-form id to tie related jobs together (a request id, an order id). */
  correlationId: string | null;
  /** Set when cancellation of a running job was requested; the holder aborts. */
  cancelRequested: boolean;
  createdAt: number;
  updatedAt: number;
  /** Epoch ms the current or last attempt started. */
  startedAt: number | null;
  /** Epoch ms the job reached a terminal status. */
  finishedAt: number | null;
}

/** Parameters for creating a job. Only `handler` is required. */
export interface NewJob {
  /** Defaults to a new UUIDv7. */
  id?: string;
  handler: string;
  /** @default 'default' */
  queue?: string;
  executionId?: string | null;
  stepId?: string | null;
  /** JSON-serialisable payload. @default null */
  input?: unknown;
  /** Integer in [MIN_PRIORITY, MAX_PRIORITY]. @default 0 (NORMAL) */
  priority?: number;
  /** Epoch ms or Date; @default now */
  runAt?: number | Date;
  /** @default 3 */
  maxAttempts?: number;
  timeoutMs?: number | null;
  retry?: RetryPolicy | null;
  /** A second create with the same key returns the first job instead of a new one. */
  idempotencyKey?: string | null;
  correlationId?: string | null;
}

/** A running job's identity plus the fencing token its holder presents on every write. */
export interface LeaseRef {
  jobId: string;
  leaseId: string;
}

/** True when a pending job has failed at least once and waits for its next attempt. */
export function isRetrying(job: Pick<Job, 'status' | 'attempts' | 'error'>): boolean {
  return job.status === 'pending' && job.attempts > 0 && job.error !== null;
}

/**
 * `job`, as its holder had it while it ran, as its completion with `result` at
 * `finishedAt` (epoch ms) stored it: `completed`, the lease released, `undefined` stored as
 * `null`. What a runner hands on after a batched completion instead of reading the row back;
 * `result` is the handler's value itself (stored as its JSON), and progress and heartbeat are
 * as the holder last saw them.
 */
export function jobAsCompleted(job: Job, result: unknown, finishedAt: number): Job {
  return {
    ...job,
    status: 'completed',
    result: result === undefined ? null : result,
    leaseId: null,
    cancelRequested: false,
    finishedAt,
    updatedAt: finishedAt,
  };
}
