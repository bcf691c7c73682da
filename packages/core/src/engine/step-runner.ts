import { ConcurrencyError, NotFoundError, ValidationError } from '../errors.js';
import type { Execution } from '../execution.js';
import type { FlowStep } from '../flow.js';
import { uuidv7 } from '../ids.js';
import type { Job } from '../job.js';
import { toErrorInfo } from '../result.js';
import { applyBoundedOutcome, type BoundedOutcome } from './bounded-outcome.js';
import { emitEnd, emitTransition } from './emit-transition.js';
import type { StepOutcome } from './engine-types.js';
import { StepBatch } from './step-batch.js';
import {
  type Begun,
  type EngineContext,
  flowStep,
  newStepJob,
  type PreparedStep,
  parkedOnJob,
  prepareStep,
  runInlineHandler,
} from './step-work.js';
import { applyStepOutcome, beginStep, parkExecution } from './transitions.js';

export type { EngineContext } from './step-work.js';

/**
 * Advances executions through their inline steps, one optimistic-concurrency write per step
 * (an inline step that leads to a stateful one shares its write with that step's park),
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
    return (await this.#writeOutcome(begun, before, step, bounded, now)).stored;
  }

  /**
   * `finish` for an inline visit. When its outcome leads to a stateful step, that step
   * begins in the same write: its job is created and the execution parked on it in one
   * unit of work over `before`'s version, instead of the outcome written first and the park
   * after it (one write and one commit fewer, e.g. for every start of a flow whose first
   * step is inline and second stateful). The handler has returned by then, so merging
   * changes only what a failed write costs: when that write fails for any reason (a
   * crash, a lost connection, a deadlock), the inline outcome is lost with it and the inline
   * step runs again on recovery, where before only a failure of its own write did that.
   * Events follow the commit, in the order the two writes would give them; the
   * `step:completed` (or `step:failed`) and `step:started` executions are the states
   * around the two steps, never stored on their own (their `version` is `before`'s). When
   * the combined write is refused with `ValidationError`, the outcome is written alone, as
   * `finish` does, and the next step begins after it as usual (its input not selected
   * again).
   */
  async #finishInline(
    begun: Execution,
    before: Execution,
    step: FlowStep,
    outcome: StepOutcome,
  ): Promise<Execution> {
    const { clock, events, maxPayloadBytes } = this.#ctx;
    const now = clock.now();
    const bounded = applyBoundedOutcome(begun, step, outcome, now, maxPayloadBytes);
    const next = this.#prepareStatefulNext(bounded.execution);
    if (next?.kind === 'stateful') {
      const merged = await this.#createJobAndPark(next.work, before).catch((error: unknown) => {
        if (error instanceof ValidationError) return undefined;
        throw error;
      });
      if (merged !== undefined) {
        emitTransition(events, bounded.execution, step.id, bounded.outcome);
        events.emit('step:started', { execution: next.work.execution, stepId: next.work.step.id });
        this.#emitParked(next.work, merged.job, merged.parked);
        return merged.parked;
      }
    }
    const { stored, applied } = await this.#writeOutcome(begun, before, step, bounded, now);
    // The next step was prepared above: it begins from what was written, unless the write
    // changed the outcome (then the execution goes elsewhere) or the step limit stops it.
    if (next === undefined || next.kind === 'limit' || applied !== bounded.outcome) return stored;
    if (next.kind === 'stateful') {
      const work = { ...next.work, execution: beginStep(stored, next.work.step, clock.now()) };
      events.emit('step:started', { execution: work.execution, stepId: work.step.id });
      return this.parkOnJob(work, stored);
    }
    const failing = beginStep(stored, next.step, clock.now());
    events.emit('step:started', { execution: failing, stepId: next.step.id });
    return this.finish(failing, stored, next.step, next.outcome);
  }

  /**
   * How the step `execution` goes to next would begin (`prepareStep`, with `step:started`
   * not emitted), when that step is stateful; `undefined` for any other step and for an
   * unknown flow, step or handler, which the usual path reports. An inline step's input
   * selector (user code) is not run here; a stateful step's sees the context as a write
   * would store it (JSON: a `Date` output as its ISO text), as it does after a separate
   * write.
   */
  #prepareStatefulNext(
    execution: Execution,
  ): Exclude<PreparedStep, { kind: 'inline' }> | undefined {
    if (execution.status !== 'running') return undefined;
    try {
      const { step } = flowStep(this.#ctx, execution);
      if (this.#ctx.handlers.get(step.type).metadata.stateful !== true) return undefined;
      const context = JSON.parse(JSON.stringify(execution.context)) as Execution['context'];
      const prepared = prepareStep(this.#ctx, { ...execution, context }, false);
      return prepared.kind === 'inline' ? undefined : prepared;
    } catch {
      return undefined;
    }
  }

  /** Writes `bounded` over `before` (see `finish`); returns it as stored and as applied. */
  async #writeOutcome(
    begun: Execution,
    before: Execution,
    step: FlowStep,
    bounded: BoundedOutcome,
    now: number,
  ): Promise<{ stored: Execution; applied: StepOutcome }> {
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
    return { stored, applied };
  }

  /**
   * Creates `work`'s job and parks its execution on it, both or neither, over `before`:
   * with `stores.parkOnNewJob` when the store set has it (one round trip for Postgres),
   * else, and when that finds the job's idempotency key taken, in one `transaction` (whose
   * `jobs.create` returns the job holding the key).
   */
  async #createJobAndPark(
    work: Begun,
    before: Execution,
  ): Promise<{ job: Job; parked: Execution }> {
    const { stores, clock } = this.#ctx;
    if (stores.parkOnNewJob !== undefined) {
      const now = clock.now();
      const job = { ...newStepJob(work), id: uuidv7(now) };
      const written = await stores.parkOnNewJob({
        job,
        execution: parkedOnJob(work, job.id, now),
        expectedVersion: before.version,
      });
      if (written !== undefined) return { job: written.job, parked: written.execution };
    }
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
