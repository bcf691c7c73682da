import type { Execution } from './execution.js';
import type { FlowStep } from './flow.js';
import type { Job } from './job.js';
import type { Logger } from './logger.js';
import type { StepResult } from './result.js';
import type { RetryPolicy } from './retry-policy.js';

/** Describes a handler: for registries, dashboards, and the engine's routing. */
export interface HandlerMetadata {
  name?: string;
  description?: string;
  category?: string;
  /**
   * When true the step does not run inline: the engine creates a job for it and parks
   * the execution; a job runner runs `execute` and its result resumes the execution.
   * @default false
   */
  stateful?: boolean;
  /** A JSON Schema (or any description) of the step `config`, for tooling. */
  configSchema?: unknown;
  /** Attempts a job of this handler gets unless the step or job says otherwise. @default 3 */
  defaultMaxAttempts?: number;
  /** Per-attempt time limit in ms for jobs of this handler. @default none */
  timeoutMs?: number;
  /** Retry policy for jobs of this handler. */
  retry?: RetryPolicy;
}

/**
 * What a job runner adds to a handler call when the handler runs as a job
 * (stateful steps and plain background jobs).
 */
export interface JobContext {
  job: Readonly<Job>;
  /** 1-based attempt number of this run. */
  attempt: number;
  /** Extends the lease now (the runner also heartbeats on its own). */
  heartbeat(): Promise<void>;
  /** Reports progress: `percent` in 0..100, with an optional message. */
  progress(percent: number, message?: string): Promise<void>;
}

/** Everything a handler receives. */
export interface HandlerParams<I = unknown, C = unknown> {
  /** The step input, taken from the execution context by the step's `input` selector. */
  input: I;
  /** The step's static config from the flow definition. */
  config: C;
  /** The execution being advanced (a snapshot; do not mutate). */
  execution: Readonly<Execution>;
  step: Readonly<FlowStep>;
  /** Aborted on cancellation, timeout, shutdown or lost lease. */
  signal: AbortSignal;
  log: Logger;
  /** Present when the handler runs as a job. */
  job?: JobContext;
}

/** A step implementation, registered under `type` and named by flow steps. */
export interface StepHandler<I = unknown, O = unknown, C = unknown> {
  type: string;
  metadata: HandlerMetadata;
  execute(params: HandlerParams<I, C>): Promise<StepResult<O>>;
}
