import type { Job, RetryPolicy } from '@flowmonkey/core';
import { computeRetryDelay } from './compute-retry-delay.js';

/**
 * Decides when a failed attempt of `job` runs again: `now + computeRetryDelay(policy,
 * job.attempts)` when the error is `retryable` and attempts remain
 * (`job.attempts < job.maxAttempts`, attempts counting the one that just failed), else
 * `null` (the job fails for good). Times are epoch ms.
 */
export function planRetry(params: {
  job: Pick<Job, 'attempts' | 'maxAttempts'>;
  retryable: boolean;
  policy: RetryPolicy;
  now: number;
  random?: () => number;
}): number | null {
  const { job, retryable, policy, now, random } = params;
  if (!retryable || job.attempts >= job.maxAttempts) return null;
  return now + computeRetryDelay(policy, job.attempts, random);
}
