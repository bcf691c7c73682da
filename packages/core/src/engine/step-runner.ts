import { ConcurrencyError, NotFoundError, ValidationError } from '../errors.js';
import type { Execution } from '../execution.js';
import type { FlowStep } from '../flow.js';
import type { Job } from '../job.js';
import { toErrorInfo } from '../result.js';
import { applyBoundedOutcome, type BoundedOutcome } from './bounded-outcome.js';
import { emitEnd, emitTransition } from './emit-transition.js';
import type { StepOutcome } from './engine-types.js';
import { StepBatch } from './step-batch.js';
import {
  type Begun,
  type EngineContext,
  newStepJob,
  parkedOnJob,
  prepareStep,
  runInlineHandler,
} from './step-work.js';
import { applyStepOutcome, parkExecution } from './transitions.js';

export type { EngineContext } from './step-work.js';

/**
 * Advances executions through their inline steps, one optimistic-concurrency write per step,
 * until they wait or end; `continueManyAfterCommit` does so for many executions at once, one
 * write per step layer (`StepBatch.advanceMany`). Internal to the engine.
 */
export class StepRunner {
  readonly #ctx: EngineContext;
  /** Abort controllers of inline handlers running in this process, by execution id. */
  readonly #inflight = new Map<string, AbortController>();
  readonly #batch: StepBatch;

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
    this.#batch = new StepBatch(ctx, this, this.#inflight);
  }

  /**
   * Runs steps of `execution` while it is `pending` or `running`. When a write loses a race
   * (ConcurrencyError) someone else moved the execution on and continues it, so this stops
   * and returns the execution as now stored, rather than run the same step twice.
   */
  async advance(execution: Execution): Promise<Execution> {
    let current = execution;
    while (current.status === 'pending' || current.status === 'running') {
      try {
        current = await this.#runStep(current);
      } catch (error) {
        if (!(error instanceof ConcurrencyError)) throw error;
        return this.reread(current, error);
      }
    }
    return current;
  }

  /**
   * `advance` for an execution whose last change is already committed (a resume or a
   * job settlement): an error in the inline steps that follow is logged, not thrown, so the
   * caller learns that its own write succeeded. The execution then stays `running` as last
   * stored (re-read when possible) and `Engine.recoverStale` runs it again later.
   */
  async continueAfterCommit(execution: Execution): Promise<Execution> {
    try {
      return await this.advance(execution);
    } catch (error) {
      this.logContinueError(execution.id, error);
      try {
        return (await this.#ctx.stores.executions.get(execution.id)) ?? execution;
      } catch {
        return execution;
      }
    }
  }

  /**
   * `continueAfterCommit` for many executions, batched by `StepBatch.advanceMany`; returns them in
   * input order. Errors are logged per execution, never thrown.
   */
  continueManyAfterCommit(executions: readonly Execution[]): Promise<Execution[]> {
    return this.#batch.continueManyAfterCommit(executions);
  }

  /** Logs an error of the inline steps that follow a commit (see `continueAfterCommit`). */
  logContinueError(executionId: string, error: unknown): void {
    this.#ctx.log.error(
      { err: error, executionId },
      'running the inline steps after a commit failed; recoverStale will retry them',
    );
  }

  /** Aborts the inline handler running for `executionId` in this process, if any. */
  abort(executionId: string, reason: string): void {
    this.#inflight.get(executionId)?.abort(reason);
  }

  /** The execution as stored after a write of it lost a race (`NotFoundError` when gone). */
  async reread(execution: Execution, cause: unknown): Promise<Execution> {
    const fresh = await this.#ctx.stores.executions.get(execution.id);
    if (fresh === undefined) throw new NotFoundError('execution', execution.id, { cause });
    return fresh;
  }

  async #runStep(execution: Execution): Promise<Execution> {
    const prepared = prepareStep(this.#ctx, execution);
    switch (prepared.kind) {
      case 'limit': {
        const failed = await this.#write(prepared.failed, execution);
        emitEnd(this.#ctx.events, failed);
        return failed;
      }
      case 'failure':
        return this.finish(prepared.begun, execution, prepared.step, prepared.outcome);
      case 'stateful':
        return this.parkOnJob(prepared.work, execution);
      case 'inline': {
        const end = await runInlineHandler(this.#ctx, prepared.work, this.#inflight);
        const { execution: begun, step } = prepared.work;
        if (end.kind === 'outcome') return this.#finishInline(begun, execution, step, end.outcome);
        const parked = await this.#write(
          parkExecution(begun, end.wait, this.#ctx.clock.now()),
          execution,
        );
        emitTransition(this.#ctx.events, parked, step.id, { kind: 'wait' });
        return parked;
      }
    }
  }

  /**
   * Creates the step's job and parks the execution on it, in one unit of work (written
   * over `before`'s version), then emits `job:created` and `execution:waiting`.
   */
  async parkOnJob(work: Begun, before: Execution): Promise<Execution> {
    const { job, parked } = await this.#createJobAndPark(work, before);
    this.#emitParked(work, job, parked);
    return parked;
  }

  /**
   * Ends the visit `begun` with `outcome` (bounded by the payload limit, see
   * `applyBoundedOutcome`), written over `before`'s version, and emits its transition. A
   * success the store refuses with `ValidationError` is written as that failure instead.
   */
  async finish(
    begun: Execution,
    before: Execution,
    step: FlowStep,
    outcome: StepOutcome,
  ): Promise<Execution> {
    const now = this.#ctx.clock.now();
    const bounded = applyBoundedOutcome(begun, step, outcome, now, this.#ctx.maxPayloadBytes);
    return this.#writeOutcome(begun, before, step, bounded, now);
  }

  /**
   * `finish` for an inline visit. When its outcome leads to a stateful step, that step
   * begins in the same write: its job is created and the execution parked on it in one
   * transaction over `before`'s version, instead of the outcome written first and the park
   * after it (one write and one commit fewer, e.g. for every start of a flow whose first
   * step is inline and second stateful). Nothing is lost by the merge: the handler has
   * returned, and a crash before the commit re-runs it, as a crash before the outcome's own
   * write would. Events follow the commit, in the order the two writes would give them;
   * the `step:completed` (or `step:failed`) execution is the state between the two steps,
   * never stored on its own. When that write is refused with `ValidationError`, the outcome
   * is written alone, as `finish` does, and the next step runs as usual.
   */
  async #finishInline(
    begun: Execution,
    before: Execution,
    step: FlowStep,
    outcome: StepOutcome,
  ): Promise<Execution> {
    const now = this.#ctx.clock.now();
    const bounded = applyBoundedOutcome(begun, step, outcome, now, this.#ctx.maxPayloadBytes);
    const next = this.#statefulNext(bounded.execution);
    if (next !== undefined) {
      try {
        const { job, parked } = await this.#createJobAndPark(next, before);
        emitTransition(this.#ctx.events, bounded.execution, step.id, bounded.outcome);
        this.#ctx.events.emit('step:started', {
          execution: next.execution,
          stepId: next.step.id,
        });
        this.#emitParked(next, job, parked);
        return parked;
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
      }
    }
    return this.#writeOutcome(begun, before, step, bounded, now);
  }

  /**
   * The begun visit of the step `execution` goes to next, when that step is stateful and
   * can begin (known, within the step limit, its input selectable); `step:started` not yet
   * emitted. Anything else, an unknown step included, is left to the usual path.
   */
  #statefulNext(execution: Execution): Begun | undefined {
    if (execution.status !== 'running') return undefined;
    try {
      const prepared = prepareStep(this.#ctx, execution, false);
      return prepared.kind === 'stateful' ? prepared.work : undefined;
    } catch {
      return undefined;
    }
  }

  async #writeOutcome(
    begun: Execution,
    before: Execution,
    step: FlowStep,
    bounded: BoundedOutcome,
    now: number,
  ): Promise<Execution> {
    let applied = bounded.outcome;
    let stored: Execution;
    try {
      stored = await this.#write(bounded.execution, before);
    } catch (error) {
      // The store refused the success (e.g. its payload limit is below the engine's): that
      // would repeat on every recovery, so the step fails with the store's reason instead.
      if (!(error instanceof ValidationError) || applied.kind !== 'success') throw error;
      applied = { kind: 'failure', error: toErrorInfo(error) };
      stored = await this.#write(applyStepOutcome(begun, step, applied, now), before);
    }
    emitTransition(this.#ctx.events, stored, step.id, applied);
    return stored;
  }

  /** Creates `work`'s job and parks its execution on it in one transaction over `before`. */
  async #createJobAndPark(
    work: Begun,
    before: Execution,
  ): Promise<{ job: Job; parked: Execution }> {
    const { stores, clock } = this.#ctx;
    return stores.transaction(async (tx) => {
      const job = await tx.jobs.create(newStepJob(work));
      const parked = await tx.executions.update({
        execution: parkedOnJob(work, job.id, clock.now()),
        expectedVersion: before.version,
      });
      return { job, parked };
    });
  }

  #emitParked(work: Begun, job: Job, parked: Execution): void {
    this.#ctx.events.emit('job:created', { job });
    emitTransition(this.#ctx.events, parked, work.step.id, { kind: 'wait' });
  }

  #write(next: Execution, before: Execution): Promise<Execution> {
    return this.#ctx.stores.executions.update({ execution: next, expectedVersion: before.version });
  }
}
