/**
 * Pure state transitions of an execution. Each function returns a new execution (the
 * input is never mutated) for the engine to write with optimistic concurrency.
 */
import type { Execution, StepRecord, WaitState } from '../execution.js';
import type { FlowStep } from '../flow.js';
import type { ErrorInfo } from '../result.js';
import type { StepOutcome } from './engine-types.js';

/** Starts a visit to `step`: counts it, records it in the history, makes it current. */
export function beginStep(execution: Execution, step: FlowStep, now: number): Execution {
  const visit = execution.history.filter((record) => record.stepId === step.id).length + 1;
  const record: StepRecord = {
    stepId: step.id,
    attempt: visit,
    startedAt: now,
    finishedAt: null,
    outcome: null,
    jobId: null,
    error: null,
  };
  return {
    ...execution,
    status: 'running',
    currentStepId: step.id,
    stepCount: execution.stepCount + 1,
    history: [...execution.history, record],
    waitingOn: null,
    wakeAt: null,
    updatedAt: now,
  };
}

/** The visit number of the open (last) history record, 1 when there is none. */
export function currentVisit(execution: Execution): number {
  return execution.history.at(-1)?.attempt ?? 1;
}

/** Parks the execution in its current step until `wait` is resumed or due. */
export function parkExecution(execution: Execution, wait: WaitState, now: number): Execution {
  return {
    ...execution,
    status: 'waiting',
    waitingOn: wait,
    wakeAt: wait.until,
    history: updateOpenRecord(execution.history, wait.stepId, {
      outcome: 'waiting',
      jobId: wait.jobId,
    }),
    updatedAt: now,
  };
}

/**
 * Ends the visit to `step` with `outcome`. A success stores the output in the context under
 * the step's `outputKey` (default: its id) and goes to `onSuccess`, or completes the
 * execution with that output. A failure or cancellation goes to `onFailure`, or fails the
 * execution with the error.
 */
export function applyStepOutcome(
  execution: Execution,
  step: FlowStep,
  outcome: StepOutcome,
  now: number,
): Execution {
  const base = { ...execution, waitingOn: null, wakeAt: null, updatedAt: now };
  if (outcome.kind === 'success') {
    const output = outcome.output === undefined ? null : outcome.output;
    const history = updateOpenRecord(execution.history, step.id, {
      outcome: 'success',
      finishedAt: now,
      error: null,
    });
    const context = { ...execution.context, [step.outputKey ?? step.id]: output };
    const next = step.transitions?.onSuccess;
    if (typeof next === 'string') {
      return { ...base, status: 'running', currentStepId: next, context, history };
    }
    return { ...base, status: 'completed', currentStepId: null, context, history, output };
  }
  const error = outcomeError(outcome);
  const history = updateOpenRecord(execution.history, step.id, {
    outcome: outcome.kind === 'cancelled' ? 'cancelled' : 'failure',
    finishedAt: now,
    error,
  });
  const next = step.transitions?.onFailure;
  if (typeof next === 'string') {
    return { ...base, status: 'running', currentStepId: next, history };
  }
  return { ...base, status: 'failed', currentStepId: null, history, error };
}

/** Fails the execution outright with `error` (e.g. the step limit), closing any open visit. */
export function failExecution(execution: Execution, error: ErrorInfo, now: number): Execution {
  return {
    ...execution,
    status: 'failed',
    currentStepId: null,
    error,
    waitingOn: null,
    wakeAt: null,
    history: closeOpenRecord(execution.history, 'failure', error, now),
    updatedAt: now,
  };
}

/** Cancels the execution, closing any open visit as `cancelled`. */
export function cancelExecution(execution: Execution, reason: string, now: number): Execution {
  const error: ErrorInfo = { code: 'CANCELLED', message: reason };
  return {
    ...execution,
    status: 'cancelled',
    currentStepId: null,
    error,
    waitingOn: null,
    wakeAt: null,
    history: closeOpenRecord(execution.history, 'cancelled', error, now),
    updatedAt: now,
  };
}

/** The error a failed or cancelled outcome carries, as plain {@link ErrorInfo}. */
export function outcomeError(outcome: StepOutcome): ErrorInfo {
  if (outcome.kind === 'cancelled') return { code: 'CANCELLED', message: outcome.reason };
  if (outcome.kind === 'failure') {
    const { code, message, details, cause } = outcome.error;
    const error: ErrorInfo = { code, message };
    if (details !== undefined) error.details = details;
    if (cause !== undefined) error.cause = cause;
    return error;
  }
  throw new TypeError('a success outcome has no error');
}

function updateOpenRecord(
  history: readonly StepRecord[],
  stepId: string,
  patch: Partial<StepRecord>,
): StepRecord[] {
  const copy = [...history];
  const last = copy.at(-1);
  if (last !== undefined && last.stepId === stepId && last.finishedAt === null) {
    copy[copy.length - 1] = { ...last, ...patch };
  }
  return copy;
}

function closeOpenRecord(
  history: readonly StepRecord[],
  outcome: 'failure' | 'cancelled',
  error: ErrorInfo,
  now: number,
): StepRecord[] {
  const last = history.at(-1);
  if (last === undefined || last.finishedAt !== null) return [...history];
  return updateOpenRecord(history, last.stepId, { outcome, error, finishedAt: now });
}
