import type { Clock, EventBus, Job, JobStore, LeaseRef, Logger } from '@flowmonkey/core';
import { LeaseLostError, MAX_TIMEOUT_MS } from '@flowmonkey/core';
import { type AbortCause, abortReason } from './abort-reason.js';
import { AttemptContext } from './attempt-context.js';
import { AttemptHistory } from './attempt-history.js';
import type { ResolvedRetryPolicy } from './compute-retry-delay.js';
import { invokeHandler } from './invoke-handler.js';
import type { JobEngine, JobEngineDescription } from './job-engine.js';
import type { JobHookContext, JobOutcome, RegisteredJobHandler } from './job-handler.js';
import { callHook } from './job-hooks.js';
import type { JobSettler } from './job-settler.js';
import type { JobWriteBatcher } from './job-write-batcher.js';
import { type HandlerEnd, OutcomeWriter, type WrittenAttempt } from './outcome-writer.js';
import { reportLeaseLost } from './report-lease-lost.js';

/** How an attempt ended for the runner's counters: an outcome, or a store error. */
export type AttemptEnd = JobOutcome | 'store-error';

/** What one {@link JobExecution} needs from its runner. */
export interface JobExecutionDeps {
  jobStore: JobStore;
  engine: JobEngine | undefined;
  settler: JobSettler;
  /** Where `started`, `timeout` and `lease-lost` go into the job's history. */
  batcher: JobWriteBatcher;
  events: EventBus;
  logger: Logger;
  clock: Clock;
  random: () => number;
  cancelGraceMs: number;
  defaultRetry: ResolvedRetryPolicy;
  defaultTimeoutMs: number | null;
  /**
   * Called once per attempt when its handler has really settled (returned, thrown, or, if
   * it ignored its abort, finally given up): until then it holds one of the runner's
   * `maxConcurrent` slots.
   */
  handlerSettled: (execution: JobExecution) => void;
  /**
   * Called once per attempt when the write of its outcome has settled (stored, refused or
   * failed), before its `onSuccess`, `onFail` and `onEnd` hooks run.
   */
  outcomeWritten: (execution: JobExecution) => void;
}

/**
 * One attempt of one claimed job: runs the handler with its context, enforces the
 * timeout, reacts to aborts, and writes the outcome under the lease (by an
 * {@link OutcomeWriter}, after its {@link AttemptHistory} rows). `recorded` resolves once
 * the outcome is stored (at most `cancelGraceMs` after an abort, even if the handler
 * ignores its signal); `run()` resolves only when the handler has really settled, so the
 * runner keeps counting the slot of an overdue handler (`deps.handlerSettled` says when).
 *
 * A runner keeps hundreds of attempts in flight, so an attempt makes only what it uses:
 * no logger, signal, hook context or timer unless something asks for one.
 */
export class JobExecution implements WrittenAttempt {
  readonly job: Job;
  readonly #deps: JobExecutionDeps;
  readonly #handler: RegisteredJobHandler;
  /** Created when the handler first reads its signal, or at the first abort. */
  #controller: AbortController | undefined;
  #log: Logger | undefined;
  readonly #ref: LeaseRef;
  /** The step job's execution and step as described with its claimed batch, if it was. */
  readonly #description: JobEngineDescription | undefined;
  #cause: AbortCause | null = null;
  #writing = false;
  /** True once the write of the outcome has settled ({@link outcomeWritten}). */
  #written = false;
  #stored = false;
  #leaseConfirmedAt: number;
  #overdue = false;
  #timers: NodeJS.Timeout[] | undefined;
  /** This attempt's `started` and `timeout` rows in the job's history. */
  readonly #history: AttemptHistory;
  /** Ends the wait for the handler: with its end, or `grace-expired` after an abort. */
  #firstEnd: ((end: HandlerEnd | 'grace-expired') => void) | undefined;
  #graceOver = false;
  /** True once the handler has settled. */
  #handlerDone = false;
  /** Wakes an overdue attempt's `run()` once its handler finally settles. */
  #overdueSettled: (() => void) | undefined;
  #recorded: Promise<void> | undefined;
  #markRecorded: (() => void) | undefined;

  /**
   * `claimedAt` is when the claim was sent, in `performance.now()` ms: the lease is known to
   * be held from then on (see {@link leaseConfirmedAt}). `description`: a step job's
   * execution and step, read with its claimed batch (else the engine describes it at start).
   */
  constructor(
    job: Job,
    handler: RegisteredJobHandler,
    deps: JobExecutionDeps,
    claimedAt = performance.now(),
    description?: JobEngineDescription,
  ) {
    if (job.leaseId === null) throw new TypeError(`job "${job.id}" was claimed without a lease`);
    this.#leaseConfirmedAt = claimedAt;
    this.job = job;
    this.#ref = { jobId: job.id, leaseId: job.leaseId };
    this.#handler = handler;
    this.#deps = deps;
    this.#description = description;
    this.#history = new AttemptHistory(deps.batcher, job, this.#ref);
  }

  /** The attempt's logger: the runner's, with the job id, handler and attempt bound. */
  get log(): Logger {
    const { job } = this;
    this.#log ??= this.#deps.logger.child({
      jobId: job.id,
      handler: job.handler,
      attempt: job.attempts,
    });
    return this.#log;
  }

  /** Resolves once this attempt's outcome is stored (or known to be someone else's). */
  get recorded(): Promise<void> {
    this.#recorded ??= this.#stored
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          this.#markRecorded = resolve;
        });
    return this.#recorded;
  }

  /** The handler's signal (cancel, timeout, shutdown, lease lost), made on first use. */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /** True once the write of this attempt's outcome has settled (its hooks may still run). */
  get written(): boolean {
    return this.#written;
  }

  /** Marks the write of the outcome settled (once), before the hooks; see {@link written}. */
  outcomeWritten(): void {
    if (this.#written) return;
    this.#written = true;
    this.#deps.outcomeWritten(this);
  }

  /** The lease this attempt holds. */
  get lease(): LeaseRef {
    return this.#ref;
  }

  /**
   * True while the runner should keep extending this job's lease: also while the outcome is
   * being written, since that write may wait for a pooled connection longer than the lease.
   */
  get holdsLease(): boolean {
    return !this.#stored && this.#cause !== 'lease-lost';
  }

  /**
   * When a request that extended the lease was last sent (claim or successful heartbeat),
   * in `performance.now()` ms: the process's monotonic clock, immune to wall-clock skew.
   */
  get leaseConfirmedAt(): number {
    return this.#leaseConfirmedAt;
  }

  /** Records that a heartbeat sent at `sentAt` (`performance.now()` ms) extended the lease. */
  leaseConfirmed(sentAt: number): void {
    if (sentAt > this.#leaseConfirmedAt) this.#leaseConfirmedAt = sentAt;
  }

  /** True when the handler outlived its abort by more than `cancelGraceMs` and still runs. */
  get overdue(): boolean {
    return this.#overdue;
  }

  /** The first abort cause, or `null`. */
  get abortCause(): AbortCause | null {
    return this.#cause;
  }

  /**
   * Aborts the handler's signal for `cause`. The first cause wins, except that a lost lease
   * overrides any other (no write can succeed any more). Ignored once the outcome is being
   * written.
   */
  abort(cause: AbortCause): void {
    if (this.#writing || this.#cause === cause) return;
    if (this.#cause !== null && cause !== 'lease-lost') return;
    const first = this.#cause === null;
    this.#cause = cause;
    if (cause === 'timeout') {
      const timeoutMs = this.timeoutMs ?? 0;
      this.log.warn({ timeoutMs }, 'job timed out; aborting handler');
      this.#deps.events.emit('job:timeout', { job: this.job, timeoutMs });
      this.#history.note('timeout', { timeoutMs });
    }
    if (cause === 'lease-lost') {
      this.log.warn('lease lost; aborting handler and dropping its result');
      this.#leaseLost();
    }
    if (first) {
      this.#controller ??= new AbortController();
      this.#controller.abort(abortReason(cause, this.#ref, this.timeoutMs ?? 0));
      this.#later(this.#deps.cancelGraceMs, () => {
        this.#graceOver = true;
        this.#firstEnd?.('grace-expired');
      });
    }
  }

  /** Asks the store whether cancellation was requested, and aborts if so. */
  async checkCancel(): Promise<void> {
    if (!this.holdsLease) return;
    await this.heartbeat().catch(() => undefined);
  }

  /**
   * Runs the attempt to its end; resolves when the handler has settled and the outcome is
   * stored (`deps.handlerSettled` tells when the handler alone has).
   */
  async run(): Promise<AttemptEnd> {
    this.#deps.events.emit('job:started', { job: this.job });
    this.#history.start();
    const { onStart } = this.#handler.options;
    if (onStart !== undefined) await callHook(onStart, () => this.hookContext(), this, 'onStart');
    const timeoutMs = this.timeoutMs;
    if (timeoutMs !== null) this.#later(timeoutMs, () => this.abort('timeout'));
    const first = await new Promise<HandlerEnd | 'grace-expired'>((resolve) => {
      this.#firstEnd = resolve;
      this.#invoke();
      if (this.#graceOver) resolve('grace-expired');
    });
    let end: AttemptEnd;
    if (first === 'grace-expired') {
      this.#overdue = true;
      this.log.warn(
        { cause: this.#cause, cancelGraceMs: this.#deps.cancelGraceMs },
        'handler ignored its abort signal; recording the outcome, slot stays taken until it settles',
      );
      end = await this.#record(null);
      if (!this.#handlerDone) {
        await new Promise<void>((resolve) => {
          this.#overdueSettled = resolve;
        });
      }
      this.log.warn('overdue handler settled; its result was dropped');
    } else {
      end = await this.#record(first);
    }
    for (const t of this.#timers ?? []) clearTimeout(t);
    return end;
  }

  /** Calls the handler with its context; its end goes to {@link #handlerEnded}. */
  #invoke(): void {
    const context = new AttemptContext(this);
    invokeHandler(this.#handler, context, this.#deps.engine, this.#description).then(
      (result) => this.#handlerEnded(result),
      (error: unknown) => this.#handlerEnded({ kind: 'thrown', error }),
    );
  }

  /** The handler settled: its slot is free, and `run()` goes on unless it gave up waiting. */
  #handlerEnded(end: HandlerEnd): void {
    this.#handlerDone = true;
    this.#firstEnd?.(end);
    this.#overdueSettled?.();
    this.#deps.handlerSettled(this);
  }

  /** Writes the outcome (see {@link OutcomeWriter}), then calls the `onEnd` hook. */
  async #record(end: HandlerEnd | null): Promise<AttemptEnd> {
    this.#writing = true;
    try {
      const writer = new OutcomeWriter(
        this,
        this.#handler,
        this.#deps,
        this.#history,
        this.#description,
      );
      const outcome = await writer.write(end);
      this.outcomeWritten();
      const { onEnd } = this.#handler.options;
      const context = () => ({ ...this.hookContext(), outcome });
      if (onEnd !== undefined) await callHook(onEnd, context, this, 'onEnd');
      return outcome;
    } catch (error) {
      if (error instanceof LeaseLostError) {
        this.#leaseLost();
        this.log.warn('lease lost before the outcome was stored; result dropped');
        return 'lease-lost';
      }
      this.log.error({ err: error }, 'could not store the job outcome; the reaper will reset it');
      return 'store-error';
    } finally {
      this.outcomeWritten();
      this.#stored = true;
      this.#markRecorded?.();
    }
  }

  /** The handler's `heartbeat()`: extends the lease now, aborting on a lost one or a cancel. */
  async heartbeat(): Promise<void> {
    try {
      const sentAt = performance.now();
      const { cancelRequested } = await this.#deps.jobStore.heartbeat(this.#ref);
      this.leaseConfirmed(sentAt);
      if (cancelRequested) this.abort('cancel');
    } catch (error) {
      if (error instanceof LeaseLostError) this.abort('lease-lost');
      throw error;
    }
  }

  /** The handler's `progress()`: stores it (after the `started` row) and extends the lease. */
  async progress(percent: number, message?: string): Promise<void> {
    // Progress rows follow the attempt's `started` row in the history.
    this.#history.queueStarted();
    await this.#history.written();
    try {
      const params =
        message === undefined ? { ...this.#ref, percent } : { ...this.#ref, percent, message };
      const job = await this.#deps.jobStore.progress(params);
      if (job.progress !== null)
        this.#deps.events.emit('job:progress', { job, progress: job.progress });
      if (job.cancelRequested) this.abort('cancel');
    } catch (error) {
      if (error instanceof LeaseLostError) this.abort('lease-lost');
      throw error;
    }
  }

  /** Emits `job:lease-lost` and records it in the job's history. */
  #leaseLost(): void {
    this.#history.queueStarted();
    reportLeaseLost(this.#deps, { job: this.job, lease: this.#ref });
  }

  /**
   * The attempt's time limit in ms: the job's own, else its handler's `timeoutMs`, else its
   * step handler's metadata, else the runner's `defaultTimeoutMs`; `null` for none.
   */
  get timeoutMs(): number | null {
    return (
      this.job.timeoutMs ??
      this.#handler.options.timeoutMs ??
      this.#handler.step?.metadata.timeoutMs ??
      this.#deps.defaultTimeoutMs
    );
  }

  /** What this attempt's lifecycle hooks receive (see {@link JobHookContext}). */
  hookContext(): JobHookContext {
    const { job, log } = this;
    return { job, attempt: job.attempts, log, executionId: job.executionId, stepId: job.stepId };
  }

  #later(ms: number, fn: () => void): void {
    // A job row's own timeoutMs may exceed what a Node timer holds (it would fire at once).
    const timer = setTimeout(fn, Math.min(ms, MAX_TIMEOUT_MS));
    timer.unref();
    this.#timers ??= [];
    this.#timers.push(timer);
  }
}
