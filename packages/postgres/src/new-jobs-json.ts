import type { NormalizedNewJob } from '@flowmonkey/core';

/**
 * Serialises validated jobs as the JSON array `jsonb_to_recordset` reads in `createMany`
 * (`ord` keeps input order). Each input is spliced in as the JSON text validation already
 * produced, so a large payload is not serialised twice. `runAt` is left out where
 * `defaultRunAt[i]` is true, so the database clock supplies it.
 */
export function newJobsJson(
  jobs: readonly NormalizedNewJob[],
  defaultRunAt: readonly boolean[],
): string {
  const parts = jobs.map((job, ord) => newJobJson(job, ord, defaultRunAt[ord] === true));
  return `[${parts.join(',')}]`;
}

/** Serialises one validated job as a JSON object for `jsonb_to_record(set)`. */
export function newJobJson(job: NormalizedNewJob, ord: number, defaultRunAt: boolean): string {
  const meta = JSON.stringify({
    ord,
    id: job.id,
    queue: job.queue,
    handler: job.handler,
    execution_id: job.executionId,
    step_id: job.stepId,
    priority: job.priority,
    run_at: defaultRunAt ? null : new Date(job.runAt).toISOString(),
    max_attempts: job.maxAttempts,
    timeout_ms: job.timeoutMs,
    retry: job.retry,
    idempotency_key: job.idempotencyKey,
    correlation_id: job.correlationId,
  });
  return `${meta.slice(0, -1)},"input":${job.inputJson}}`;
}
