import {
  CancelledError,
  type Job,
  type JobStore,
  JobTimeoutError,
  type LeaseRef,
  type Logger,
  toErrorInfo,
} from '@flowmonkey/core';
import type { TypedJobContext } from './define-job.js';

/** What {@link runInProcess} needs to run one attempt of a typed job in this process. */
export interface InProcessAttempt<T> {
  /** Calls the handler with a context and returns its (already validated) result. */
  invoke: (context: TypedJobContext) => Promise<T>;
  /** The claimed job row when the run is recorded; `null` runs without a row. */
  job: Job | null;
  jobStore: JobStore | undefined;
  logger: Logger;
  /** Per-attempt limit in ms; `undefined` for none. */
  timeoutMs: number | undefined;
  /** Aborts the run (the handler's signal aborts with this signal's reason). */
  signal: AbortSignal | undefined;
}

/**
 * Runs one attempt in this process: builds the handler context (progress and heartbeat
 * write to the job row under its lease when there is one), enforces `timeoutMs` and the
 * caller's `signal` by aborting the handler's signal (a handler that ignores it is not
 * awaited further), and with a job row records the outcome: `completed` with the result,
 * or `failed` for good with the error (no retry: the caller is waiting). Resolves with the
 * result or rejects with the original error.
 */
export async function runInProcess<T>(attempt: InProcessAttempt<T>): Promise<T> {
  const { job, jobStore } = attempt;
  const controller = new AbortController();
  const lease: LeaseRef | null =
    job?.leaseId === null || job === null ? null : { jobId: job.id, leaseId: job.leaseId };
  const stopAborts = linkAborts(controller, attempt.signal, attempt.timeoutMs, job?.id ?? 'now');
  const context: TypedJobContext = {
    job,
    jobId: job?.id ?? null,
    attempt: job?.attempts ?? 1,
    signal: controller.signal,
    log: job === null ? attempt.logger : attempt.logger.child({ jobId: job.id }),
    executionId: null,
    stepId: null,
    heartbeat: async () => {
      if (lease !== null && jobStore !== undefined) await jobStore.heartbeat(lease);
    },
    progress: async (percent, message) => {
      if (lease === null || jobStore === undefined) return;
      await jobStore.progress(
        message === undefined ? { ...lease, percent } : { ...lease, percent, message },
      );
    },
  };
  let result: T;
  try {
    result = await Promise.race([attempt.invoke(context), rejectOnAbort(controller.signal)]);
  } catch (error) {
    if (lease !== null && jobStore !== undefined) {
      await jobStore.fail({ ...lease, error: toErrorInfo(error), retryAt: null });
    }
    throw error;
  } finally {
    stopAborts();
  }
  if (lease !== null && jobStore !== undefined) await jobStore.complete({ ...lease, result });
  return result;
}

/** Aborts `controller` when `signal` aborts or `timeoutMs` passes; returns the cleanup. */
function linkAborts(
  controller: AbortController,
  signal: AbortSignal | undefined,
  timeoutMs: number | undefined,
  jobId: string,
): () => void {
  const onAbort = () =>
    controller.abort(signal?.reason ?? new CancelledError(`job "${jobId}" was cancelled`));
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => controller.abort(new JobTimeoutError(jobId, timeoutMs)), timeoutMs);
  timer?.unref();
  return () => {
    signal?.removeEventListener('abort', onAbort);
    if (timer !== undefined) clearTimeout(timer);
  };
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
