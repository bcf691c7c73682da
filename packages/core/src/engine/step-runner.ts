import type { Clock } from '../clock.js';
import {
  ConcurrencyError,
  NotFoundError,
  StepLimitExceededError,
  ValidationError,
} from '../errors.js';
import type { EventBus } from '../events.js';
import type { Execution } from '../execution.js';
import { usesDefaultMaxSteps } from '../flow/define-flow.js';
import type { FlowRegistry } from '../flow/flow-registry.js';
import { selectInput } from '../flow/select-input.js';
import type { Flow, FlowStep } from '../flow.js';
import type { StepHandler } from '../handler.js';
import type { HandlerRegistry } from '../handler-registry.js';
import type { Logger } from '../logger.js';
import { type StepResult, toErrorInfo } from '../result.js';
import type { Stores } from '../stores/stores.js';
import { assertJsonPayload } from '../validation.js';
import { applyBoundedOutcome } from './bounded-outcome.js';
import { emitEnd, emitTransition } from './emit-transition.js';
import type { StepOutcome } from './engine-types.js';
import { buildStepJob } from './step-job.js';
import {
  applyStepOutcome,
  beginStep,
  currentVisit,
  failExecution,
  parkExecution,
} from './transitions.js';

/** What the engine shares with its {@link StepRunner}. */
export interface EngineContext {
  stores: Stores;
  flows: FlowRegistry;
  handlers: HandlerRegistry;
  clock: Clock;
  events: EventBus;
  log: Logger;
  /** Step limit for flows without their own `maxSteps`. */
  maxSteps: number;
  maxPayloadBytes: number;
}

type Begun = { execution: Execution; step: FlowStep; handler: StepHandler; input: unknown };

/**
 * Advances executions through their inline steps, one optimistic-concurrency write per step,
 * until they wait or end. Internal to the engine.
 */
export class StepRunner {
  readonly #ctx: EngineContext;
  /** Abort controllers of inline handlers running in this process, by execution id. */
  readonly #inflight = new Map<string, AbortController>();

  constructor(ctx: EngineContext) {
    this.#ctx = ctx;
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
        const fresh = await this.#ctx.stores.executions.get(current.id);
        if (fresh === undefined) throw new NotFoundError('execution', current.id, { cause: error });
        return fresh;
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
      this.#ctx.log.error(
        { err: error, executionId: execution.id },
        'running the inline steps after a commit failed; recoverStale will retry them',
      );
      try {
        return (await this.#ctx.stores.executions.get(execution.id)) ?? execution;
      } catch {
        return execution;
      }
    }
  }

  /** Aborts the inline handler running for `executionId` in this process, if any. */
  abort(executionId: string, reason: string): void {
    this.#inflight.get(executionId)?.abort(reason);
  }

  /** The step limit that applies to `flow`. */
  limitFor(flow: Flow): number {
    return usesDefaultMaxSteps(flow) ? this.#ctx.maxSteps : flow.maxSteps;
  }

  async #runStep(execution: Execution): Promise<Execution> {
    const { flows, handlers, clock, events } = this.#ctx;
    const flow = flows.get(execution.flowId, execution.flowVersion);
    const stepId = execution.currentStepId ?? flow.initialStepId;
    const step = flow.steps[stepId];
    if (step === undefined) throw new NotFoundError('step', `${flow.id}/${stepId}`);
    const limit = this.limitFor(flow);
    if (execution.stepCount >= limit) {
      const error = toErrorInfo(new StepLimitExceededError(execution.id, limit));
      error.message += ` (flow "${flow.id}" stopped before step "${stepId}"; raise maxSteps if the loop is intended)`;
      const failed = await this.#write(failExecution(execution, error, clock.now()), execution);
      emitEnd(events, failed);
      return failed;
    }
    const handler = handlers.get(step.type);
    const begun = beginStep(execution, step, clock.now());
    events.emit('step:started', { execution: begun, stepId });
    let input: unknown;
    try {
      input = selectInput(step.input, begun.context);
      if (handler.metadata.stateful === true) {
        assertJsonPayload(input, `steps.${stepId}.input`, { maxBytes: this.#ctx.maxPayloadBytes });
      }
    } catch (error) {
      return this.#finish(begun, execution, step, { kind: 'failure', error: toErrorInfo(error) });
    }
    const work: Begun = { execution: begun, step, handler, input };
    if (handler.metadata.stateful === true) return this.#parkOnJob(work, execution);
    return this.#runInline(work, execution);
  }

  /** Creates the step's job and parks the execution on it, in one unit of work. */
  async #parkOnJob(work: Begun, before: Execution): Promise<Execution> {
    const { stores, clock, events } = this.#ctx;
    const { execution, step, handler, input } = work;
    const newJob = buildStepJob(execution, step, handler, input, currentVisit(execution));
    const { job, parked } = await stores.transaction(async (tx) => {
      const created = await tx.jobs.create(newJob);
      const wait = { stepId: step.id, jobId: created.id, reason: `job:${step.type}`, until: null };
      const next = parkExecution(execution, wait, clock.now());
      const stored = await tx.executions.update({
        execution: next,
        expectedVersion: before.version,
      });
      return { job: created, parked: stored };
    });
    events.emit('job:created', { job });
    emitTransition(events, parked, step.id, { kind: 'wait' });
    return parked;
  }

  /** Runs an inline handler and writes where its result leads. */
  async #runInline(work: Begun, before: Execution): Promise<Execution> {
    const { execution, step, handler, input } = work;
    const controller = new AbortController();
    this.#inflight.set(execution.id, controller);
    let result: StepResult | undefined;
    let outcome: StepOutcome | undefined;
    try {
      result = await handler.execute({
        input,
        config: step.config,
        execution,
        step,
        signal: controller.signal,
        log: this.#ctx.log.child({
          executionId: execution.id,
          flowId: execution.flowId,
          stepId: step.id,
        }),
      });
    } catch (error) {
      outcome = { kind: 'failure', error: toErrorInfo(error) };
    } finally {
      this.#inflight.delete(execution.id);
    }
    if (outcome === undefined && result?.kind === 'wait') {
      const wait = { stepId: step.id, jobId: null, reason: result.reason, until: result.until };
      const parked = await this.#write(
        parkExecution(execution, wait, this.#ctx.clock.now()),
        before,
      );
      emitTransition(this.#ctx.events, parked, step.id, { kind: 'wait' });
      return parked;
    }
    return this.#finish(execution, before, step, outcome ?? this.#toOutcome(result, step));
  }

  #toOutcome(result: StepResult | undefined, step: FlowStep): StepOutcome {
    if (result?.kind === 'failure') return { kind: 'failure', error: result.error };
    if (result?.kind !== 'success') {
      const message = `handler "${step.type}" returned ${JSON.stringify(result?.kind ?? result)}, not a Result`;
      return { kind: 'failure', error: { code: 'INVALID_RESULT', message } };
    }
    try {
      const field = `context.${step.outputKey ?? step.id}`;
      assertJsonPayload(result.output, field, { maxBytes: this.#ctx.maxPayloadBytes });
    } catch (error) {
      return { kind: 'failure', error: toErrorInfo(error) };
    }
    return { kind: 'success', output: result.output };
  }

  async #finish(
    begun: Execution,
    before: Execution,
    step: FlowStep,
    outcome: StepOutcome,
  ): Promise<Execution> {
    const now = this.#ctx.clock.now();
    const bounded = applyBoundedOutcome(begun, step, outcome, now, this.#ctx.maxPayloadBytes);
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

  #write(next: Execution, before: Execution): Promise<Execution> {
    return this.#ctx.stores.executions.update({ execution: next, expectedVersion: before.version });
  }
}
