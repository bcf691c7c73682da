import {
  ConfigError,
  type Job,
  MAX_PRIORITY,
  MAX_TEXT_LENGTH,
  MAX_TIMEOUT_MS,
  MIN_PRIORITY,
  QUEUE_NAME_PATTERN,
  type RetryPolicy,
} from '@flowmonkey/core';
import { resolveRetryPolicy } from './compute-retry-delay.js';
import type { JobHandlerContext } from './job-handler.js';
import { checkNumber } from './option-checks.js';
import { isStandardSchema, type StandardSchemaV1 } from './standard-schema.js';
import { TypedJob } from './typed-job.js';

/** The type a schema accepts (what callers pass in). */
export type SchemaInput<S extends StandardSchemaV1> = StandardSchemaV1.InferInput<S>;
/** The type a schema produces (what the handler, or a result reader, gets). */
export type SchemaOutput<S extends StandardSchemaV1> = StandardSchemaV1.InferOutput<S>;

/**
 * What a typed job's handler receives next to its input: the runner's context, with `job`
 * and `jobId` `null` when it runs in-process through `Job.now()` without `persist` (there is
 * no job row then, and `progress()` / `heartbeat()` do nothing).
 */
export interface TypedJobContext extends Omit<JobHandlerContext, 'job'> {
  job: Readonly<Job> | null;
  jobId: string | null;
}

/** A typed job's handler: the input schema's output in, the output schema's input out. */
export type TypedJobHandler<I extends StandardSchemaV1, O extends StandardSchemaV1> = (
  input: SchemaOutput<I>,
  context: TypedJobContext,
) => Promise<SchemaInput<O>>;

/** What {@link defineJob} takes. `name`, `input`, `output` and `handler` are required. */
export interface JobDefinition<I extends StandardSchemaV1, O extends StandardSchemaV1> {
  /** The job type: the handler name rows are stored under (1..255 characters). */
  name: string;
  /** Standard Schema v1 validator of the input (zod 4, valibot, arktype...). */
  input: I;
  /** Standard Schema v1 validator of the result. */
  output: O;
  /** Does the work; resolves with the result, throws to fail the attempt. */
  handler: TypedJobHandler<I, O>;
  /** Retry policy of this job type. @default the runner's `defaultRetry` */
  retry?: RetryPolicy;
  /** Per-attempt time limit in ms. @default none */
  timeoutMs?: number;
  /** Priority of enqueued jobs, -1000..1000 (higher first). @default 0 */
  priority?: number;
  /** Attempts each job gets. @default 3 */
  maxAttempts?: number;
  /** Queue enqueued jobs go to. @default 'default' */
  queue?: string;
  /** Decides whether a thrown error may be retried (`NonRetryableError` never is). @default all */
  isRetryable?: (error: unknown) => boolean;
}

/**
 * Defines a typed job from two Standard Schema validators and a handler. Types flow from
 * the schemas: `later(input)` and `now(input)` take the input schema's input type, the
 * handler gets its output type, and results (`now`, `batch`, `JobHandle.wait`) have the
 * output schema's output type. The input is validated when enqueued and again when claimed
 * (a stored input that no longer passes fails the job without retry, code
 * `VALIDATION_ERROR`); the handler's return value is validated before it is stored (a bad
 * one fails the attempt with a `ValidationError`, retried by policy). Register the job with
 * a `JobRegistry` to enqueue it and to run it on a `BasicJobRunner`. Throws `ConfigError`
 * naming the field for a bad definition.
 */
export function defineJob<I extends StandardSchemaV1, O extends StandardSchemaV1>(
  definition: JobDefinition<I, O>,
): TypedJob<I, O> {
  return new TypedJob(checkDefinition(definition));
}

function checkDefinition<I extends StandardSchemaV1, O extends StandardSchemaV1>(
  d: JobDefinition<I, O>,
): Readonly<JobDefinition<I, O>> {
  if (typeof d?.name !== 'string' || d.name.length === 0 || d.name.length > MAX_TEXT_LENGTH) {
    throw new ConfigError('name', `must be a string of 1 to ${MAX_TEXT_LENGTH} characters`);
  }
  for (const field of ['input', 'output'] as const) {
    if (!isStandardSchema(d[field])) {
      throw new ConfigError(field, 'must be a Standard Schema v1 validator (zod 4, valibot...)');
    }
  }
  if (typeof d.handler !== 'function') throw new ConfigError('handler', 'must be a function');
  if (d.queue !== undefined && !QUEUE_NAME_PATTERN.test(d.queue)) {
    throw new ConfigError('queue', `must match ${QUEUE_NAME_PATTERN}`);
  }
  if (d.timeoutMs !== undefined) {
    checkNumber('timeoutMs', d.timeoutMs, { fallback: 0, min: 1, int: true });
    if (d.timeoutMs > MAX_TIMEOUT_MS) throw new ConfigError('timeoutMs', 'is too large');
  }
  if (d.maxAttempts !== undefined) {
    checkNumber('maxAttempts', d.maxAttempts, { fallback: 1, min: 1, int: true });
  }
  if (d.priority !== undefined) {
    checkNumber('priority', d.priority, { fallback: 0, min: MIN_PRIORITY, int: true });
    if (d.priority > MAX_PRIORITY) {
      throw new ConfigError('priority', `must be at most ${MAX_PRIORITY}`);
    }
  }
  if (d.retry !== undefined) resolveRetryPolicy(d.retry);
  if (d.isRetryable !== undefined && typeof d.isRetryable !== 'function') {
    throw new ConfigError('isRetryable', 'must be a function');
  }
  return Object.freeze({ ...d });
}
