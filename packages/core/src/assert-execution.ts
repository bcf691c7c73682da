import { assertJsonPayload, type JsonPayloadOptions } from './assert-json-payload.js';
import { ValidationError } from './errors.js';
import type { Execution, ExecutionStatus } from './execution.js';
import {
  assertErrorInfo,
  assertInteger,
  assertOptionalText,
  assertText,
  assertTimestamp,
  MAX_TEXT_LENGTH,
} from './validation.js';

const TEXT = { maxLength: MAX_TEXT_LENGTH } as const;
const EXECUTION_STATUSES: readonly ExecutionStatus[] = [
  'pending',
  'running',
  'waiting',
  'completed',
  'failed',
  'cancelled',
];

/** Checks an execution status (one of `pending` .. `cancelled`) and returns it. */
export function assertExecutionStatus(value: unknown, field: string): ExecutionStatus {
  if (!EXECUTION_STATUSES.includes(value as ExecutionStatus)) {
    throw new ValidationError(field, `must be one of ${EXECUTION_STATUSES.join(', ')}`);
  }
  return value as ExecutionStatus;
}

/** JSON texts of an execution's payload columns, as returned by {@link assertExecution}. */
export interface ExecutionJson {
  input: string;
  context: string;
  output: string;
  error: string;
  history: string;
  waitingOn: string;
}

/**
 * Checks an execution before it is stored: ids and names, status, integer counters and
 * version, timestamps, and every payload (`input`, `context`, `output`, `error`,
 * `history`, `waitingOn`, each at most `maxBytes`). Returns the payloads as JSON text.
 */
export function assertExecution(
  execution: Execution,
  options: JsonPayloadOptions = {},
): ExecutionJson {
  if (typeof execution !== 'object' || execution === null) {
    throw new ValidationError('execution', 'must be an object');
  }
  assertText(execution.id, 'id', TEXT);
  assertText(execution.flowId, 'flowId', TEXT);
  assertInteger(execution.flowVersion, 'flowVersion', { min: 0, max: 2_147_483_647 });
  if (!EXECUTION_STATUSES.includes(execution.status)) {
    throw new ValidationError('status', `must be one of ${EXECUTION_STATUSES.join(', ')}`);
  }
  assertOptionalText(execution.currentStepId, 'currentStepId', TEXT);
  assertInteger(execution.stepCount, 'stepCount', { min: 0, max: 2_147_483_647 });
  assertInteger(execution.version, 'version', { min: 0, max: Number.MAX_SAFE_INTEGER });
  assertOptionalText(execution.idempotencyKey, 'idempotencyKey', TEXT);
  assertOptionalText(execution.tenantId, 'tenantId', TEXT);
  assertOptionalText(execution.parentExecutionId, 'parentExecutionId', TEXT);
  if (execution.wakeAt !== null && execution.wakeAt !== undefined)
    assertTimestamp(execution.wakeAt, 'wakeAt');
  assertTimestamp(execution.createdAt, 'createdAt');
  assertTimestamp(execution.updatedAt, 'updatedAt');
  if (typeof execution.context !== 'object' || execution.context === null) {
    throw new ValidationError('context', 'must be an object');
  }
  if (!Array.isArray(execution.history)) throw new ValidationError('history', 'must be an array');
  return {
    input: assertJsonPayload(execution.input, 'input', options),
    context: assertJsonPayload(execution.context, 'context', options),
    output: assertJsonPayload(execution.output, 'output', options),
    error:
      execution.error === null || execution.error === undefined
        ? 'null'
        : assertErrorInfo(execution.error, 'error', options),
    history: assertJsonPayload(execution.history, 'history', options),
    waitingOn: assertJsonPayload(execution.waitingOn, 'waitingOn', options),
  };
}
