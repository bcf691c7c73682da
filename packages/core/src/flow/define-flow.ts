import { FlowDefinitionError, ValidationError } from '../errors.js';
import type { Flow, FlowDefinition, FlowStep, StepDefinition } from '../flow.js';
import { MAX_PRIORITY, MIN_PRIORITY } from '../job.js';
import { normalizeRetryPolicy, QUEUE_NAME_PATTERN } from '../validation.js';
import { deepFreeze } from './deep-freeze.js';
import { isValidInputPath } from './select-input.js';

/** Steps an execution may start when neither the flow nor the engine sets a limit. */
export const DEFAULT_MAX_STEPS = 1000;

/** Flow and step ids: letters, digits, `_`, `-`, `:`, and (flow ids only) `.` and `/`; at most 128 characters. */
const FLOW_ID = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$/;
const STEP_ID = /^[A-Za-z0-9_][A-Za-z0-9_:-]{0,127}$/;
/** Context keys a step may not write: `input` holds the execution input; the rest pollute prototypes. */
const RESERVED_KEYS = new Set(['input', '__proto__', 'constructor', 'prototype']);

const flowsWithDefaultMaxSteps = new WeakSet<Flow>();

/**
 * True when `flow` was defined without its own `maxSteps`, so an engine-wide limit applies
 * instead of {@link DEFAULT_MAX_STEPS}.
 */
export function usesDefaultMaxSteps(flow: Flow): boolean {
  return flowsWithDefaultMaxSteps.has(flow);
}

/**
 * Validates a flow definition and returns it as a deep-frozen {@link Flow} whose steps carry
 * their ids. `version` defaults to 1 and `maxSteps` to {@link DEFAULT_MAX_STEPS} (or the
 * engine's `maxSteps`). Loops are allowed; the step limit guards them at run time.
 *
 * Throws {@link FlowDefinitionError} naming the flow, the step and the field for: an empty
 * or malformed id, a missing or unknown `initialStepId`, a step without `type`, a
 * transition to an unknown step, a step not reachable from the initial step, a bad
 * `outputKey`, `input` or `transitions`, a malformed `retry` policy, and out-of-range
 * `version`, `maxSteps`, `maxAttempts`, `timeoutMs`, `priority` or `queue`. Handler types
 * are checked later, when an engine registers the flow.
 */
export function defineFlow(definition: FlowDefinition): Flow {
  const flowId = validateFlowFields(definition);
  const stepIds = Object.keys(definition.steps);
  const steps: Record<string, FlowStep> = {};
  for (const stepId of stepIds) {
    const step = definition.steps[stepId];
    validateStep(flowId, stepId, step, definition.steps);
    steps[stepId] = { ...(step as StepDefinition), id: stepId };
  }
  checkReachability(flowId, definition.initialStepId, steps);
  const flow: Flow = deepFreeze({
    id: flowId,
    version: definition.version ?? 1,
    name: definition.name,
    initialStepId: definition.initialStepId,
    steps,
    maxSteps: definition.maxSteps ?? DEFAULT_MAX_STEPS,
  });
  if (definition.maxSteps === undefined) flowsWithDefaultMaxSteps.add(flow);
  return flow;
}

function validateFlowFields(definition: FlowDefinition): string {
  const rawId: unknown = definition?.id;
  const flowId = typeof rawId === 'string' ? rawId : String(rawId);
  if (typeof rawId !== 'string' || !FLOW_ID.test(rawId)) {
    throw new FlowDefinitionError(flowId, undefined, 'id', `must match ${FLOW_ID}`);
  }
  if (definition.version !== undefined && !isPositiveInteger(definition.version)) {
    throw new FlowDefinitionError(flowId, undefined, 'version', 'must be a positive integer');
  }
  if (definition.maxSteps !== undefined && !isPositiveInteger(definition.maxSteps)) {
    throw new FlowDefinitionError(flowId, undefined, 'maxSteps', 'must be a positive integer');
  }
  if (typeof definition.steps !== 'object' || definition.steps === null) {
    throw new FlowDefinitionError(flowId, undefined, 'steps', 'must be an object of steps');
  }
  if (Object.keys(definition.steps).length === 0) {
    throw new FlowDefinitionError(flowId, undefined, 'steps', 'must define at least one step');
  }
  const initial: unknown = definition.initialStepId;
  if (typeof initial !== 'string' || initial.length === 0) {
    throw new FlowDefinitionError(flowId, undefined, 'initialStepId', 'is required');
  }
  if (!Object.hasOwn(definition.steps, initial)) {
    throw new FlowDefinitionError(flowId, undefined, 'initialStepId', `unknown step "${initial}"`);
  }
  return flowId;
}

function validateStep(
  flowId: string,
  stepId: string,
  step: StepDefinition | undefined,
  steps: Record<string, StepDefinition>,
): void {
  const fail = (field: string, message: string): never => {
    throw new FlowDefinitionError(flowId, stepId, field, message);
  };
  if (!STEP_ID.test(stepId)) fail('id', `must match ${STEP_ID}`);
  if (typeof step !== 'object' || step === null) {
    throw new FlowDefinitionError(flowId, stepId, 'step', 'must be an object');
  }
  if (typeof step.type !== 'string' || step.type.length === 0) {
    fail('type', 'is required (the handler type that runs the step)');
  }
  validateOutputKey(
    step.outputKey ?? stepId,
    step.outputKey !== undefined ? 'outputKey' : 'id',
    fail,
  );
  if (step.input !== undefined) {
    const ok =
      typeof step.input === 'function' ||
      (typeof step.input === 'string' && isValidInputPath(step.input));
    if (!ok) fail('input', "must be '$', a dotted path such as 'input.order.id', or a function");
  }
  const transitions: unknown = step.transitions;
  if (transitions !== undefined && (typeof transitions !== 'object' || transitions === null)) {
    fail('transitions', 'must be an object { onSuccess?, onFailure? }');
  }
  for (const key of ['onSuccess', 'onFailure'] as const) {
    const target: unknown = step.transitions?.[key];
    if (target === undefined || target === null) continue;
    if (typeof target !== 'string' || !Object.hasOwn(steps, target)) {
      fail(`transitions.${key}`, `unknown step "${String(target)}"`);
    }
  }
  validateJobFields(step, fail);
  try {
    normalizeRetryPolicy(step.retry, 'retry');
  } catch (error) {
    const field = error instanceof ValidationError ? error.field : 'retry';
    throw new FlowDefinitionError(flowId, stepId, field, 'is not a valid retry policy', {
      cause: error,
    });
  }
}

function validateOutputKey(
  key: unknown,
  field: string,
  fail: (field: string, message: string) => never,
): void {
  if (typeof key !== 'string' || key.length === 0) fail(field, 'must be a non-empty string');
  const text = String(key);
  if (text.includes('.')) fail(field, 'must not contain "." (it could not be selected by a path)');
  if (RESERVED_KEYS.has(text)) {
    fail(field, `"${text}" is reserved in the execution context; set another outputKey`);
  }
}

function validateJobFields(step: StepDefinition, fail: (f: string, m: string) => never): void {
  if (step.maxAttempts !== undefined && !isPositiveInteger(step.maxAttempts)) {
    fail('maxAttempts', 'must be a positive integer');
  }
  if (step.timeoutMs !== undefined && !isPositiveInteger(step.timeoutMs)) {
    fail('timeoutMs', 'must be a positive integer number of milliseconds');
  }
  const priority: unknown = step.priority;
  if (
    priority !== undefined &&
    !(
      Number.isInteger(priority) &&
      Number(priority) >= MIN_PRIORITY &&
      Number(priority) <= MAX_PRIORITY
    )
  ) {
    fail('priority', `must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}`);
  }
  if (
    step.queue !== undefined &&
    (typeof step.queue !== 'string' || !QUEUE_NAME_PATTERN.test(step.queue))
  ) {
    fail('queue', `must match ${QUEUE_NAME_PATTERN}`);
  }
}

function checkReachability(flowId: string, initial: string, steps: Record<string, FlowStep>): void {
  const seen = new Set<string>([initial]);
  const pending = [initial];
  for (let stepId = pending.pop(); stepId !== undefined; stepId = pending.pop()) {
    const transitions = steps[stepId]?.transitions;
    for (const next of [transitions?.onSuccess, transitions?.onFailure]) {
      if (typeof next === 'string' && !seen.has(next)) {
        seen.add(next);
        pending.push(next);
      }
    }
  }
  for (const stepId of Object.keys(steps)) {
    if (!seen.has(stepId)) {
      throw new FlowDefinitionError(
        flowId,
        stepId,
        'transitions',
        `unreachable: no onSuccess/onFailure path leads here from "${initial}"`,
      );
    }
  }
}

function isPositiveInteger(value: unknown): boolean {
  return Number.isSafeInteger(value) && Number(value) > 0;
}
