import type { Clock } from '../clock.js';
import type { EventBus } from '../events.js';
import type { Execution } from '../execution.js';
import type { Flow, FlowStep } from '../flow.js';
import type { StepHandler } from '../handler.js';
import type { HandlerRegistry } from '../handler-registry.js';
import type { Job, LeaseRef } from '../job.js';
import type { Logger } from '../logger.js';
import type { ErrorInfo } from '../result.js';
import type { RunnerJobEvent } from '../stores/job-store.js';
import type { Stores } from '../stores/stores.js';

/** Options of the {@link Engine} constructor. Only `stores` is required. */
export interface EngineOptions {
  /** Where executions and jobs live (in-memory or Postgres). */
  stores: Stores;
  /** Handlers to register, or a registry to share (e.g. with a job runner). @default none */
  handlers?: StepHandler[] | HandlerRegistry;
  /** Flows to register; their handler types must be registered. @default none */
  flows?: Flow[];
  /** Source of timestamps written by the engine. @default systemClock */
  clock?: Clock;
  /** Where lifecycle events go. @default a new EventBus */
  events?: EventBus;
  /**
   * Where the engine logs, e.g. errors of the inline steps that follow a committed
   * settlement. A pino logger fits as is. @default noopLogger (nothing is logged)
   */
  logger?: Logger;
  /**
   * Steps an execution may start before it fails with `STEP_LIMIT_EXCEEDED`, for flows
   * that set no `maxSteps` of their own (a flow's `maxSteps` overrides). @default 1000
   */
  maxSteps?: number;
  /**
   * Largest `input` of `start`, step output and whole execution context (which holds every
   * step's output), in UTF-8 bytes of JSON. A step whose output would make the context
   * larger fails with `VALIDATION_ERROR` naming `context.<outputKey>`. Use the same limit
   * as the stores. @default 1 MiB
   */
  maxPayloadBytes?: number;
}

/** Options of `Engine.start`. */
export interface StartOptions {
  /** A second start of the same flow with the same key returns the first execution, unrun. */
  idempotencyKey?: string;
  /**
   * The tenant the execution belongs to, stored as `execution.tenantId` so executions can
   * be listed per tenant (`ExecutionStore.list({ tenantId })`). The engine itself does not
   * interpret it. At most 255 characters. @default null (no tenant)
   */
  tenantId?: string;
  /**
   * The id of the execution that started this one (e.g. a sub-flow), stored as
   * `execution.parentExecutionId` for tracing. Not checked and not interpreted by the
   * engine: the parent is not resumed when this execution ends. @default null
   */
  parentExecutionId?: string;
  /** Flow version to run. @default the highest registered */
  version?: number;
}

/**
 * How a parked step ended, as given to `Engine.resume`: a `success` with the step's output
 * (stored in the context under the step's `outputKey`, then `onSuccess`), a `failure` with
 * its error, or `cancelled` with a reason (both take the step's `onFailure`, or fail the
 * execution).
 */
export type StepOutcome =
  | { kind: 'success'; output: unknown }
  | { kind: 'failure'; error: ErrorInfo }
  | { kind: 'cancelled'; reason: string };

/** Parameters of `Engine.resume`. */
export interface ResumeParams {
  /** The step the execution must be waiting in. */
  stepId: string;
  /**
   * The job the execution must be waiting on (`null`: a wait without a job). Omitted: any
   * wait in `stepId` matches, whatever its job.
   */
  jobId?: string | null;
  /** How the step ended. A success's output must be JSON within `maxPayloadBytes`. */
  outcome: StepOutcome;
}

/** What `Engine.resume` did. */
export interface ResumeResult {
  /** True when this call moved the execution on; false when it changed nothing. */
  resumed: boolean;
  /** Why nothing changed, e.g. `'not waiting on this step/job'`. */
  reason?: string;
  /** The execution after the resume and the inline steps that followed it. */
  execution: Execution;
}

/** What a job settlement (`completeJob`, `failJob`, ...) did. */
export interface JobSettlement {
  /** The job as written. */
  job: Job;
  /**
   * The parent execution after any inline continuation; absent for plain jobs. When an
   * inline step after the commit failed to run, it is the execution as last stored
   * (`running`, for `Engine.recoverStale`).
   */
  execution?: Execution;
  /** True when the parent execution was resumed by this settlement. */
  resumed: boolean;
}

/**
 * What `Engine.completeJobs` did for one input item, at the item's position: `ok: true`
 * with the {@link JobSettlement} `completeJob` would have returned, or `ok: false` with
 * the error `completeJob` would have thrown, in which case nothing was written for the item:
 * `LeaseLostError` when its lease was no longer held, or the error of its own unit of work
 * when the batch fell back to settling item by item (e.g. a `ValidationError` for a result
 * the store refuses, a `NotFoundError` for a flow this process does not know).
 */
export type JobBatchSettlement =
  | { ok: true; settlement: JobSettlement }
  | { ok: false; error: Error };

/**
 * One item of `Engine.completeJobs`: the job's lease, its handler's `result` and, from a
 * holder that has it, `job`: the job as it was claimed (its id must be `jobId`). When every
 * item carries its `job`, the completed jobs are not read back whole from the store but
 * built from these (`jobAsCompleted`: the result as the handler returned it, the time the
 * store wrote), as a runner reports its plain completions.
 */
export type CompleteJobItem = LeaseRef & { result: unknown; job?: Job };

/** Options of `Engine.completeJobs`. */
export interface CompleteJobsOptions {
  /**
   * Runner-observed events (e.g. the `started` rows of the same attempts) appended to the
   * job history before the completions, in the same unit of work (see
   * `JobStore.completeMany`). Checked first: a bad one is a `ValidationError` naming
   * `events[i].<field>` and nothing is written. @default none
   */
  events?: readonly RunnerJobEvent[];
  /**
   * The parent executions as the caller last read them from the store (e.g. the
   * `execution` of each `describeJobs` entry), to save reading them again inside the unit
   * of work. Safe even when stale: every resume is written fenced by the version seen, so a
   * parent that moved on since is re-read and decided again, and one that looks not
   * resumable is re-read before it is left alone. Entries that are no parent of an item
   * are ignored. With every item's `job` and every parent here, the batch can be written
   * in one store call (see `Engine.completeJobs`). @default none (every parent is read)
   */
  executions?: readonly Execution[];
}

/** What a runner needs to call a stateful step's handler: see `Engine.describeJob`. */
export interface JobDescription {
  /** The execution waiting on the job, as stored when the job was described. */
  execution: Execution;
  /** The flow step the job runs (its `config`, `type` and transitions). */
  step: FlowStep;
  /** The flow, at the version the execution runs. */
  flow: Flow;
}
