import { FlowMonkeyError } from '@flowmonkey/core';

/**
 * `JobHandle.wait()` gave up: the job had not finished within `timeoutMs`. The job itself is
 * untouched and may still finish; call `wait()` again or `cancel()` it. Code `JOB_WAIT_TIMEOUT`.
 */
export class JobWaitTimeoutError extends FlowMonkeyError {
  readonly jobId: string;
  readonly timeoutMs: number;

  constructor(jobId: string, timeoutMs: number, lastStatus: string) {
    super(
      'JOB_WAIT_TIMEOUT',
      `job "${jobId}" did not finish within ${timeoutMs} ms (still ${lastStatus})`,
      { details: { jobId, timeoutMs, lastStatus } },
    );
    this.jobId = jobId;
    this.timeoutMs = timeoutMs;
  }
}
