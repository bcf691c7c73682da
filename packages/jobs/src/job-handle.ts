import {
  isRetrying,
  type Job,
  type JobError,
  type JobProgress,
  type JobStatus,
  type JobStore,
  NotFoundError,
  TERMINAL_JOB_STATUSES,
  ValidationError,
} from '@flowmonkey/core';
import { JobFailedError } from './job-failed-error.js';
import { JobWaitTimeoutError } from './job-wait-timeout-error.js';

/** What {@link JobHandle.status} reports. */
export interface JobStatusInfo {
  id: string;
  status: JobStatus;
  /** Attempts started so far. */
  attempts: number;
  maxAttempts: number;
  /** The last progress a handler reported, or `null`. */
  progress: JobProgress | null;
  /** The last error (of a failed attempt, or the final one), or `null`. */
  error: JobError | null;
  /** True while the job waits for its next attempt after a failed one. */
  retrying: boolean;
  /** Epoch ms before which the job is not claimed (its next attempt's time while retrying). */
  runAt: number;
  /** Epoch ms the job finished, or `null`. */
  finishedAt: number | null;
}

/** Options of {@link JobHandle.wait}. */
export interface WaitOptions {
  /** Give up after this many ms with a `JobWaitTimeoutError` (the job keeps going). @default 30_000 */
  timeoutMs?: number;
  /** Pause between two reads of the job, in ms. @default 100 */
  pollIntervalMs?: number;
  /** Stops waiting early; `wait()` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A reference to one enqueued job, returned by `Job.later()`. `T` is the job's result type
 * (the output schema's output). Every method reads the store: a handle is cheap to
 * recreate from an id (`Job.handle(id)`), in another process too.
 */
export class JobHandle<T = unknown> {
  /** The job's id. */
  readonly id: string;
  readonly #jobStore: JobStore;
  readonly #parseResult: (raw: unknown) => Promise<T>;

  /**
   * @param id the job's id.
   * @param jobStore where the job lives.
   * @param parseResult turns the stored result into `T` (validates it with the output schema).
   */
  constructor(id: string, jobStore: JobStore, parseResult: (raw: unknown) => Promise<T>) {
    this.id = id;
    this.#jobStore = jobStore;
    this.#parseResult = parseResult;
  }

  /** The job's status, attempts, progress and last error. Throws `NotFoundError` when it is gone. */
  async status(): Promise<JobStatusInfo> {
    const job = await this.#read();
    return {
      id: job.id,
      status: job.status,
      attempts: job.attempts,
      maxAttempts: job.maxAttempts,
      progress: job.progress,
      error: job.error,
      retrying: isRetrying(job),
      runAt: job.runAt,
      finishedAt: job.finishedAt,
    };
  }

  /** True once the job is `completed`, `failed` or `cancelled`. */
  async isDone(): Promise<boolean> {
    return TERMINAL_JOB_STATUSES.includes((await this.#read()).status);
  }

  /**
   * Requests cancellation: a pending job is cancelled at once, a running one is aborted by
   * its runner; a finished job is left as it is. Returns the status after the request.
   */
  async cancel(reason?: string): Promise<JobStatusInfo> {
    await this.#jobStore.cancel(
      reason === undefined ? { jobId: this.id } : { jobId: this.id, reason },
    );
    return this.status();
  }

  /**
   * Waits for the job to finish, reading it every `pollIntervalMs`. Resolves with the typed
   * result of a completed job; rejects with {@link JobFailedError} (code = the job's error
   * code) when it failed or was cancelled, with {@link JobWaitTimeoutError} after
   * `timeoutMs`, and with a `ValidationError` (field `result`) when the stored result does
   * not pass the output schema. `timeoutMs: 0` checks once.
   */
  async wait(options: WaitOptions = {}): Promise<T> {
    const timeoutMs = checkMs(options.timeoutMs, 'timeoutMs', 30_000);
    const pollIntervalMs = checkMs(options.pollIntervalMs, 'pollIntervalMs', 100);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      options.signal?.throwIfAborted();
      const job = await this.#read();
      if (job.status === 'completed') return this.#parseResult(job.result);
      if (job.status === 'failed' || job.status === 'cancelled') throw new JobFailedError(job);
      const left = deadline - Date.now();
      if (left <= 0) throw new JobWaitTimeoutError(this.id, timeoutMs, job.status);
      await pause(Math.min(pollIntervalMs, left), options.signal);
    }
  }

  async #read(): Promise<Job> {
    const job = await this.#jobStore.get(this.id);
    if (job === undefined) throw new NotFoundError('job', this.id);
    return job;
  }
}

function checkMs(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(field, 'must be a finite number of ms >= 0');
  }
  return value;
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted(): void {
      clearTimeout(timer);
      reject(signal?.reason);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
