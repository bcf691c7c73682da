import type { Job, Logger } from '@flowmonkey/core';
import type { JobHandlerContext } from './job-handler.js';

/**
 * What an {@link AttemptContext} asks its attempt for, on first use: a runner's attempt, or
 * another handler context to delegate to. `attempt`, `executionId` and `stepId` default to
 * the job's.
 */
export interface AttemptControls {
  readonly job: Job;
  readonly attempt?: number;
  readonly executionId?: string | null;
  readonly stepId?: string | null;
  readonly signal: AbortSignal;
  readonly log: Logger;
  heartbeat(): Promise<void>;
  progress(percent: number, message?: string): Promise<void>;
}

/**
 * The context a runner hands a handler for one attempt (see {@link JobHandlerContext}).
 * `signal`, `log`, `heartbeat` and `progress` are accessors, made on first use: a runner
 * starts many attempts whose handlers use none of them, and an abort controller or a child
 * logger per attempt would cost more than a no-op handler. So a spread copy
 * (`{ ...context }`) does not carry them; pass the context itself, or pick what you need.
 */
export class AttemptContext implements JobHandlerContext {
  readonly job: Readonly<Job>;
  readonly attempt: number;
  readonly executionId: string | null;
  readonly stepId: string | null;
  readonly #controls: AttemptControls;
  #heartbeat: (() => Promise<void>) | undefined;
  #progress: ((percent: number, message?: string) => Promise<void>) | undefined;

  constructor(controls: AttemptControls) {
    const { job } = controls;
    this.job = job;
    this.attempt = controls.attempt ?? job.attempts;
    this.executionId = controls.executionId ?? job.executionId;
    this.stepId = controls.stepId ?? job.stepId;
    this.#controls = controls;
  }

  get signal(): AbortSignal {
    return this.#controls.signal;
  }

  get log(): Logger {
    return this.#controls.log;
  }

  /** Bound to its attempt (so `const { heartbeat } = context` works), made once. */
  get heartbeat(): () => Promise<void> {
    this.#heartbeat ??= () => this.#controls.heartbeat();
    return this.#heartbeat;
  }

  /** Bound to its attempt, like {@link heartbeat}. */
  get progress(): (percent: number, message?: string) => Promise<void> {
    this.#progress ??= (percent, message) => this.#controls.progress(percent, message);
    return this.#progress;
  }
}
