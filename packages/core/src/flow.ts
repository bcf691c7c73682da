import type { RetryPolicy } from './retry-policy.js';

/**
 * How a step takes its input from the execution context:
 * - omitted or `'$'`: the whole context (`{ input, <stepOutputs>... }`);
 * - a dotted path such as `'input.order'` or `'charge.id'`: that value;
 * - a function of the context: whatever it returns.
 */
export type InputSelector = string | ((context: Readonly<Record<string, unknown>>) => unknown);

/**
 * Where a step goes next. A step id continues there; `null` or omitted ends the
 * execution: `completed` after a success, `failed` after a failure.
 */
export interface StepTransitions {
  onSuccess?: string | null;
  onFailure?: string | null;
}

/** One step of a flow definition, as written by the user (the id is the record key). */
export interface StepDefinition {
  /** Handler type that runs the step. */
  type: string;
  name?: string;
  /** Static config passed to the handler. */
  config?: unknown;
  input?: InputSelector;
  /** Context key the step's output is stored under. @default the step id */
  outputKey?: string;
  transitions?: StepTransitions;
  /** For stateful steps: overrides the handler's `defaultMaxAttempts`. */
  maxAttempts?: number;
  /** For stateful steps: per-attempt time limit in ms, overriding the handler's. */
  timeoutMs?: number;
  /** For stateful steps: overrides the handler's retry policy. */
  retry?: RetryPolicy;
  /** For stateful steps: job priority. @default 0 */
  priority?: number;
  /** For stateful steps: job queue. @default 'default' */
  queue?: string;
}

/** A step of a validated flow: the definition plus its id. */
export interface FlowStep extends StepDefinition {
  id: string;
}

/** Input to `defineFlow`. */
export interface FlowDefinition {
  id: string;
  /** @default 1 */
  version?: number;
  name?: string;
  initialStepId: string;
  steps: Record<string, StepDefinition>;
  /** Steps an execution may start before it fails with `STEP_LIMIT_EXCEEDED`. @default 1000 */
  maxSteps?: number;
}

/** A validated, frozen flow. */
export interface Flow {
  readonly id: string;
  readonly version: number;
  readonly name: string | undefined;
  readonly initialStepId: string;
  readonly steps: Readonly<Record<string, Readonly<FlowStep>>>;
  readonly maxSteps: number;
}
