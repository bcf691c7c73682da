import { assertJsonPayload } from '../assert-json-payload.js';
import { ValidationError } from '../errors.js';
import type { Execution } from '../execution.js';
import type { FlowStep } from '../flow.js';
import { toErrorInfo } from '../result.js';
import type { StepOutcome } from './engine-types.js';
import { applyStepOutcome } from './transitions.js';

/** An execution after a step ended, and the outcome that was actually applied. */
export interface BoundedOutcome {
  /** The execution to write. */
  execution: Execution;
  /** `outcome` as given, or the failure it was turned into. */
  outcome: StepOutcome;
}

/**
 * Applies `outcome` to `execution` (see `applyStepOutcome`) unless a success would make the
 * context, which holds every step's output, larger than `maxBytes` UTF-8 bytes of JSON (or
 * not JSON at all). Such a success becomes a failure of the step with a `VALIDATION_ERROR`
 * naming `context.<outputKey>`, so it takes the step's `onFailure` or fails the execution
 * instead of being refused by the store on every attempt. Checked before anything is
 * written; the store's own limit should be the same `maxBytes`.
 */
export function applyBoundedOutcome(
  execution: Execution,
  step: FlowStep,
  outcome: StepOutcome,
  now: number,
  maxBytes: number,
): BoundedOutcome {
  const next = applyStepOutcome(execution, step, outcome, now);
  if (outcome.kind !== 'success') return { execution: next, outcome };
  const error = contextError(next.context, `context.${step.outputKey ?? step.id}`, maxBytes);
  if (error === undefined) return { execution: next, outcome };
  const failure: StepOutcome = { kind: 'failure', error: toErrorInfo(error) };
  return { execution: applyStepOutcome(execution, step, failure, now), outcome: failure };
}

/**
 * Why `context` cannot be stored, or `undefined` when it can. Serialising it is the cheap
 * common case; the full `assertJsonPayload` walk only runs when the size is near the limit
 * or serialising fails.
 */
function contextError(context: unknown, field: string, maxBytes: number): Error | undefined {
  try {
    if (JSON.stringify(context).length * 3 <= maxBytes) return undefined;
  } catch {
    // Not JSON: the walk below names the bad value.
  }
  try {
    assertJsonPayload(context, 'context', { maxBytes });
    return undefined;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    if (error.field !== 'context') return error;
    return new ValidationError(
      field,
      `would make the execution context (every step's output) larger than ${maxBytes} bytes as JSON`,
      { cause: error, details: { maxBytes } },
    );
  }
}
