import type { Job, JobStore, Logger } from '@flowmonkey/core';

/**
 * Gives claimed jobs back untouched, in parallel: `pending` again with the attempt refunded
 * and the same `runAt`. A job whose release fails is logged (the reaper takes it back once
 * its lease lapses). Returns how many were released.
 */
export async function releaseClaimed(
  jobStore: JobStore,
  jobs: readonly Job[],
  logger: Logger,
): Promise<number> {
  const results = await Promise.allSettled(
    jobs.map((job) =>
      job.leaseId === null
        ? Promise.resolve(undefined)
        : jobStore.release({ jobId: job.id, leaseId: job.leaseId, runAt: job.runAt }),
    ),
  );
  let released = 0;
  results.forEach((result, i) => {
    if (result.status === 'fulfilled') {
      if (result.value !== undefined) released++;
      return;
    }
    logger.error({ err: result.reason, jobId: jobs[i]?.id }, 'could not release claimed job');
  });
  return released;
}
