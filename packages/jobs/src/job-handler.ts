import type { ErrorInfo, Job, Logger, RetryPolicy, StepHandler } from '@flowmonkey/core';

/**
 * What a plain job handler function receives next to its input. In a runner, `signal`,
 * `log`, `heartbeat` and `progress` are accessors made on first use (`heartbeat` and
 * `progress` come bound, so destructuring them works), which a spread copy
 * (`{ ...context }`) does not carry: pass the context on, or pick what you need.
 */
export interface JobHandlerContext {
  /** The job as claimed (a snapshot). */
  job: Readonly<Job>;
  /** 1-based attempt number of this run. */
  attempt: number;
  /** Aborted on cancellation, timeout, shutdown or a lost lease; `signal.reason` says which. */
  signal: AbortSignal;
  /** A child logger bound to `jobId`, `handler` and `attempt`. */
  log: Logger;
  /** The parent execution's id; `null` for a plain background job. */
  executionId: string | null;
  /** The parent step's id; `null` for a plain background job. */
  stepId: string | null;
  /** Extends the lease now (the runner also heartbeats on its own). */
  heartbeat(): Promise<void>;
  /** Records progress (`percent` 0..100, optional message); also extends the lease. */
  progress(percent: number, message?: string): Promise<void>;
}

/** A plain job handler: resolves with the job's result, or throws to fail the attempt. */
export type JobHandlerFunction<I = unknown, O = unknown> = (
  input: I,
  context: JobHandlerContext,
) => Promise<O>;

/**
 * How one attempt ended, as reported to `onEnd`: `completed`, `retrying` (failed, another
 * attempt is scheduled), `failed` (for good), `cancelled`, `snoozed` (the handler asked to
 * wait; no attempt spent), `released` (given back on shutdown), or `lease-lost` (another
 * runner or the reaper owns the job now; nothing was written).
 */
export type JobOutcome =
  | 'completed'
  | 'retrying'
  | 'failed'
  | 'cancelled'
  | 'snoozed'
  | 'released'
  | 'lease-lost';

/** What every hook receives. */
export interface JobHookContext {
  job: Readonly<Job>;
  attempt: number;
  log: Logger;
  executionId: string | null;
  stepId: string | null;
}

/**
 * Per-handler lifecycle hooks, called in order `onStart`, then `onSuccess` or `onFail`,
 * then `onEnd`. They run after the outcome is stored; a hook that throws or rejects is
 * logged and changes nothing.
 */
export interface JobHooks {
  /** Before the handler runs. */
  onStart?(context: JobHookContext): void | Promise<void>;
  /** After the job was stored as completed. */
  onSuccess?(context: JobHookContext & { result: unknown }): void | Promise<void>;
  /** After a failed attempt was stored; `willRetry` tells whether another attempt follows. */
  onFail?(context: JobHookContext & { error: ErrorInfo; willRetry: boolean }): void | Promise<void>;
  /** After every attempt, whatever its outcome. */
  onEnd?(context: JobHookContext & { outcome: JobOutcome }): void | Promise<void>;
}

/** Per-handler defaults and hooks given to `registerHandler`. */
export interface JobHandlerOptions extends JobHooks {
  /** Retry policy for jobs of this type that carry none. @default the runner's `defaultRetry` */
  retry?: RetryPolicy;
  /** Per-attempt time limit in ms for jobs of this type that carry none. @default none */
  timeoutMs?: number;
  /**
   * Attempts for jobs of this type, published as the handler's `metadata.defaultMaxAttempts`
   * (used by whoever creates the jobs). A stored job keeps its own `maxAttempts`. @default 3
   */
  maxAttempts?: number;
  /** Decides whether a thrown error may be retried. `NonRetryableError` never is. @default all */
  isRetryable?: (error: unknown) => boolean;
}

/** A handler as the runner keeps it: one of the two forms, plus its options. */
export interface RegisteredJobHandler {
  type: string;
  /** Set for a core `StepHandler`. */
  step?: StepHandler;
  /** Set for a plain function. */
  fn?: JobHandlerFunction;
  options: JobHandlerOptions;
}
