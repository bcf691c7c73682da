import {
  type ErrorInfo,
  type Execution,
  type Job,
  type JobStore,
  jobAsCompleted,
  type RunnerJobEvent,
} from '@flowmonkey/core';
import type { JobEngine } from './job-engine.js';
import type { JobWriteBatcher } from './job-write-batcher.js';

/**
 * Writes a job's outcome under its lease. Jobs of an execution go through the engine
 * (job write and parent resume in one transaction); plain background jobs, or every job
 * when there is no engine, go straight to the job store. Every method throws
 * `LeaseLostError` when the lease is gone, and then nothing changed.
 */
export interface JobSettler {
  /**
   * `after`: waits for the attempt's earlier writes (its `started` event) that the
   * completion must follow in the job's history; called first, unless the completion is a
   * plain job's through the batcher, whose queue keeps their order by itself.
   * `execution`: the parent as last read (its description), which a batched settlement
   * need not read again. `events`: the attempt's history rows not written yet (its
   * `started` row, taken from the batcher, so only a settler with one gets any), written
   * before the completion: in its statement when the batcher completes it, else just
   * before it.
   */
  complete(job: Job, result: unknown, options?: CompleteOptions): Promise<Job>;
  /**
   * `retryDelayMs`: ms from the store's now (database time) until the retry, or `null`
   * for no retry; the store computes the time, so a skewed process clock shifts nothing.
   */
  fail(job: Job, error: ErrorInfo, retryDelayMs: number | null): Promise<Job>;
  confirmCancel(job: Job, reason: string): Promise<Job>;
  /**
   * `stall` (optional): the reaper's `stalledThresholdMs` and `now`, so a job whose runner
   * heartbeated since it was seen is not taken (`LeaseLostError`).
   */
  resetStalled(
    job: Job,
    error: ErrorInfo,
    stall?: { stalledThresholdMs: number; now?: number },
  ): Promise<Job>;
}

/** Options of {@link JobSettler.complete}. */
export interface CompleteOptions {
  after?: () => Promise<unknown>;
  execution?: Execution;
  events?: readonly RunnerJobEvent[];
}

/** The job and lease a write is fenced by; a job that holds no lease is a bug of the caller. */
function ref(job: Job): { jobId: string; leaseId: string } {
  if (job.leaseId === null) throw new TypeError(`job "${job.id}" holds no lease`);
  return { jobId: job.id, leaseId: job.leaseId };
}

/**
 * Builds the {@link JobSettler} for a store and an optional engine. Completions go through
 * `batcher` when given (a runner's): plain jobs with the queued history rows, step jobs
 * through the engine's `completeJobs` when it has it; else straight to the store or engine.
 */
export function createJobSettler(
  jobStore: JobStore,
  engine: JobEngine | undefined,
  batcher?: JobWriteBatcher,
): JobSettler {
  const viaEngine = (job: Job): JobEngine | undefined =>
    job.executionId === null ? undefined : engine;
  /** Queues `events` through the batcher they were taken from and waits until written. */
  const recordFirst = async (events: readonly RunnerJobEvent[]): Promise<void> => {
    if (events.length === 0 || batcher === undefined) return;
    let seq = 0;
    for (const event of events) seq = batcher.record(event);
    await batcher.writtenThrough(seq);
  };
  const completeElsewhere = async (
    job: Job,
    result: unknown,
    e: JobEngine | undefined,
    { after, execution, events = [] }: CompleteOptions,
  ): Promise<Job> => {
    if (after !== undefined) await after();
    if (e !== undefined && batcher?.batchesSteps === true) {
      return (await batcher.completeStep({ ...ref(job), result, job }, execution, events)).job;
    }
    await recordFirst(events);
    if (e !== undefined) return (await e.completeJob({ ...ref(job), result })).job;
    return jobStore.complete({ ...ref(job), result });
  };
  return {
    complete(job, result, options = {}) {
      const e = viaEngine(job);
      if (e !== undefined || batcher === undefined) {
        return completeElsewhere(job, result, e, options);
      }
      // A plain completion shares its queue with the attempt's events, which keeps their
      // order: no wait for them. Not an async function: the most common outcome of all.
      try {
        const item = { ...ref(job), result };
        return batcher.complete(item, options.events).then((at) => jobAsCompleted(job, result, at));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    async fail(job, error, retryDelayMs) {
      const e = viaEngine(job);
      if (e !== undefined) return (await e.failJob({ ...ref(job), error, retryDelayMs })).job;
      return jobStore.fail({ ...ref(job), error, retryDelayMs });
    },
    async confirmCancel(job, reason) {
      const e = viaEngine(job);
      if (e !== undefined) return (await e.confirmJobCancel({ ...ref(job), reason })).job;
      return jobStore.confirmCancel({ ...ref(job), reason });
    },
    async resetStalled(job, error, stall) {
      const e = viaEngine(job);
      if (e !== undefined) return (await e.resetStalledJob({ ...ref(job), ...stall, error })).job;
      return jobStore.resetStalled({ ...ref(job), ...stall, error });
    },
  };
}
