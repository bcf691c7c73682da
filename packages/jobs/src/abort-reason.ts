import type { LeaseRef } from '@flowmonkey/core';
import { CancelledError, JobTimeoutError, LeaseLostError } from '@flowmonkey/core';

/** Why a running handler was aborted. */
export type AbortCause = 'cancel' | 'timeout' | 'shutdown' | 'lease-lost';

/**
 * The error a handler's signal is aborted with for `cause`, for the job and lease of
 * `lease`: a `JobTimeoutError` naming `timeoutMs` (the attempt's limit, in ms), a
 * `LeaseLostError` naming the lease, or a `CancelledError` (with details
 * `{ shutdown: true }` when the runner is shutting down).
 */
export function abortReason(cause: AbortCause, lease: LeaseRef, timeoutMs: number): Error {
  switch (cause) {
    case 'timeout':
      return new JobTimeoutError(lease.jobId, timeoutMs);
    case 'lease-lost':
      return new LeaseLostError(lease.jobId, lease.leaseId);
    case 'cancel':
      return new CancelledError(`job "${lease.jobId}" was cancelled`);
    case 'shutdown':
      return new CancelledError(`job "${lease.jobId}" aborted: runner shutting down`, {
        details: { shutdown: true },
      });
  }
}
