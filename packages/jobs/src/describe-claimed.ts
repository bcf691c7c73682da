import type { Job, Logger } from '@flowmonkey/core';
import type { JobEngine, JobEngineDescription } from './job-engine.js';

/**
 * Describes the step jobs of a claimed batch with one engine read (when the engine has
 * `describeJobs`), so their handlers do not each read their execution. `undefined` when
 * there is nothing to describe or the read fails (logged): each job is then described as it
 * starts.
 */
export async function describeClaimed(
  engine: JobEngine | undefined,
  jobs: readonly Job[],
  logger: Logger,
): Promise<Map<string, JobEngineDescription> | undefined> {
  if (engine?.describeJobs === undefined) return undefined;
  const steps = jobs.filter((job) => job.executionId !== null);
  if (steps.length === 0) return undefined;
  try {
    return await engine.describeJobs(steps);
  } catch (error) {
    logger.warn({ err: error }, 'could not describe the claimed step jobs');
    return undefined;
  }
}
