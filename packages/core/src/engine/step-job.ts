import type { Execution } from '../execution.js';
import type { FlowStep } from '../flow.js';
import type { StepHandler } from '../handler.js';
import { DEFAULT_MAX_ATTEMPTS, type NewJob } from '../job.js';

/**
 * The job a stateful step runs as. Queue, priority, attempts, timeout and retry policy come
 * from the step, then the handler's metadata, then the defaults. The idempotency key
 * `${executionId}:${stepId}:${visit}` makes a re-run of the same visit (after a crash or a
 * lost race) return the job already created instead of a second one.
 */
export function buildStepJob(
  execution: Execution,
  step: FlowStep,
  handler: StepHandler,
  input: unknown,
  visit: number,
): NewJob {
  const meta = handler.metadata;
  return {
    handler: step.type,
    queue: step.queue,
    executionId: execution.id,
    stepId: step.id,
    input,
    priority: step.priority,
    maxAttempts: step.maxAttempts ?? meta.defaultMaxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    timeoutMs: step.timeoutMs ?? meta.timeoutMs ?? null,
    retry: step.retry ?? meta.retry ?? null,
    idempotencyKey: `${execution.id}:${step.id}:${visit}`,
    correlationId: execution.id,
  };
}
