/**
 * Boundary checks of `JobStore` parameters shared by the in-memory and Postgres stores, so
 * both reject the same input with the same {@link ValidationError} field.
 */

import { assertJsonPayload } from './assert-json-payload.js';
import { ValidationError } from './errors.js';
import type { LeaseRef } from './job.js';
import type { ClaimBatchParams, RunnerJobEvent, RunnerJobEventKind } from './stores/job-store.js';
import type { ParkOnNewJobParams } from './stores/stores.js';
import {
  assertInteger,
  assertText,
  assertUuid,
  isUuid,
  MAX_TEXT_LENGTH,
  type NormalizedNewJob,
} from './validation.js';

/** Most jobs one `claimBatch` call hands out; a larger `limit` is clamped to it. */
export const MAX_CLAIM_BATCH = 1000;

/** {@link ClaimBatchParams} after {@link normalizeClaimBatch}; `null` filters mean any. */
export interface NormalizedClaimBatch {
  runnerId: string;
  /** 1..{@link MAX_CLAIM_BATCH}. */
  limit: number;
  handlers: string[] | null;
  queues: string[] | null;
}

/**
 * Checks `claimBatch` parameters: `runnerId` text, `limit` a positive integer (clamped to
 * {@link MAX_CLAIM_BATCH}), `handlers` and `queues` arrays of non-empty strings without
 * NUL (a plain string is rejected, not spread into characters). Throws
 * {@link ValidationError} naming the field (`handlers[2]`).
 */
export function normalizeClaimBatch(params: ClaimBatchParams): NormalizedClaimBatch {
  if (typeof params !== 'object' || params === null) {
    throw new ValidationError('params', 'must be an object');
  }
  const runnerId = assertText(params.runnerId, 'runnerId', { maxLength: MAX_TEXT_LENGTH });
  const limit = assertInteger(params.limit, 'limit', { min: 1, max: Number.MAX_SAFE_INTEGER });
  return {
    runnerId,
    limit: Math.min(limit, MAX_CLAIM_BATCH),
    handlers: textList(params.handlers, 'handlers', MAX_TEXT_LENGTH),
    queues: textList(params.queues, 'queues', 128),
  };
}

function textList(value: unknown, field: string, maxLength: number): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of strings');
  return value.map((item, i) => assertText(item, `${field}[${i}]`, { maxLength }));
}

/**
 * Checks a job id given to a store method: a UUID string (every job id is one), else
 * {@link ValidationError} naming `field`. Returns it unchanged.
 */
export function assertJobId(value: unknown, field = 'jobId'): string {
  assertUuid(value, field);
  return value as string;
}

/**
 * Checks a lease reference: `jobId` a UUID ({@link assertJobId}) and `leaseId` a string
 * (a string that is not a lease ever issued is a lost lease, not bad input). Fields are
 * prefixed with `prefix` (`leases[3].jobId`).
 */
export function assertLeaseRef(value: unknown, prefix = ''): LeaseRef {
  if (typeof value !== 'object' || value === null) {
    throw new ValidationError(prefix || 'lease', 'must be an object with jobId and leaseId');
  }
  const { jobId, leaseId } = value as Partial<Record<keyof LeaseRef, unknown>>;
  const dot = prefix === '' ? '' : `${prefix}.`;
  const checkedId = assertJobId(jobId, `${dot}jobId`);
  if (typeof leaseId !== 'string') throw new ValidationError(`${dot}leaseId`, 'must be a string');
  return { jobId: checkedId, leaseId };
}

/** Checks `heartbeatMany`'s `leases`: an array of lease references (`leases[i].jobId`). */
export function assertLeaseRefs(value: unknown, field = 'leases'): LeaseRef[] {
  if (!Array.isArray(value)) throw new ValidationError(field, 'must be an array of leases');
  return value.map((lease, i) => assertLeaseRef(lease, `${field}[${i}]`));
}

const RUNNER_EVENT_KINDS: readonly RunnerJobEventKind[] = ['started', 'timeout', 'lease-lost'];

/** A {@link RunnerJobEvent} after {@link normalizeRunnerEvents}: `data` as JSON text or `null`. */
export interface NormalizedRunnerEvent {
  jobId: string;
  leaseId: string;
  kind: RunnerJobEventKind;
  attempt: number;
  data: string | null;
}

/**
 * Checks `recordEvents`' `events`: an array of lease references (`events[i].jobId`) with a
 * known `kind`, an integer `attempt` >= 1 and JSON `data` of at most `maxDataBytes`
 * (default: the payload limit of `assertJsonPayload`).
 * Throws {@link ValidationError} naming the field.
 */
export function normalizeRunnerEvents(
  value: unknown,
  maxDataBytes?: number,
): NormalizedRunnerEvent[] {
  if (!Array.isArray(value)) throw new ValidationError('events', 'must be an array of events');
  const out: NormalizedRunnerEvent[] = new Array(value.length);
  for (let i = 0; i < value.length; i++) {
    out[i] = normalizeRunnerEvent(value[i] as Partial<RunnerJobEvent> | null, i, maxDataBytes);
  }
  return out;
}

/** Largest `attempt` a history row holds (`int4`). */
const MAX_ATTEMPT = 2_147_483_647;

/**
 * One event of {@link normalizeRunnerEvents}. A runner sends hundreds per second, so a
 * well-formed one is checked without building field names; the full checks run only to
 * name what is wrong.
 */
function normalizeRunnerEvent(
  event: Partial<RunnerJobEvent> | null,
  i: number,
  maxDataBytes: number | undefined,
): NormalizedRunnerEvent {
  const { jobId, leaseId, kind, attempt } = event ?? {};
  if (typeof jobId !== 'string' || !isUuid(jobId) || typeof leaseId !== 'string') {
    assertLeaseRef(event, `events[${i}]`);
  }
  if (!RUNNER_EVENT_KINDS.includes(kind as RunnerJobEventKind)) {
    throw new ValidationError(
      `events[${i}].kind`,
      `must be one of ${RUNNER_EVENT_KINDS.join(', ')}`,
    );
  }
  if (
    typeof attempt !== 'number' ||
    !Number.isInteger(attempt) ||
    attempt < 1 ||
    attempt > MAX_ATTEMPT
  ) {
    assertInteger(attempt, `events[${i}].attempt`, { min: 1, max: MAX_ATTEMPT });
  }
  const data = event?.data;
  return {
    jobId: jobId as string,
    leaseId: leaseId as string,
    kind: kind as RunnerJobEventKind,
    attempt: attempt as number,
    data:
      data === undefined || data === null
        ? null
        : assertJsonPayload(data, `events[${i}].data`, { maxBytes: maxDataBytes }),
  };
}

/**
 * Rejects a `createMany` batch that names one job id twice, naming the later one
 * (`jobs[1].id`), unless both give the same idempotency key: then they are one job, which
 * the key dedupes.
 */
export function assertNoDuplicateJobIds(jobs: readonly NormalizedNewJob[]): void {
  const keys = new Map<string, string | null>();
  jobs.forEach((job, i) => {
    if (!keys.has(job.id)) {
      keys.set(job.id, job.idempotencyKey);
    } else if (job.idempotencyKey === null || keys.get(job.id) !== job.idempotencyKey) {
      throw new ValidationError(`jobs[${i}].id`, 'a job with this id already exists');
    }
  });
}

/**
 * Checks what `Stores.parkOnNewJob` needs beyond a valid job and execution (both stores
 * call it after validating those): the job belongs to the execution (`job.executionId`)
 * and the execution waits on that job (`execution.waitingOn.jobId`). Throws
 * `ValidationError` naming the field.
 */
export function assertParksOnJob(params: ParkOnNewJobParams): void {
  if (params.job.executionId !== params.execution.id) {
    throw new ValidationError('job.executionId', 'must be the id of the execution parked on it');
  }
  if (params.execution.waitingOn?.jobId !== params.job.id) {
    throw new ValidationError('execution.waitingOn.jobId', 'must be the id of the new job');
  }
}
