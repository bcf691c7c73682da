/**
 * Boundary validation shared by every store and the engine. Input is checked once, where
 * it enters, so that a bad value fails with a {@link ValidationError} naming the field
 * (a dotted path such as `input.items[3].name`) before anything is written. The rules
 * follow what PostgreSQL `jsonb` and `text` columns accept, so the in-memory stores
 * reject exactly what the Postgres stores would.
 */

import {
  assertJsonPayload,
  describeBadText,
  isBadText,
  type JsonPayloadOptions,
} from './assert-json-payload.js';
import { ValidationError } from './errors.js';
import { uuidv7 } from './ids.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_QUEUE,
  MAX_PRIORITY,
  MIN_PRIORITY,
  type NewJob,
} from './job.js';
import type { ErrorInfo } from './result.js';
import type { RetryPolicy, RetryStrategy } from './retry-policy.js';
import type { NewSchedule, OverlapPolicy } from './schedule.js';

/** Latest accepted timestamp, exclusive: 10000-01-01T00:00:00Z in epoch ms. */
export const MAX_TIMESTAMP_MS = Date.UTC(10000, 0, 1);
/** Pattern a queue name must match: 1 to 128 letters, digits, `_ . : -`. */
export const QUEUE_NAME_PATTERN = /^[a-zA-Z0-9_.:-]{1,128}$/;
/** Longest id, name, key or handler type accepted, in UTF-16 code units. */
export const MAX_TEXT_LENGTH = 255;
/** Longest timeout accepted, in ms (the largest delay a Node.js timer supports). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

const RETRY_STRATEGIES: readonly RetryStrategy[] = ['IMMEDIATE', 'FIXED', 'LINEAR', 'EXPONENTIAL'];
const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['allow', 'skip'];

/** Options of {@link assertText}. */
export interface TextOptions {
  /** Longest accepted length in UTF-16 code units. */
  maxLength: number;
  /** A pattern the whole value must match. */
  pattern?: RegExp;
}

/**
 * Checks an id, name or key: a non-empty string of at most `maxLength` characters, without
 * NUL or lone surrogates, matching `pattern` when given. Returns the value.
 */
export function assertText(value: unknown, field: string, options: TextOptions): string {
  if (typeof value !== 'string') throw new ValidationError(field, `must be a string`);
  if (value.length === 0) throw new ValidationError(field, 'must not be empty');
  if (value.length > options.maxLength) {
    throw new ValidationError(field, `must be at most ${options.maxLength} characters`);
  }
  if (isBadText(value)) throw new ValidationError(field, describeBadText(value));
  if (options.pattern !== undefined && !options.pattern.test(value)) {
    throw new ValidationError(field, `must match ${options.pattern}`);
  }
  return value;
}

/** Like {@link assertText}, but `null` and `undefined` give `null`. */
export function assertOptionalText(
  value: unknown,
  field: string,
  options: TextOptions,
): string | null {
  return value === undefined || value === null ? null : assertText(value, field, options);
}

/** Checks an integer in `[min, max]` and returns it; `undefined` gives `fallback`. */
export function assertInteger(
  value: unknown,
  field: string,
  range: { min: number; max: number; fallback?: number },
): number {
  if (value === undefined && range.fallback !== undefined) return range.fallback;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new ValidationError(field, 'must be an integer');
  }
  if (value < range.min || value > range.max) {
    throw new ValidationError(field, `must be between ${range.min} and ${range.max}`);
  }
  return value;
}

/**
 * Checks a duration or threshold in ms: a finite number >= 0, fractions allowed (the
 * Postgres stores compare it as `float8` milliseconds). Returns the value.
 */
export function assertDurationMs(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ValidationError(field, 'must be a finite number of ms >= 0');
  }
  return value;
}

/** Longest retry or snooze delay accepted, in ms (100 years of 365.25 days). */
export const MAX_DELAY_MS = 3_155_760_000_000;

/**
 * Checks the pair of ways to say when a job runs again: an absolute time `at` (epoch ms
 * or `Date`) or a delay in ms from the store's now (finite, 0..{@link MAX_DELAY_MS}).
 * `null`/`undefined` mean not given; both given is a {@link ValidationError} naming
 * `delayField`. Returns the checked values, `null` where not given.
 */
export function assertRunAtOrDelay(
  at: unknown,
  atField: string,
  delay: unknown,
  delayField: string,
): { at: number | null; delayMs: number | null } {
  const given = (v: unknown) => v !== undefined && v !== null;
  if (given(at) && given(delay)) {
    throw new ValidationError(delayField, `must not be given together with ${atField}`);
  }
  const delayMs = given(delay) ? assertDurationMs(delay, delayField) : null;
  if (delayMs !== null && delayMs > MAX_DELAY_MS) {
    throw new ValidationError(delayField, `must be at most ${MAX_DELAY_MS} ms`);
  }
  return { at: given(at) ? assertTimestamp(at, atField) : null, delayMs };
}

/**
 * Checks a timestamp (epoch ms or a valid `Date`) between 1970 and the year 10000 and
 * returns it as epoch ms.
 */
export function assertTimestamp(value: unknown, field: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    throw new ValidationError(field, 'must be a finite epoch-ms number or a valid Date');
  }
  if (ms < 0 || ms >= MAX_TIMESTAMP_MS) {
    throw new ValidationError(field, 'must be between 1970 and the year 10000');
  }
  return ms;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID in its textual form (`8-4-4-4-12` hex digits, either case). */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/** Checks a UUID string and returns it in lower case. */
export function assertUuid(value: unknown, field: string): string {
  if (typeof value !== 'string' || !isUuid(value)) {
    throw new ValidationError(field, 'must be a UUID');
  }
  return value.toLowerCase();
}

/** A {@link NewJob} after {@link normalizeNewJob}: every field present and checked. */
export interface NormalizedNewJob {
  id: string;
  queue: string;
  handler: string;
  executionId: string | null;
  stepId: string | null;
  /** The input as given (`undefined` became `null`); `inputJson` is what to store. */
  input: unknown;
  /** `input` as JSON text. */
  inputJson: string;
  priority: number;
  /** Epoch ms. */
  runAt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  retry: RetryPolicy | null;
  idempotencyKey: string | null;
  correlationId: string | null;
}

/** Options of {@link normalizeNewJob} and {@link normalizeNewSchedule}. */
export interface NormalizeOptions {
  /** Current time in epoch ms; the default `runAt` and the time in a new id. */
  now: number;
  /** Largest input payload in UTF-8 bytes. @default DEFAULT_MAX_PAYLOAD_BYTES */
  maxPayloadBytes?: number;
}

const TEXT = { maxLength: MAX_TEXT_LENGTH } as const;

/**
 * Validates a new job and fills its defaults: a UUIDv7 id, queue `default`, priority 0,
 * `runAt` now, `maxAttempts` {@link DEFAULT_MAX_ATTEMPTS}, no timeout, no retry policy.
 * Throws {@link ValidationError} naming the first bad field.
 */
export function normalizeNewJob(job: NewJob, options: NormalizeOptions): NormalizedNewJob {
  if (typeof job !== 'object' || job === null)
    throw new ValidationError('job', 'must be an object');
  const executionId = assertOptionalText(job.executionId, 'executionId', TEXT);
  const stepId = assertOptionalText(job.stepId, 'stepId', TEXT);
  if (executionId !== null && stepId === null) {
    throw new ValidationError('stepId', 'is required when executionId is set');
  }
  const input = job.input === undefined ? null : job.input;
  return {
    id: job.id === undefined ? uuidv7(options.now) : assertUuid(job.id, 'id'),
    queue: job.queue === undefined ? DEFAULT_QUEUE : assertQueue(job.queue, 'queue'),
    handler: assertText(job.handler, 'handler', TEXT),
    executionId,
    stepId,
    input,
    inputJson: assertJsonPayload(input, 'input', { maxBytes: options.maxPayloadBytes }),
    priority: assertPriority(job.priority, 'priority'),
    runAt: job.runAt === undefined ? options.now : assertTimestamp(job.runAt, 'runAt'),
    maxAttempts: assertMaxAttempts(job.maxAttempts, 'maxAttempts'),
    timeoutMs:
      job.timeoutMs === undefined || job.timeoutMs === null
        ? null
        : assertInteger(job.timeoutMs, 'timeoutMs', { min: 1, max: MAX_TIMEOUT_MS }),
    retry: normalizeRetryPolicy(job.retry, 'retry'),
    idempotencyKey: assertOptionalText(job.idempotencyKey, 'idempotencyKey', TEXT),
    correlationId: assertOptionalText(job.correlationId, 'correlationId', TEXT),
  };
}

/**
 * Validates a batch for `createMany`: every job through {@link normalizeNewJob}, failing on
 * the first bad one with a field prefixed by its index (`jobs[3].priority`).
 */
export function normalizeNewJobs(
  jobs: readonly NewJob[],
  options: NormalizeOptions,
): NormalizedNewJob[] {
  if (!Array.isArray(jobs)) throw new ValidationError('jobs', 'must be an array');
  return jobs.map((job, index) => {
    try {
      return normalizeNewJob(job, options);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      const message = error.message.slice(error.field.length + 2);
      throw new ValidationError(`jobs[${index}].${error.field}`, message, { cause: error });
    }
  });
}

function assertQueue(value: unknown, field: string): string {
  return assertText(value, field, { maxLength: 128, pattern: QUEUE_NAME_PATTERN });
}

function assertPriority(value: unknown, field: string): number {
  return assertInteger(value, field, { min: MIN_PRIORITY, max: MAX_PRIORITY, fallback: 0 });
}

function assertMaxAttempts(value: unknown, field: string): number {
  return assertInteger(value, field, { min: 1, max: 1000, fallback: DEFAULT_MAX_ATTEMPTS });
}

/**
 * Checks a retry policy and returns a copy holding only its known fields; `null` or
 * `undefined` give `null`.
 */
export function normalizeRetryPolicy(value: unknown, field: string): RetryPolicy | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new ValidationError(field, 'must be an object or null');
  }
  const policy = value as Record<string, unknown>;
  const out: RetryPolicy = {};
  if (policy.strategy !== undefined) {
    if (!RETRY_STRATEGIES.includes(policy.strategy as RetryStrategy)) {
      throw new ValidationError(
        `${field}.strategy`,
        `must be one of ${RETRY_STRATEGIES.join(', ')}`,
      );
    }
    out.strategy = policy.strategy as RetryStrategy;
  }
  for (const key of ['baseDelayMs', 'maxDelayMs', 'multiplier'] as const) {
    const n = policy[key];
    if (n === undefined) continue;
    if (typeof n !== 'number' || !Number.isFinite(n) || n < 0) {
      throw new ValidationError(`${field}.${key}`, 'must be a non-negative finite number');
    }
    out[key] = n;
  }
  if (policy.jitter !== undefined) {
    if (typeof policy.jitter !== 'boolean') {
      throw new ValidationError(`${field}.jitter`, 'must be a boolean');
    }
    out.jitter = policy.jitter;
  }
  const factor = policy.jitterFactor;
  if (factor !== undefined) {
    if (typeof factor !== 'number' || !(factor >= 0 && factor <= 1)) {
      throw new ValidationError(`${field}.jitterFactor`, 'must be a number between 0 and 1');
    }
    out.jitterFactor = factor;
  }
  return out;
}

/** A {@link NewSchedule} after {@link normalizeNewSchedule}: every field present and checked. */
export interface NormalizedNewSchedule {
  name: string;
  cron: string;
  timezone: string;
  handler: string;
  queue: string;
  input: unknown;
  inputJson: string;
  priority: number;
  maxAttempts: number;
  enabled: boolean;
  overlap: OverlapPolicy;
  nextFireAt: number | null;
}

/**
 * Validates the fields of a schedule that a store keeps and fills defaults (time zone
 * `UTC`, queue `default`, priority 0, enabled, overlap `allow`). Whether `cron` and
 * `timezone` parse is the scheduler's business, not checked here.
 */
export function normalizeNewSchedule(
  schedule: NewSchedule,
  options: { maxPayloadBytes?: number } = {},
): NormalizedNewSchedule {
  if (typeof schedule !== 'object' || schedule === null) {
    throw new ValidationError('schedule', 'must be an object');
  }
  const input = schedule.input === undefined ? null : schedule.input;
  const overlap = schedule.overlap ?? 'allow';
  if (!OVERLAP_POLICIES.includes(overlap)) {
    throw new ValidationError('overlap', `must be one of ${OVERLAP_POLICIES.join(', ')}`);
  }
  if (schedule.enabled !== undefined && typeof schedule.enabled !== 'boolean') {
    throw new ValidationError('enabled', 'must be a boolean');
  }
  return {
    name: assertText(schedule.name, 'name', TEXT),
    cron: assertText(schedule.cron, 'cron', TEXT),
    timezone:
      schedule.timezone === undefined
        ? 'UTC'
        : assertText(schedule.timezone, 'timezone', { maxLength: 64 }),
    handler: assertText(schedule.handler, 'handler', TEXT),
    queue: schedule.queue === undefined ? DEFAULT_QUEUE : assertQueue(schedule.queue, 'queue'),
    input,
    inputJson: assertJsonPayload(input, 'input', { maxBytes: options.maxPayloadBytes }),
    priority: assertPriority(schedule.priority, 'priority'),
    maxAttempts: assertMaxAttempts(schedule.maxAttempts, 'maxAttempts'),
    enabled: schedule.enabled ?? true,
    overlap,
    nextFireAt:
      schedule.nextFireAt === null || schedule.nextFireAt === undefined
        ? null
        : assertTimestamp(schedule.nextFireAt, 'nextFireAt'),
  };
}

/**
 * Checks an {@link ErrorInfo} (string `code` and `message`, JSON-safe details) and returns
 * its JSON text.
 */
export function assertErrorInfo(
  value: unknown,
  field: string,
  options: JsonPayloadOptions = {},
): string {
  if (typeof value !== 'object' || value === null) {
    throw new ValidationError(field, 'must be an object with code and message');
  }
  const info = value as Partial<ErrorInfo>;
  if (typeof info.code !== 'string') throw new ValidationError(`${field}.code`, 'must be a string');
  if (typeof info.message !== 'string') {
    throw new ValidationError(`${field}.message`, 'must be a string');
  }
  return assertJsonPayload(value, field, options);
}
