import type {
  ErrorInfo,
  EventBus,
  Execution,
  Flow,
  FlowStep,
  Job,
  LeaseRef,
  StepHandler,
} from '@flowmonkey/core';

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
  describeJob(job: Job): Promise<{ execution: Execution; step: FlowStep; flow: Flow } | undefined>;
  readonly handlers: JobHandlerRegistry;
  readonly events?: EventBus;
}
