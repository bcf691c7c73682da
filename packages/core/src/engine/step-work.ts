/**
 * The steps of one inline visit that do not touch a store, shared by the one-execution
 * path (`StepRunner.advance`) and the batched one (`StepBatch`): pick the step and begin
 * its visit, run its handler, and turn what the handler returned into the execution to
 * write. Internal to the engine.
 */

import { assertJsonPayload } from '../assert-json-payload.js';
import type { Clock } from '../clock.js';
import { NotFoundError, StepLimitExceededError } from '../errors.js';
import type { EventBus } from '../events.js';
import type { Execution, WaitState } from '../execution.js';
import { usesDefaultMaxSteps } from '../flow/define-flow.js';
import type { FlowRegistry } from '../flow/flow-registry.js';
import { selectInput } from '../flow/select-input.js';
import type { Flow, FlowStep } from '../flow.js';
import type { StepHandler } from '../handler.js';
import type { HandlerRegistry } from '../handler-registry.js';
import type { NewJob } from '../job.js';
import type { Logger } from '../logger.js';
import { type StepResult, toErrorInfo } from '../result.js';
import type { Stores } from '../stores/stores.js';
import type { StepOutcome } from './engine-types.js';
import { buildStepJob } from './step-job.js';
import { beginStep, currentVisit, failExecution, parkExecution } from './transitions.js';

/** What the engine shares with its {@link StepRunner} and the batch paths. */
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

/** A visit that began: the execution with its open record, and what its handler needs. */
export interface Begun {
  execution: Execution;
  step: FlowStep;
  handler: StepHandler;
  input: unknown;
}

/** The job a stateful step's visit `work` creates. */
export function newStepJob(work: Begun): NewJob {
  const { execution, step, handler, input } = work;
  return buildStepJob(execution, step, handler, input, currentVisit(execution));
}

/** `work`'s execution parked at `now` on `jobId`, the job of its stateful step. */
export function parkedOnJob(work: Begun, jobId: string, now: number): Execution {
  const wait = { stepId: work.step.id, jobId, reason: `job:${work.step.type}`, until: null };
  return parkExecution(work.execution, wait, now);
}

/**
 * The next move of a `pending`/`running` execution, decided by {@link prepareStep}:
 * `limit` (fail it: the step limit is reached), `failure` (the visit began but its input
 * could not be selected: finish it with `outcome`), `stateful` (create the job and park),
 * `inline` (run the handler).
 */
export type PreparedStep =
  | { kind: 'limit'; failed: Execution }
  | { kind: 'failure'; begun: Execution; step: FlowStep; outcome: StepOutcome }
  | { kind: 'stateful'; work: Begun }
  | { kind: 'inline'; work: Begun };

/** What an inline handler's run led to: a wait to park in, or an outcome to apply. */
export type HandlerEnd =
  | { kind: 'wait'; wait: WaitState }
  | { kind: 'outcome'; outcome: StepOutcome };

/** The step limit that applies to `flow`: its own `maxSteps`, else the engine's. */
export function stepLimitFor(ctx: EngineContext, flow: Flow): number {
  return usesDefaultMaxSteps(flow) ? ctx.maxSteps : flow.maxSteps;
}

/**
 * The flow of `execution` and its step `id` (by default the step it is at: its current
 * step, else the flow's first). Throws `NotFoundError` for a flow or step this engine does
 * not know.
 */
export function flowStep(
  ctx: EngineContext,
  execution: Execution,
  id?: string,
): { flow: Flow; stepId: string; step: FlowStep } {
  const flow = ctx.flows.get(execution.flowId, execution.flowVersion);
  const stepId = id ?? execution.currentStepId ?? flow.initialStepId;
  const step = flow.steps[stepId];
  if (step === undefined) throw new NotFoundError('step', `${flow.id}/${stepId}`);
  return { flow, stepId, step };
}

/**
 * Decides the next move of `execution` and, unless the step limit is reached, begins the
 * visit (emitting `step:started`, unless `emitStarted` is false: the caller then emits it
 * itself). Throws `NotFoundError` for a flow, step or handler this engine does not know.
 */
export function prepareStep(
  ctx: EngineContext,
  execution: Execution,
  emitStarted = true,
): PreparedStep {
  const { handlers, clock, events } = ctx;
  const { flow, stepId, step } = flowStep(ctx, execution);
  const limit = stepLimitFor(ctx, flow);
  if (execution.stepCount >= limit) {
    const error = toErrorInfo(new StepLimitExceededError(execution.id, limit));
    error.message += ` (flow "${flow.id}" stopped before step "${stepId}"; raise maxSteps if the loop is intended)`;
    return { kind: 'limit', failed: failExecution(execution, error, clock.now()) };
  }
  const handler = handlers.get(step.type);
  const begun = beginStep(execution, step, clock.now());
  if (emitStarted) events.emit('step:started', { execution: begun, stepId });
  const stateful = handler.metadata.stateful === true;
  let input: unknown;
  try {
    input = selectInput(step.input, begun.context);
    if (stateful) {
      assertJsonPayload(input, `steps.${stepId}.input`, { maxBytes: ctx.maxPayloadBytes });
    }
  } catch (error) {
    return {
      kind: 'failure',
      begun,
      step,
      outcome: { kind: 'failure', error: toErrorInfo(error) },
    };
  }
  const work: Begun = { execution: begun, step, handler, input };
  return stateful ? { kind: 'stateful', work } : { kind: 'inline', work };
}

/**
 * Runs an inline handler (registered in `inflight` under the execution id while it runs,
 * so `abort` can reach it) and returns where it leads. A handler that throws, returns
 * something that is not a `Result`, or a success whose output is not JSON within
 * `maxPayloadBytes`, ends in a failure outcome; this never throws.
 */
export async function runInlineHandler(
  ctx: EngineContext,
  work: Begun,
  inflight: Map<string, AbortController>,
): Promise<HandlerEnd> {
  const { execution, step, handler, input } = work;
  const controller = new AbortController();
  inflight.set(execution.id, controller);
  let result: StepResult | undefined;
  try {
    result = await handler.execute({
      input,
      config: step.config,
      execution,
      step,
      signal: controller.signal,
      log: ctx.log.child({ executionId: execution.id, flowId: execution.flowId, stepId: step.id }),
    });
  } catch (error) {
    return { kind: 'outcome', outcome: { kind: 'failure', error: toErrorInfo(error) } };
  } finally {
    if (inflight.get(execution.id) === controller) inflight.delete(execution.id);
  }
  if (result?.kind === 'wait') {
    const wait = { stepId: step.id, jobId: null, reason: result.reason, until: result.until };
    return { kind: 'wait', wait };
  }
  return { kind: 'outcome', outcome: toOutcome(ctx, result, step) };
}

/** A handler's `Result` as the outcome to apply (a bad result or output is a failure). */
function toOutcome(
  ctx: EngineContext,
  result: StepResult | undefined,
  step: FlowStep,
): StepOutcome {
  if (result?.kind === 'failure') return { kind: 'failure', error: result.error };
  if (result?.kind !== 'success') {
    const message = `handler "${step.type}" returned ${JSON.stringify(result?.kind ?? result)}, not a Result`;
    return { kind: 'failure', error: { code: 'INVALID_RESULT', message } };
  }
  try {
    const field = `context.${step.outputKey ?? step.id}`;
    assertJsonPayload(result.output, field, { maxBytes: ctx.maxPayloadBytes });
  } catch (error) {
    return { kind: 'failure', error: toErrorInfo(error) };
  }
  return { kind: 'success', output: result.output };
}
