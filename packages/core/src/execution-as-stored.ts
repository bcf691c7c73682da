import type { ExecutionJson } from './assert-execution.js';
import type { Execution } from './execution.js';

/**
 * The execution as a store keeps it, built from what is written instead of read back: the
 * payloads parsed from their JSON text (`json`, as `assertExecution` returned it: fresh
 * objects, equal as values to what a read gives; PostgreSQL's jsonb may order object keys
 * differently), timestamps as epoch ms to the millisecond (a `Date` becomes its time, a
 * fraction of a millisecond is dropped, as PostgreSQL keeps them), absent optional ids as
 * `null`, and `version`.
 */
export function executionAsStored(
  execution: Execution,
  json: ExecutionJson,
  version: number,
): Execution {
  const ms = (value: number) => new Date(value).getTime();
  const { wakeAt } = execution;
  return {
    id: execution.id,
    flowId: execution.flowId,
    flowVersion: execution.flowVersion,
    status: execution.status,
    currentStepId: execution.currentStepId ?? null,
    input: JSON.parse(json.input),
    context: JSON.parse(json.context),
    output: JSON.parse(json.output),
    error: JSON.parse(json.error),
    history: JSON.parse(json.history),
    stepCount: execution.stepCount,
    waitingOn: JSON.parse(json.waitingOn),
    wakeAt: wakeAt === null || wakeAt === undefined ? null : ms(wakeAt),
    idempotencyKey: execution.idempotencyKey ?? null,
    tenantId: execution.tenantId ?? null,
    parentExecutionId: execution.parentExecutionId ?? null,
    version,
    createdAt: ms(execution.createdAt),
    updatedAt: ms(execution.updatedAt),
  };
}
