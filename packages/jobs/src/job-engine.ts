import type {
  ErrorInfo,
  EventBus,
  Execution,
  Flow,
  FlowStep,
  Job,
  LeaseRef,
  RunnerJobEvent,
  StepHandler,
} from '@flowmonkey/core';

/** The execution, step and flow a stateful job runs for (see `JobEngine.describeJob`). */
export interface JobEngineDescription {
  execution: Execution;
  step: FlowStep;
  flow: Flow;
}

/** One item's end in `JobEngine.completeJobs`: its settlement, or why nothing was written. */
export type JobEngineBatchSettlement =
  | { ok: true; settlement: JobSettlement }
  | { ok: false; error: Error };

/** What the engine reports after settling a job: the job and, for stateful steps, its execution. */
export interface JobSettlement {
  job: Job;
  /** The parent execution after the resume, when the job had one. */
  execution?: Execution;
  /** True when this call moved the parent execution on. */
  resumed: boolean;
}

/** The part of a handler registry the runner reads: handlers by type, and the list of them. */
export interface JobHandlerRegistry {
  get(type: string): StepHandler | undefined;
  has(type: string): boolean;
  /** All registered handlers (or their types). */
  list(): readonly (StepHandler | string)[];
}

/**
 * The part of core's `Engine` the runner and reaper use. Each settling method writes the
 * job and resumes its parent execution in one transaction, and throws `LeaseLostError`
 * (changing nothing) when the lease is gone. Core's `Engine` satisfies it; jobs depends on
 * this shape only, not on the engine's class.
 */
export interface JobEngine {
  completeJob(params: LeaseRef & { result: unknown; now?: number }): Promise<JobSettlement>;
  failJob(
    params: LeaseRef & {
      error: ErrorInfo;
      retryAt?: number | null;
      retryDelayMs?: number | null;
      now?: number;
    },
  ): Promise<JobSettlement>;
  confirmJobCancel(params: LeaseRef & { reason?: string; now?: number }): Promise<JobSettlement>;
  resetStalledJob(
    params: LeaseRef & { error?: ErrorInfo; stalledThresholdMs?: number; now?: number },
  ): Promise<JobSettlement>;
  /** The execution, step and flow a stateful job runs for; `undefined` when gone. */
  describeJob(job: Job): Promise<JobEngineDescription | undefined>;
  /**
   * `describeJob` for many jobs in one read, keyed by job id (optional: a runner describes
   * each claimed batch of step jobs with it, else each job as it starts).
   */
  describeJobs?(jobs: readonly Job[]): Promise<Map<string, JobEngineDescription>>;
  /**
   * `completeJob` for many jobs in one unit of work, one result per item in input order;
   * `events` are appended to the job history first; `executions` are the parents as last
   * read, which it need not read again; an item's `job` is the job as its holder has it,
   * which spares reading the completed job back (optional: a runner's write batcher
   * completes the step jobs of a batch with it, else one `completeJob` each).
   */
  completeJobs?(
    items: readonly (LeaseRef & { result: unknown; job?: Job })[],
    options?: { events?: readonly RunnerJobEvent[]; executions?: readonly Execution[] },
  ): Promise<JobEngineBatchSettlement[]>;
  readonly handlers: JobHandlerRegistry;
  readonly events?: EventBus;
}
