import type { Job } from './job.js';
import type { NormalizedNewJob } from './validation.js';

/**
 * The job a store keeps for the validated new job `job`, built from it instead of read
 * back: pending, never attempted, its input parsed from `job.inputJson` and its retry
 * policy copied (fresh objects, equal as values to what a read gives), with the times the
 * store chose, `runAt` and `createdAt` (epoch ms; `updatedAt` is `createdAt`).
 */
export function newJobAsStored(
  job: NormalizedNewJob,
  times: { runAt: number; createdAt: number },
): Job {
  return {
    id: job.id,
    queue: job.queue,
    handler: job.handler,
    executionId: job.executionId,
    stepId: job.stepId,
    status: 'pending',
    input: JSON.parse(job.inputJson),
    result: null,
    error: null,
    priority: job.priority,
    runAt: times.runAt,
    attempts: 0,
    maxAttempts: job.maxAttempts,
    timeoutMs: job.timeoutMs,
    retry: job.retry === null ? null : { ...job.retry },
    leaseId: null,
    runnerId: null,
    heartbeatAt: null,
    progress: null,
    idempotencyKey: job.idempotencyKey,
    correlationId: job.correlationId,
    cancelRequested: false,
    createdAt: times.createdAt,
    updatedAt: times.createdAt,
    startedAt: null,
    finishedAt: null,
  };
}
