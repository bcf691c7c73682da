import {
  type Clock,
  ConfigError,
  type JobStore,
  type Logger,
  MAX_TIMESTAMP_MS,
  type NewJob,
  NonRetryableError,
  NotFoundError,
  noopLogger,
  systemClock,
  ValidationError,
} from '@flowmonkey/core';
import { AttemptContext } from './attempt-context.js';
import type { JobDefinition, SchemaInput, SchemaOutput, TypedJobContext } from './define-job.js';
import { JobHandle } from './job-handle.js';
import type { JobHandlerContext, JobHandlerFunction, JobHandlerOptions } from './job-handler.js';
import { type BatchItemResult, runBatch } from './run-batch.js';
import { runInProcess } from './run-in-process.js';
import { type StandardSchemaV1, validateWithSchema } from './standard-schema.js';

/** Where a registered job enqueues and records runs; set by `JobRegistry.register`. */
export interface JobBinding {
  jobStore: JobStore | undefined;
  logger: Logger;
  clock: Clock;
  /** Written as `runnerId` on rows of in-process runs (`now` with `persist`). */
  runnerId: string;
}

/** Options of {@link TypedJob.later}. `delayMs` and `runAt` exclude each other. */
export interface LaterOptions {
  /** Run no sooner than this many ms from now (>= 0). @default 0 */
  delayMs?: number;
  /** Run no sooner than this time (epoch ms or Date). @default now */
  runAt?: number | Date;
  /** -1000..1000, higher first. @default the definition's, else 0 */
  priority?: number;
  /** A second `later` with the same key returns a handle to the first job. */
  idempotencyKey?: string;
  /** Free-form id tying related jobs together (a request id, an order id). */
  correlationId?: string;
}

/** Options of {@link TypedJob.now}. */
export interface NowOptions {
  /** Record the run as a job row (`completed` or `failed`), progress included. @default false */
  persist?: boolean;
  /** Aborts the handler's signal; `now` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** Options of {@link TypedJob.batch}. */
export interface BatchOptions extends NowOptions {
  /** Most items running at once. @default 3 */
  concurrency?: number;
  /** After the first failure start no more items and abort those in flight. @default false */
  stopOnError?: boolean;
}

/** Far enough ahead that no runner claims an in-process run's row before it is claimed by id. */
const NEVER_DUE = MAX_TIMESTAMP_MS - 1;

/**
 * A job type defined by {@link defineJob}: `later` enqueues, `now` and `batch` run in this
 * process, `handle(id)` refers to an enqueued job, and `executeFromDatabase(id)` runs one
 * pending row here. `I` and `O` are the input and output schemas.
 */
export class TypedJob<I extends StandardSchemaV1, O extends StandardSchemaV1> {
  /** The definition, frozen. */
  readonly definition: Readonly<JobDefinition<I, O>>;
  #binding: JobBinding | undefined;

  /** Use {@link defineJob}, which checks the definition first. */
  constructor(definition: Readonly<JobDefinition<I, O>>) {
    this.definition = definition;
  }

  /** The job type, as stored in `job.handler`. */
  get name(): string {
    return this.definition.name;
  }

  /**
   * Binds the job to a store; called by `JobRegistry.register`. A job registered with a
   * second registry enqueues through the last one.
   */
  bindTo(binding: JobBinding): void {
    this.#binding = binding;
  }

  /**
   * Validates `input` and enqueues a job, returning its handle. A bad input rejects with a
   * `ValidationError` (field `input...`, `details.issues` from the schema) and nothing is
   * stored. Needs the job registered with a registry that has a `jobStore`.
   */
  async later(
    input: SchemaInput<I>,
    options: LaterOptions = {},
  ): Promise<JobHandle<SchemaOutput<O>>> {
    const jobStore = this.#store('later');
    await validateWithSchema(this.definition.input, input, 'input');
    const job = await jobStore.create(this.#newJob(input, options));
    return this.handle(job.id);
  }

  /** A handle to an existing job of this type, by id (no store read until used). */
  handle(jobId: string): JobHandle<SchemaOutput<O>> {
    return new JobHandle(jobId, this.#store('handle'), (raw) =>
      validateWithSchema(this.definition.output, raw, 'result'),
    );
  }

  /**
   * Runs the job in this process now and resolves with its typed result, or rejects with
   * what it threw (a `ValidationError` for a bad input or output). One attempt, no retry.
   * With `persist: true` the run is recorded as a job row (created, claimed by id, then
   * `completed` or `failed`), so it shows in listings and its progress is stored.
   */
  async now(input: SchemaInput<I>, options: NowOptions = {}): Promise<SchemaOutput<O>> {
    const parsed = await validateWithSchema(this.definition.input, input, 'input');
    const ready = async () => parsed;
    if (options.persist !== true) return this.#runHere(ready, null, options.signal);
    const jobStore = this.#store('now({ persist: true })');
    const created = await jobStore.create({ ...this.#newJob(input, {}), runAt: NEVER_DUE });
    const claimed = await jobStore.claimById({ jobId: created.id, runnerId: this.#runnerId() });
    if (claimed === undefined) throw new NotFoundError('job', created.id);
    return this.#runHere(ready, claimed, options.signal);
  }

  /**
   * Runs `inputs` through {@link now} with at most `concurrency` at once and returns one
   * result per input, in input order: `{ ok: true, value }` or `{ ok: false, error }` (see
   * `BatchItemResult`). Never rejects for an item's failure.
   */
  async batch(
    inputs: readonly SchemaInput<I>[],
    options: BatchOptions = {},
  ): Promise<BatchItemResult<SchemaOutput<O>>[]> {
    const { concurrency, stopOnError, persist, signal } = options;
    return runBatch(
      inputs,
      (input, itemSignal) =>
        this.now(
          input,
          persist === undefined ? { signal: itemSignal } : { persist, signal: itemSignal },
        ),
      {
        ...(concurrency === undefined ? {} : { concurrency }),
        ...(stopOnError === undefined ? {} : { stopOnError }),
        ...(signal === undefined ? {} : { signal }),
      },
    );
  }

  /**
   * Claims the pending job `jobId` (whatever its `runAt`) and runs it in this process,
   * recording the outcome like a runner would (but without retry). Rejects with
   * `NotFoundError` when no such pending job exists, and with the run's error otherwise.
   */
  async executeFromDatabase(
    jobId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<SchemaOutput<O>> {
    const jobStore = this.#store('executeFromDatabase');
    const claimed = await jobStore.claimById({ jobId, runnerId: this.#runnerId() });
    if (claimed === undefined) throw new NotFoundError('pending job', jobId);
    const input = () => validateStoredInput(this.definition.input, claimed.input);
    return this.#runHere(input, claimed, options.signal);
  }

  /**
   * The handler as a runner runs it: validates the stored input (a failure is not retried,
   * code `VALIDATION_ERROR`), calls the handler, validates its result (a failure throws a
   * `ValidationError`, retried by policy) and resolves with it; plus the per-type options.
   */
  toRunnerHandler(): { fn: JobHandlerFunction; options: JobHandlerOptions } {
    const d = this.definition;
    const fn: JobHandlerFunction = async (raw, context) => {
      const parsed = await validateStoredInput(d.input, raw);
      const result = await d.handler(parsed, new TypedRunnerContext(context));
      await validateWithSchema(d.output, result, 'output');
      return result;
    };
    const options: JobHandlerOptions = {};
    if (d.retry !== undefined) options.retry = d.retry;
    if (d.timeoutMs !== undefined) options.timeoutMs = d.timeoutMs;
    if (d.maxAttempts !== undefined) options.maxAttempts = d.maxAttempts;
    if (d.isRetryable !== undefined) options.isRetryable = d.isRetryable;
    return { fn, options };
  }

  async #runHere(
    input: () => Promise<SchemaOutput<I>>,
    job: Parameters<typeof runInProcess>[0]['job'],
    signal: AbortSignal | undefined,
  ): Promise<SchemaOutput<O>> {
    const d = this.definition;
    const raw = await runInProcess({
      invoke: async (context: TypedJobContext) => {
        const result = await d.handler(await input(), context);
        await validateWithSchema(d.output, result, 'output');
        return result;
      },
      job,
      jobStore: this.#binding?.jobStore,
      logger: (this.#binding?.logger ?? noopLogger).child({ handler: d.name }),
      timeoutMs: d.timeoutMs,
      signal,
    });
    return validateWithSchema(d.output, raw, 'output');
  }

  #newJob(input: unknown, options: LaterOptions): NewJob {
    const d = this.definition;
    const job: NewJob = { handler: d.name, input };
    if (d.queue !== undefined) job.queue = d.queue;
    if (d.maxAttempts !== undefined) job.maxAttempts = d.maxAttempts;
    if (d.timeoutMs !== undefined) job.timeoutMs = d.timeoutMs;
    if (d.retry !== undefined) job.retry = d.retry;
    const priority = options.priority ?? d.priority;
    if (priority !== undefined) job.priority = priority;
    if (options.idempotencyKey !== undefined) job.idempotencyKey = options.idempotencyKey;
    if (options.correlationId !== undefined) job.correlationId = options.correlationId;
    if (options.delayMs !== undefined && options.runAt !== undefined) {
      throw new ValidationError('delayMs', 'give either delayMs or runAt, not both');
    }
    if (options.delayMs !== undefined) {
      const { delayMs } = options;
      if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
        throw new ValidationError('delayMs', 'must be a finite number of ms >= 0');
      }
      job.runAt = (this.#binding?.clock ?? systemClock).now() + delayMs;
    }
    if (options.runAt !== undefined) job.runAt = options.runAt;
    return job;
  }

  #store(what: string): JobStore {
    const jobStore = this.#binding?.jobStore;
    if (jobStore === undefined) {
      throw new ConfigError(
        'jobStore',
        `job "${this.name}": ${what} needs a store; register the job with createJobRegistry({ jobStore })`,
      );
    }
    return jobStore;
  }

  #runnerId(): string {
    return this.#binding?.runnerId ?? `in-process-${process.pid}`;
  }
}

/** Validates a claimed job's stored input; a failure becomes a non-retryable error. */
async function validateStoredInput<S extends StandardSchemaV1>(
  schema: S,
  raw: unknown,
): Promise<SchemaOutput<S>> {
  try {
    return await validateWithSchema(schema, raw, 'input');
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new NonRetryableError(error.message, {
      code: 'VALIDATION_ERROR',
      cause: error,
      details: error.details,
    });
  }
}

/**
 * A runner's context as a typed job's handler sees it: the same, plus `jobId`. Delegates to
 * the runner's context instead of copying it, so its signal and logger are still made only
 * on first use.
 */
class TypedRunnerContext extends AttemptContext implements TypedJobContext {
  readonly jobId: string;

  constructor(context: JobHandlerContext) {
    super(context);
    this.jobId = context.job.id;
  }
}
