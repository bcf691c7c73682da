import type { Execution, Job, JobProgress, JobStatus, Schedule } from '@flowmonkey/core';
import type { Row } from './queryable.js';

/** A timestamptz column (epoch ms from `storeTypes`, or a `Date`) as epoch ms, or `null`. */
export function msOrNull(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return value;
  return value instanceof Date ? value.getTime() : new Date(String(value)).getTime();
}

function ms(value: unknown): number {
  return msOrNull(value) ?? 0;
}

function textOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : String(value);
}

function json<T>(value: unknown, fallback: T): T {
  return value === null || value === undefined ? fallback : (value as T);
}

/** A job row's progress columns, `null` when it reported none (`at` is `progress_at`). */
function progressOf(row: Row, at: number | null): JobProgress | null {
  if (at === null) return null;
  return {
    percent: Number(row.progress_percent),
    message: textOrNull(row.progress_message),
    at,
  };
}

/** Converts a `jobs` row to core's {@link Job}. */
export function rowToJob(row: Row): Job {
  return {
    id: String(row.id),
    queue: String(row.queue),
    handler: String(row.handler),
    executionId: textOrNull(row.execution_id),
    stepId: textOrNull(row.step_id),
    status: row.status as JobStatus,
    input: json(row.input, null),
    result: json(row.result, null),
    error: json(row.error, null),
    priority: Number(row.priority),
    runAt: ms(row.run_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    timeoutMs: row.timeout_ms === null ? null : Number(row.timeout_ms),
    retry: json(row.retry, null),
    leaseId: textOrNull(row.lease_id),
    runnerId: textOrNull(row.runner_id),
    heartbeatAt: msOrNull(row.heartbeat_at),
    progress: progressOf(row, msOrNull(row.progress_at)),
    idempotencyKey: textOrNull(row.idempotency_key),
    correlationId: textOrNull(row.correlation_id),
    cancelRequested: row.cancel_requested === true,
    createdAt: ms(row.created_at),
    updatedAt: ms(row.updated_at),
    startedAt: msOrNull(row.started_at),
    finishedAt: msOrNull(row.finished_at),
  };
}

/**
 * Converts a row of `claimBatch` (its `CLAIMED_COLUMNS`: timestamps as epoch ms, without
 * the columns the claim set) to the {@link Job} now running under `runnerId`: heartbeat,
 * start and update times are the claim's time, `started_at`.
 */
export function claimedRowToJob(row: Row, runnerId: string): Job {
  const at = Number(row.started_at);
  return {
    id: row.id as string,
    queue: row.queue as string,
    handler: row.handler as string,
    executionId: textOrNull(row.execution_id),
    stepId: textOrNull(row.step_id),
    status: 'running',
    input: json(row.input, null),
    result: json(row.result, null),
    error: json(row.error, null),
    priority: Number(row.priority),
    runAt: Number(row.run_at),
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    timeoutMs: row.timeout_ms === null ? null : Number(row.timeout_ms),
    retry: json(row.retry, null),
    leaseId: row.lease_id as string,
    runnerId,
    heartbeatAt: at,
    progress: progressOf(row, row.progress_at === null ? null : Number(row.progress_at)),
    idempotencyKey: textOrNull(row.idempotency_key),
    correlationId: textOrNull(row.correlation_id),
    cancelRequested: false,
    createdAt: Number(row.created_at),
    updatedAt: at,
    startedAt: at,
    finishedAt: row.finished_at === null ? null : Number(row.finished_at),
  };
}

/** Converts an `executions` row to core's {@link Execution}. */
export function rowToExecution(row: Row): Execution {
  return {
    id: String(row.id),
    flowId: String(row.flow_id),
    flowVersion: Number(row.flow_version),
    status: row.status as Execution['status'],
    currentStepId: textOrNull(row.current_step_id),
    input: json(row.input, null),
    context: json(row.context, {}),
    output: json(row.output, null),
    error: json(row.error, null),
    history: json(row.history, []),
    stepCount: Number(row.step_count),
    waitingOn: json(row.waiting_on, null),
    wakeAt: msOrNull(row.wake_at),
    idempotencyKey: textOrNull(row.idempotency_key),
    tenantId: textOrNull(row.tenant_id),
    parentExecutionId: textOrNull(row.parent_execution_id),
    version: Number(row.version),
    createdAt: ms(row.created_at),
    updatedAt: ms(row.updated_at),
  };
}

/** Converts a `schedules` row to core's {@link Schedule}. */
export function rowToSchedule(row: Row): Schedule {
  return {
    name: String(row.name),
    cron: String(row.cron),
    timezone: String(row.timezone),
    handler: String(row.handler),
    queue: String(row.queue),
    input: json(row.input, null),
    priority: Number(row.priority),
    maxAttempts: Number(row.max_attempts),
    enabled: row.enabled === true,
    overlap: row.overlap as Schedule['overlap'],
    lastFireAt: msOrNull(row.last_fire_at),
    nextFireAt: msOrNull(row.next_fire_at),
    createdAt: ms(row.created_at),
    updatedAt: ms(row.updated_at),
  };
}
