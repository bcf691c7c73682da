import type { EventBus } from '../events.js';
import type { Execution } from '../execution.js';
import type { StepOutcome } from './engine-types.js';
import { outcomeError } from './transitions.js';

/**
 * Emits the events of one committed step transition: `step:completed` or `step:failed` for
 * the step that ended, then `execution:completed` or `execution:failed` when the execution
 * ended with it, or `execution:waiting` when it parked.
 */
export function emitTransition(
  events: EventBus,
  execution: Execution,
  stepId: string,
  outcome: StepOutcome | { kind: 'wait' },
): void {
  if (outcome.kind === 'wait') {
    const wait = execution.waitingOn;
    events.emit('execution:waiting', {
      execution,
      stepId,
      jobId: wait?.jobId ?? null,
      until: wait?.until ?? null,
    });
    return;
  }
  if (outcome.kind === 'success') {
    events.emit('step:completed', { execution, stepId, output: outcome.output ?? null });
  } else {
    events.emit('step:failed', { execution, stepId, error: outcomeError(outcome) });
  }
  emitEnd(events, execution);
}

/** Emits `execution:completed` or `execution:failed` when `execution` has just ended so. */
export function emitEnd(events: EventBus, execution: Execution): void {
  if (execution.status === 'completed') {
    events.emit('execution:completed', { execution });
  } else if (execution.status === 'failed' && execution.error !== null) {
    events.emit('execution:failed', { execution, error: execution.error });
  }
}
