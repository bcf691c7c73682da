import { FlowMonkeyError, type JobError, type JobStatus } from '@flowmonkey/core';

/**
 * Thrown by `JobHandle.wait()` (and `Job.now()`) when the job ended without a result: it
 * failed for good (`status` `failed`) or was cancelled (`cancelled`). `code` is the job's own
 * error code (`VALIDATION_ERROR`, `JOB_TIMEOUT`, `CANCELLED`, a handler's `PAYMENT_DECLINED`),
 * so callers branch on it with `hasErrorCode`; `jobError` is the stored error with its
 * attempt and time, `attempts` the attempts spent.
 */
export class JobFailedError extends FlowMonkeyError {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly attempts: number;
  /** The job's last error as stored; `null` when the job ended without one recorded. */
  readonly jobError: JobError | null;

  constructor(
    job: { id: string; status: JobStatus; attempts: number; error: JobError | null },
    options: { cause?: unknown } = {},
  ) {
    const code = job.error?.code ?? (job.status === 'cancelled' ? 'CANCELLED' : 'JOB_FAILED');
    const why = job.error?.message ?? job.status;
    super(code, `job "${job.id}" ${job.status} after ${job.attempts} attempt(s): ${why}`, {
      ...options,
      details: { jobId: job.id, status: job.status, attempts: job.attempts },
    });
    this.jobId = job.id;
    this.status = job.status;
    this.attempts = job.attempts;
    this.jobError = job.error;
  }
}
