import type { EventBus, Job, LeaseRef } from '@flowmonkey/core';
import type { JobWriteBatcher } from './job-write-batcher.js';

/** A claim whose lease this runner found gone: the job as claimed, and the lease it held. */
export interface LostClaim {
  job: Job;
  lease: LeaseRef;
}

/**
 * Makes a lost lease visible to operators: emits `job:lease-lost` with the job as claimed,
 * and queues the job's `lease-lost` history row (data `{ runnerId }`, best effort, written
 * with the runner's next batch). Called once per lost lease, whether the job's handler was
 * running (its attempt is aborted or its write refused) or the job was still waiting in the
 * prefetch buffer (it is never started).
 */
export function reportLeaseLost(
  deps: { events: EventBus; batcher: JobWriteBatcher },
  { job, lease }: LostClaim,
): void {
  deps.events.emit('job:lease-lost', { job });
  deps.batcher.record({
    jobId: lease.jobId,
    leaseId: lease.leaseId,
    kind: 'lease-lost',
    attempt: job.attempts,
    data: { runnerId: job.runnerId },
  });
}
