import { hostname } from 'node:os';
import type { Clock, EventBus, JobStore, Logger, RetryPolicy } from '@flowmonkey/core';
import {
  assertText,
  ConfigError,
  MAX_CLAIM_BATCH,
  MAX_TEXT_LENGTH,
  MAX_TIMEOUT_MS,
  systemClock,
  ValidationError,
} from '@flowmonkey/core';
import type { ResolvedRetryPolicy } from './compute-retry-delay.js';
import { resolveRetryPolicy } from './compute-retry-delay.js';
import { defaultLogger } from './default-logger.js';
import type { JobEngine } from './job-engine.js';
import type { JobWakeups } from './job-wakeups.js';
import {
  checkKnownKeys,
  checkMethods,
  checkNumber,
  checkOptionalFunction,
  checkOptionsObject,
  LOGGER_METHODS,
} from './option-checks.js';

/** Options of `BasicJobRunner`. Only `jobStore` is required. */
export interface BasicJobRunnerOptions {
  /** Where jobs live. */
  jobStore: JobStore;
  /**
   * The engine, needed to run stateful steps: their outcome resumes the execution in the
   * same transaction. Its registered handlers are runnable too. Without it, plain
   * background jobs are settled through `jobStore` alone, and a claimed step job of an
   * execution is released untouched (logged once as an error), for a runner with an engine.
   */
  engine?: JobEngine;
  /** Identifies this runner in `job.runnerId` and logs. @default `<hostname>-<pid>-<random>` */
  runnerId?: string;
  /** Fallback poll for due jobs when no wake-up arrives, in ms. @default 1000 */
  pollIntervalMs?: number;
  /**
   * Most jobs claimed in one round trip (never more than the free slots plus the free room
   * of the prefetch buffer), at most 1000 (`MAX_CLAIM_BATCH`, what a store claims at once).
   * @default 10
   */
  batchSize?: number;
  /**
   * Jobs claimed beyond the free slots and held in a local buffer, so that a slot freed by
   * a finished handler starts its next job without a round trip, and a busy runner claims
   * in batches of up to `batchSize` instead of one per freed slot. Buffered jobs are
   * `running` under this runner's lease: they are heartbeated with the running ones and
   * released (attempt refunded) on `stop()`. They also wait there while 1,000 attempts wait
   * for the write of their outcome. Like graphile-worker's local queue, it trades fairness
   * between runners for throughput; keep it 0 when jobs are slow. @default 0
   */
  prefetch?: number;
  /** Most handlers running at once in this runner. @default 10 */
  maxConcurrent?: number;
  /** How often the runner extends the leases of all its jobs (one call), in ms. @default 10_000 */
  heartbeatIntervalMs?: number;
  /**
   * The lease length in ms: a job whose heartbeat is older is stalled, and the reaper's
   * `stalledThresholdMs` should be this value. Must be at least twice
   * `heartbeatIntervalMs`. @default 60_000
   */
  leaseMs?: number;
  /** Only claim jobs of these queues. @default every queue */
  queues?: readonly string[];
  /** How long a graceful `stop()` waits for running handlers, in ms. @default 30_000 */
  shutdownTimeoutMs?: number;
  /**
   * How long an aborted handler (timeout, cancel, shutdown) may take to settle before the
   * runner records the outcome without it, in ms. @default 5000
   */
  cancelGraceMs?: number;
  /** Retry policy for jobs whose job and handler carry none. @default EXPONENTIAL from 1 s */
  defaultRetry?: RetryPolicy;
  /** Per-attempt time limit for jobs whose job and handler carry none, in ms. @default none */
  defaultTimeoutMs?: number | null;
  /** A pino (or compatible) logger. @default pino at `info`, silent under a test runner */
  logger?: Logger;
  /** Time source for retry times. @default the system clock */
  clock?: Clock;
  /** Where `job:*` events go. @default the engine's bus, else a private one */
  events?: EventBus;
  /** Wake-ups for new jobs and cancellations (e.g. Postgres LISTEN). @default polling only */
  wakeups?: JobWakeups;
  /** Randomness in [0, 1) for retry jitter and the first poll. @default Math.random */
  random?: () => number;
}

/** {@link BasicJobRunnerOptions} with every default filled in, frozen. */
export interface ResolvedRunnerOptions {
  readonly jobStore: JobStore;
  readonly engine: JobEngine | undefined;
  readonly runnerId: string;
  readonly pollIntervalMs: number;
  readonly batchSize: number;
  readonly prefetch: number;
  readonly maxConcurrent: number;
  readonly heartbeatIntervalMs: number;
  readonly leaseMs: number;
  readonly queues: readonly string[] | undefined;
  readonly shutdownTimeoutMs: number;
  readonly cancelGraceMs: number;
  readonly defaultRetry: ResolvedRetryPolicy;
  readonly defaultTimeoutMs: number | null;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly events: EventBus | undefined;
  readonly wakeups: JobWakeups | undefined;
  readonly random: () => number;
}

const KNOWN: readonly string[] = [
  'jobStore',
  'engine',
  'runnerId',
  'pollIntervalMs',
  'batchSize',
  'prefetch',
  'maxConcurrent',
  'heartbeatIntervalMs',
  'leaseMs',
  'queues',
  'shutdownTimeoutMs',
  'cancelGraceMs',
  'defaultRetry',
  'defaultTimeoutMs',
  'logger',
  'clock',
  'events',
  'wakeups',
  'random',
];

const RENAMED: Record<string, string> = {
  pollInterval: 'pollIntervalMs',
  heartbeatInterval: 'heartbeatIntervalMs',
  concurrency: 'maxConcurrent',
  leaseDuration: 'leaseMs',
  shutdownTimeout: 'shutdownTimeoutMs',
};

/**
 * Validates runner options and fills defaults. Pure: returns a frozen object, or throws
 * `ConfigError` naming the field (unknown keys included, with the new name for the
 * seed's unit-less ones such as `pollInterval`). Every ms option is capped at
 * MAX_TIMEOUT_MS (2^31 - 1): Node fires longer timers at once.
 */
export function resolveRunnerOptions(options: BasicJobRunnerOptions): ResolvedRunnerOptions {
  checkOptionsObject(options);
  checkKnownKeys(options, KNOWN, RENAMED);
  if (options.jobStore === undefined || options.jobStore === null) {
    throw new ConfigError('jobStore', 'is required');
  }
  checkCollaborators(options);
  const runnerId = checkRunnerId(options.runnerId ?? defaultRunnerId());
  const { heartbeatIntervalMs, leaseMs, defaultTimeoutMs } = resolveLease(options);
  return Object.freeze({
    jobStore: options.jobStore,
    engine: options.engine,
    runnerId,
    ...resolveClaiming(options),
    heartbeatIntervalMs,
    leaseMs,
    queues: checkQueues(options.queues),
    shutdownTimeoutMs: checkNumber('shutdownTimeoutMs', options.shutdownTimeoutMs, {
      fallback: 30_000,
      min: 0,
      max: MAX_TIMEOUT_MS,
    }),
    cancelGraceMs: checkNumber('cancelGraceMs', options.cancelGraceMs, {
      fallback: 5000,
      min: 0,
      max: MAX_TIMEOUT_MS,
    }),
    defaultRetry: resolveRetryPolicy(options.defaultRetry, undefined, 'defaultRetry'),
    defaultTimeoutMs,
    logger: options.logger ?? defaultLogger(),
    clock: options.clock ?? systemClock,
    events: options.events ?? options.engine?.events,
    wakeups: options.wakeups,
    random: options.random ?? Math.random,
  });
}

/**
 * The lease a runner holds on a running job and the default time limit of a job: the
 * heartbeat at most half of the lease.
 */
function resolveLease(
  options: BasicJobRunnerOptions,
): Pick<ResolvedRunnerOptions, 'heartbeatIntervalMs' | 'leaseMs' | 'defaultTimeoutMs'> {
  const heartbeatIntervalMs = checkNumber('heartbeatIntervalMs', options.heartbeatIntervalMs, {
    fallback: 10_000,
    min: 1,
    max: MAX_TIMEOUT_MS,
  });
  const leaseMs = checkNumber('leaseMs', options.leaseMs, {
    fallback: 60_000,
    min: 1,
    max: MAX_TIMEOUT_MS,
  });
  if (heartbeatIntervalMs * 2 > leaseMs) {
    throw new ConfigError(
      'heartbeatIntervalMs',
      `must be at most half of leaseMs (${leaseMs}), got ${heartbeatIntervalMs}`,
    );
  }
  const defaultTimeoutMs =
    options.defaultTimeoutMs === null || options.defaultTimeoutMs === undefined
      ? null
      : checkNumber('defaultTimeoutMs', options.defaultTimeoutMs, {
          fallback: 0,
          min: 1,
          max: MAX_TIMEOUT_MS,
        });
  return { heartbeatIntervalMs, leaseMs, defaultTimeoutMs };
}

/** How often and how many jobs a runner claims, how many it holds, and how many it runs. */
function resolveClaiming(
  options: BasicJobRunnerOptions,
): Pick<ResolvedRunnerOptions, 'pollIntervalMs' | 'batchSize' | 'prefetch' | 'maxConcurrent'> {
  return {
    pollIntervalMs: checkNumber('pollIntervalMs', options.pollIntervalMs, {
      fallback: 1000,
      min: 1,
      max: MAX_TIMEOUT_MS,
    }),
    // A store claims at most MAX_CLAIM_BATCH jobs at once; a runner asking for more would
    // take every full claim for a short one, a drained queue, and wait out its poll interval.
    batchSize: checkNumber('batchSize', options.batchSize, {
      fallback: 10,
      min: 1,
      max: MAX_CLAIM_BATCH,
      int: true,
    }),
    prefetch: checkNumber('prefetch', options.prefetch, { fallback: 0, min: 0, int: true }),
    maxConcurrent: checkNumber('maxConcurrent', options.maxConcurrent, {
      fallback: 10,
      min: 1,
      int: true,
    }),
  };
}

/** The job store methods the runner calls. */
const JOB_STORE_METHODS = [
  'claimBatch',
  'heartbeat',
  'heartbeatMany',
  'progress',
  'release',
  'complete',
  'fail',
  'confirmCancel',
] as const;

/** The engine methods the runner calls. */
const ENGINE_METHODS = ['completeJob', 'failJob', 'confirmJobCancel', 'resetStalledJob'] as const;

/** Checks that the objects and functions given to the runner have what it calls. */
function checkCollaborators(options: BasicJobRunnerOptions): void {
  checkMethods('jobStore', options.jobStore, JOB_STORE_METHODS);
  if (options.engine !== undefined) {
    checkMethods('engine', options.engine, ENGINE_METHODS);
    checkMethods('engine.handlers', options.engine.handlers, ['get', 'has', 'list']);
  }
  if (options.logger !== undefined) checkMethods('logger', options.logger, LOGGER_METHODS);
  if (options.events !== undefined) checkMethods('events', options.events, ['emit', 'on']);
  if (options.clock !== undefined) checkMethods('clock', options.clock, ['now']);
  if (options.wakeups !== undefined) checkMethods('wakeups', options.wakeups, ['on']);
  checkOptionalFunction('random', options.random);
}

/** A runner id must be storable: 1 to 255 characters, no NUL or lone surrogate. */
function checkRunnerId(runnerId: unknown): string {
  if (typeof runnerId !== 'string' || runnerId.trim() === '') {
    throw new ConfigError('runnerId', 'must be a non-empty string');
  }
  try {
    return assertText(runnerId, 'runnerId', { maxLength: MAX_TEXT_LENGTH });
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new ConfigError('runnerId', 'cannot be stored in job.runnerId', { cause: error });
  }
}

function checkQueues(queues: readonly string[] | undefined): readonly string[] | undefined {
  if (queues === undefined) return undefined;
  if (!Array.isArray(queues) || queues.length === 0) {
    throw new ConfigError('queues', 'must be a non-empty array of queue names when given');
  }
  queues.forEach((q, i) => {
    if (typeof q !== 'string' || q === '') {
      throw new ConfigError(`queues[${i}]`, 'must be a non-empty string');
    }
  });
  return Object.freeze([...queues]);
}

function defaultRunnerId(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Runner options read from environment variables by {@link runnerOptionsFromEnv}. */
export type RunnerEnvOptions = Pick<
  BasicJobRunnerOptions,
  'runnerId' | 'maxConcurrent' | 'leaseMs' | 'heartbeatIntervalMs' | 'cancelGraceMs'
>;

/**
 * Reads runner options from environment variables: `WORKER_ID` → `runnerId`,
 * `MAX_CONCURRENT_EXECUTIONS` → `maxConcurrent`, `LEASE_DURATION_SECONDS` → `leaseMs`,
 * `HEARTBEAT_INTERVAL_SECONDS` → `heartbeatIntervalMs`, `CANCEL_GRACE_MS` →
 * `cancelGraceMs`. Unset or empty variables are left out; a malformed value throws
 * `ConfigError` naming the variable.
 */
export function runnerOptionsFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): RunnerEnvOptions {
  const out: RunnerEnvOptions = {};
  const read = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const num = (name: string, int: boolean, min: number): number | undefined => {
    const raw = read(name);
    if (raw === undefined) return undefined;
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw) || value < min || (int && !Number.isInteger(value))) {
      const kind = int ? 'an integer' : 'a number';
      throw new ConfigError(name, `must be ${kind} >= ${min}, got ${JSON.stringify(raw)}`);
    }
    return value;
  };
  const workerId = read('WORKER_ID');
  if (workerId !== undefined) out.runnerId = workerId;
  const max = num('MAX_CONCURRENT_EXECUTIONS', true, 1);
  if (max !== undefined) out.maxConcurrent = max;
  const lease = num('LEASE_DURATION_SECONDS', false, 0.001);
  if (lease !== undefined) out.leaseMs = Math.round(lease * 1000);
  const beat = num('HEARTBEAT_INTERVAL_SECONDS', false, 0.001);
  if (beat !== undefined) out.heartbeatIntervalMs = Math.round(beat * 1000);
  const grace = num('CANCEL_GRACE_MS', true, 0);
  if (grace !== undefined) out.cancelGraceMs = grace;
  return out;
}
