import type {
  ErrorInfo,
  Job,
  LeaseRef,
  Logger,
  RunnerJobEvent,
  StepResult,
} from '@flowmonkey/core';
import { JobTimeoutError, NonRetryableError, toErrorInfo, ValidationError } from '@flowmonkey/core';
import type { AbortCause } from './abort-reason.js';
import type { AttemptHistory } from './attempt-history.js';
import type { ResolvedRetryPolicy } from './compute-retry-delay.js';
import { computeRetryDelay, resolveRetryPolicy } from './compute-retry-delay.js';
import type { JobEngineDescription } from './job-engine.js';
import type { JobExecutionDeps } from './job-execution.js';
import type { JobHookContext, JobOutcome, RegisteredJobHandler } from './job-handler.js';
import { callHook } from './job-hooks.js';
import { planRetry } from './plan-retry.js';

/** How a handler ended: the `StepResult` it returned, or what it threw. */
export type HandlerEnd = StepResult | { kind: 'thrown'; error: unknown };

/** What an {@link OutcomeWriter} reads of the attempt whose outcome it writes. */
export interface WrittenAttempt {
  readonly job: Job;
  readonly lease: LeaseRef;
  readonly log: Logger;
  /** Read when the outcome is written: the first abort cause, or `null`. */
  readonly abortCause: AbortCause | null;
  /** The attempt's time limit in ms, or `null` for none. */
  readonly timeoutMs: number | null;
  hookContext(): JobHookContext;
  /** Called once the outcome's write has settled, before the `onSuccess`/`onFail` hook. */
  outcomeWritten(): void;
}

/**
 * Writes one attempt's outcome under its lease, from how its handler ended and why it was
 * aborted: completes the job, fails it (with a retry when its policy allows one), confirms
 * a cancellation, snoozes it, or releases it on shutdown; emits the matching `job:*` event
 * and calls the handler's `onSuccess` or `onFail` hook. The attempt's history rows are
 * written first (see {@link AttemptHistory}). Throws `LeaseLostError` when the lease is
 * gone (nothing was written), and whatever else the store throws.
 */
export class OutcomeWriter {
  readonly #attempt: WrittenAttempt;
  readonly #handler: RegisteredJobHandler;
  readonly #deps: JobExecutionDeps;
  readonly #history: AttemptHistory;
  /** The step job's execution and step as described with its claimed batch, if it was. */
  readonly #description: JobEngineDescription | undefined;

  constructor(
    attempt: WrittenAttempt,
    handler: RegisteredJobHandler,
    deps: JobExecutionDeps,
    history: AttemptHistory,
    description: JobEngineDescription | undefined,
  ) {
    this.#attempt = attempt;
    this.#handler = handler;
    this.#deps = deps;
    this.#history = history;
    this.#description = description;
  }

  /**
   * Writes the outcome of a handler that ended with `end`, or of one that has not settled
   * (`null`: it ignored its abort past `cancelGraceMs`), and returns it. A lost lease writes
   * nothing (`lease-lost`).
   */
  async write(end: HandlerEnd | null): Promise<JobOutcome> {
    const { abortCause: cause, job, lease } = this.#attempt;
    if (cause === 'lease-lost') return 'lease-lost';
    // The history shows this attempt's start (and timeout) before its outcome: a completion
    // carries a `started` row still held, or shares the batch of the queued ones (the
    // settler decides); any other outcome waits for them.
    const earlier = () => this.#history.written();
    if (cause === 'cancel') {
      this.#history.queueStarted();
      await earlier();
      return this.#cancel();
    }
    if (end?.kind === 'success') {
      return this.#complete(end.output, earlier, this.#history.takeStarted());
    }
    this.#history.queueStarted();
    await earlier();
    if (cause === 'shutdown') {
      await this.#deps.jobStore.release(lease);
      this.#attempt.log.info('released on shutdown; attempt refunded');
      return 'released';
    }
    if (cause === 'timeout') {
      const info = toErrorInfo(new JobTimeoutError(job.id, this.#attempt.timeoutMs ?? 0));
      if (end?.kind === 'thrown') info.cause = toErrorInfo(end.error);
      return this.#fail(info, true);
    }
    if (end === null) throw new TypeError('unreachable: no handler end without an abort');
    if (end.kind === 'wait') return this.#snooze(end.until);
    if (end.kind === 'failure') return this.#fail(end.error, end.error.retryable === true);
    return this.#fail(toErrorInfo(end.error), this.#isRetryable(end.error));
  }

  #isRetryable(error: unknown): boolean {
    if (error instanceof NonRetryableError) return false;
    const check = this.#handler.options.isRetryable;
    return check === undefined || check(error);
  }

  async #complete(
    result: unknown,
    after: () => Promise<unknown>,
    events: RunnerJobEvent[],
  ): Promise<JobOutcome> {
    const attempt = this.#attempt;
    let job: Job;
    try {
      const execution = this.#description?.execution;
      job = await this.#deps.settler.complete(attempt.job, result, { after, execution, events });
    } catch (error) {
      // A result the store refuses (not JSON, too large) fails the attempt for good: the
      // same handler would return the same thing again. Nothing was written for it.
      if (!(error instanceof ValidationError)) throw error;
      attempt.log.warn({ err: error }, 'handler result refused by the store; failing the job');
      return this.#fail(toErrorInfo(error), false);
    }
    attempt.outcomeWritten();
    this.#deps.events.emit('job:completed', { job });
    const { onSuccess } = this.#handler.options;
    const context = () => ({ ...attempt.hookContext(), result });
    if (onSuccess !== undefined) await callHook(onSuccess, context, attempt, 'onSuccess');
    return 'completed';
  }

  async #fail(error: ErrorInfo, retryable: boolean): Promise<JobOutcome> {
    const attempt = this.#attempt;
    // Only the delay goes to the store, which adds it to database time: a skewed process
    // clock must not shift the retry.
    const now = this.#deps.clock.now();
    const retryAt = planRetry({
      job: attempt.job,
      retryable,
      policy: this.#policy(),
      now,
      random: this.#deps.random,
    });
    const retryDelayMs = retryAt === null ? null : retryAt - now;
    const job = await this.#deps.settler.fail(attempt.job, stripRetryable(error), retryDelayMs);
    attempt.outcomeWritten();
    const willRetry = job.status === 'pending';
    if (willRetry) {
      attempt.log.info({ err: error, runAt: job.runAt }, 'attempt failed; retry scheduled');
      this.#deps.events.emit('job:retrying', { job, error, retryAt: job.runAt });
    } else {
      attempt.log.warn({ err: error }, 'job failed');
      this.#deps.events.emit('job:failed', { job, error });
    }
    const { onFail } = this.#handler.options;
    const context = () => ({ ...attempt.hookContext(), error, willRetry });
    if (onFail !== undefined) await callHook(onFail, context, attempt, 'onFail');
    return willRetry ? 'retrying' : 'failed';
  }

  async #cancel(): Promise<JobOutcome> {
    const reason = 'cancellation requested';
    const job = await this.#deps.settler.confirmCancel(this.#attempt.job, reason);
    this.#attempt.log.info('job cancelled');
    this.#deps.events.emit('job:cancelled', { job, reason });
    return 'cancelled';
  }

  async #snooze(until: number | null): Promise<JobOutcome> {
    // An explicit `until` is the handler's own time; a policy delay is added to the store's
    // now (database time), so a skewed process clock does not shift it.
    const when =
      until === null
        ? { delayMs: computeRetryDelay(this.#policy(), 1, this.#deps.random) }
        : { runAt: until };
    const job = await this.#deps.jobStore.release({ ...this.#attempt.lease, ...when });
    this.#attempt.log.info(
      { runAt: job.runAt },
      'handler asked to wait; job snoozed without spending an attempt',
    );
    return 'snoozed';
  }

  #policy(): ResolvedRetryPolicy {
    const own = this.#handler.options.retry ?? this.#handler.step?.metadata.retry;
    const base =
      own === undefined
        ? this.#deps.defaultRetry
        : resolveRetryPolicy(own, this.#deps.defaultRetry);
    const { retry } = this.#attempt.job;
    return retry === null ? base : resolveRetryPolicy(retry, base);
  }
}

function stripRetryable(error: ErrorInfo & { retryable?: boolean }): ErrorInfo {
  const { retryable: _retryable, ...info } = error;
  return info;
}
