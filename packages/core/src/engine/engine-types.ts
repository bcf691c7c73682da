import type { Clock } from '../clock.js';
import type { EventBus } from '../events.js';
import type { Execution } from '../execution.js';
import type { Flow, FlowStep } from '../flow.js';
import type { StepHandler } from '../handler.js';
import type { HandlerRegistry } from '../handler-registry.js';
import type { Job } from '../job.js';
import type { Logger } from '../logger.js';
import type { ErrorInfo } from '../result.js';
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
  /** @default noopLogger */
  logger?: Logger;
  /**
   * Steps an execution may start before it fails with `STEP_LIMIT_EXCEEDED`, for flows
   * that set no `maxSteps` of their own (a flow's `maxSteps` overrides). @default 1000
   */
  maxSteps?: number;
  /** Largest `input` of `start` and largest step output, in UTF-8 bytes of JSON. @default 1 MiB */
  maxPayloadBytes?: number;
}

/** Options of `Engine.start`. */
export interface StartOptions {
  /** A second start of the same flow with the same key returns the first execution, unrun. */
  idempotencyKey?: string;
  tenantId?: string;
  parentExecutionId?: string;
  /** Flow version to run. @default the highest registered */
  version?: number;
}

/** How a parked step ended, as given to `Engine.resume`. */
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
  /** The parent execution (after any inline continuation); absent for plain jobs. */
  execution?: Execution;
  /** True when the parent execution was resumed by this settlement. */
  resumed: boolean;
}

/** What a runner needs to call a stateful step's handler: see `Engine.describeJob`. */
export interface JobDescription {
  execution: Execution;
  step: FlowStep;
  flow: Flow;
}
