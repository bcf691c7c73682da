import { assertJsonPayload } from '../assert-json-payload.js';
import { NotFoundError } from '../errors.js';
import type { Execution } from '../execution.js';
import type { Job } from '../job.js';
import type { StoreSet } from '../stores/stores.js';
import { applyBoundedOutcome, type BoundedOutcome } from './bounded-outcome.js';
import { emitTransition } from './emit-transition.js';
import type { JobSettlement, ResumeParams, ResumeResult, StepOutcome } from './engine-types.js';
import { retryOnConflict } from './retry-on-conflict.js';
import type { EngineContext, StepRunner } from './step-runner.js';
import { flowStep } from './step-work.js';

/** Decides how a settled job resumes its parent; `undefined` leaves the parent alone. */
export type OutcomeFor = (job: Job, execution: Execution) => StepOutcome | undefined;

/**
 * Ends waits: external resumes and job settlements. Each decision re-reads the execution
 * and writes with its version, retried on conflict, so a wait is ended exactly once.
 * Internal to the engine.
 */
export class Resumer {
  readonly #ctx: EngineContext;
  readonly #runner: StepRunner;

  constructor(ctx: EngineContext, runner: StepRunner) {
    this.#ctx = ctx;
    this.#runner = runner;
  }

  /**
   * Resumes `executionId` when it waits in `params.stepId` (and on `params.jobId` when
   * given) and `guard` accepts it, then advances its inline steps.
   */
  async resume(
    executionId: string,
    params: ResumeParams,
    guard: (execution: Execution) => boolean = () => true,
  ): Promise<ResumeResult> {
    const { executions } = this.#ctx.stores;
    if (params.outcome.kind === 'success') {
      const maxBytes = this.#ctx.maxPayloadBytes;
      assertJsonPayload(params.outcome.output, 'outcome.output', { maxBytes });
    }
    type Resumed = ResumeResult & { applied?: StepOutcome };
    const outcome = await retryOnConflict(async (): Promise<Resumed> => {
      const execution = await executions.get(executionId);
      if (execution === undefined) throw new NotFoundError('execution', executionId);
      const reason = whyNotResumable(execution, params.stepId, params.jobId);
      if (reason !== undefined) return { resumed: false, reason, execution };
      if (!guard(execution)) {
        return { resumed: false, reason: 'the wait changed since it was seen', execution };
      }
      const next = this.#apply(execution, params.stepId, params.outcome);
      const stored = await executions.update({
        execution: next.execution,
        expectedVersion: execution.version,
      });
      return { resumed: true, execution: stored, applied: next.outcome };
    });
    const { execution, applied } = outcome;
    if (!outcome.resumed || applied === undefined) return outcome;
    this.#emitResumed(execution, params.stepId, params.jobId ?? null, applied);
    return { resumed: true, execution: await this.#runner.continueAfterCommit(execution) };
  }

  /**
   * One unit of work: `writeJob` (lease-fenced), then the resume of the job's parent when
   * `outcomeFor` gives an outcome and the parent still waits on this job. After commit,
   * advances the parent's inline steps.
   */
  async settle(
    writeJob: (tx: StoreSet) => Promise<Job>,
    outcomeFor: OutcomeFor,
  ): Promise<JobSettlement> {
    const settled = await retryOnConflict(() =>
      this.#ctx.stores.transaction(async (tx) => {
        const job = await writeJob(tx);
        if (job.executionId === null || job.stepId === null) return { job };
        const execution = await tx.executions.get(job.executionId);
        if (execution === undefined) return { job };
        const outcome = outcomeFor(job, execution);
        if (outcome === undefined || whyNotResumable(execution, job.stepId, job.id) !== undefined) {
          return { job, execution };
        }
        const next = this.#apply(execution, job.stepId, outcome);
        const stored = await tx.executions.update({
          execution: next.execution,
          expectedVersion: execution.version,
        });
        return { job, execution: stored, outcome: next.outcome };
      }),
    );
    const { job, execution, outcome } = settled as typeof settled & { outcome?: StepOutcome };
    if (execution === undefined || outcome === undefined) {
      return execution === undefined ? { job, resumed: false } : { job, execution, resumed: false };
    }
    this.#emitResumed(execution, job.stepId ?? '', job.id, outcome);
    return { job, execution: await this.#runner.continueAfterCommit(execution), resumed: true };
  }

  #apply(execution: Execution, stepId: string, outcome: StepOutcome): BoundedOutcome {
    return applyResumeOutcome(this.#ctx, execution, stepId, outcome);
  }

  #emitResumed(
    execution: Execution,
    stepId: string,
    jobId: string | null,
    outcome: StepOutcome,
  ): void {
    emitResumed(this.#ctx, execution, stepId, jobId, outcome);
  }
}

/**
 * Ends the wait of `execution` in `stepId` with `outcome` (see `applyBoundedOutcome`).
 * Throws `NotFoundError` for a flow or step this engine does not know.
 */
export function applyResumeOutcome(
  ctx: EngineContext,
  execution: Execution,
  stepId: string,
  outcome: StepOutcome,
): BoundedOutcome {
  const { step } = flowStep(ctx, execution, stepId);
  return applyBoundedOutcome(execution, step, outcome, ctx.clock.now(), ctx.maxPayloadBytes);
}

/** Emits a committed resume: `execution:resumed`, then the transition of the step it ended. */
export function emitResumed(
  ctx: EngineContext,
  execution: Execution,
  stepId: string,
  jobId: string | null,
  outcome: StepOutcome,
): void {
  ctx.events.emit('execution:resumed', { execution, stepId, jobId });
  emitTransition(ctx.events, execution, stepId, outcome);
}

/** Why `execution` cannot be resumed for `(stepId, jobId)`, or `undefined` when it can. */
export function whyNotResumable(
  execution: Execution,
  stepId: string,
  jobId: string | null | undefined,
): string | undefined {
  if (execution.status !== 'waiting' || execution.waitingOn === null) {
    return `not waiting on this step/job (execution is ${execution.status})`;
  }
  const wait = execution.waitingOn;
  if (wait.stepId !== stepId || (jobId !== undefined && wait.jobId !== jobId)) {
    return `not waiting on this step/job (it waits in step "${wait.stepId}", job ${wait.jobId ?? 'none'})`;
  }
  return undefined;
}

/**
 * How a job settlement resumes its parent: a `failed` job with its error, a `cancelled` job
 * with a `CANCELLED` failure unless the execution itself was cancelled; else not at all
 * (the job went back to `pending` for a retry).
 */
export function failureOf(job: Job, execution: Execution): StepOutcome | undefined {
  if (job.status === 'failed') {
    const error = job.error ?? { code: 'JOB_FAILED', message: `job "${job.id}" failed` };
    const { code, message } = error;
    const details = 'details' in error ? error.details : undefined;
    return {
      kind: 'failure',
      error: details === undefined ? { code, message } : { code, message, details },
    };
  }
  if (job.status === 'cancelled' && execution.status !== 'cancelled') {
    return { kind: 'cancelled', reason: `job "${job.id}" was cancelled` };
  }
  return undefined;
}
