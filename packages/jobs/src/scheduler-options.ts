import { hostname } from 'node:os';
import type { Clock, JobStore, Logger, ScheduleStore } from '@flowmonkey/core';
import { ConfigError } from '@flowmonkey/core';
import { defaultLogger } from './default-logger.js';
import { checkKnownKeys, checkNumber } from './option-checks.js';

/** Options of `JobScheduler`. Only `jobStore` and `scheduleStore` are required. */
export interface JobSchedulerOptions {
  /** Where one-off delayed jobs and `trigger()` jobs are created. */
  jobStore: JobStore;
  /** Where schedules, their fires and the leadership lease live. */
  scheduleStore: ScheduleStore;
  /** Identifies this scheduler as holder of the leadership lease. @default `<hostname>-<pid>-<random>` */
  schedulerId?: string;
  /**
   * Pause between two ticks, in ms. A tick renews the lease and fires what is due, so a
   * schedule fires at most this late (plus the time of the tick). @default 1000
   */
  tickIntervalMs?: number;
  /**
   * Length of the leadership lease, in ms: when the leader dies, another scheduler takes
   * over at most this long (plus one tick) later. Must be at least twice `tickIntervalMs`,
   * since the leader renews it on every tick. @default 15_000
   */
  leaseMs?: number;
  /**
   * How old a missed tick may be and still fire, in ms. When no scheduler ran for a while
   * (a failover, a deploy, an outage), ticks due within this window before now fire once
   * each (at most `maxCatchUpFires` of them, the most recent); older ones never fire and
   * are counted as `missed`. Must be at least `leaseMs + tickIntervalMs`, so a leader
   * failover never loses a tick. @default 3_600_000 (one hour)
   */
  catchUpWindowMs?: number;
  /**
   * Most missed ticks of one schedule fired in one catch-up; older ones in the window are
   * counted as `missed`. Keeps an every-second schedule from firing a burst after an
   * outage. @default 60
   */
  maxCatchUpFires?: number;
  /** Due schedules read per page; a tick pages on until a short page. @default 100 */
  batchSize?: number;
  /** How many upcoming fire times `list()` returns per schedule. @default 5 */
  listFireTimes?: number;
  /** A pino (or compatible) logger. @default pino at `info`, silent under a test runner */
  logger?: Logger;
  /**
   * Time source. When given, its `now` is passed to the store for due checks and the
   * lease (tests); leave it out in production so those use database time. It is also used
   * for `delayMs`, for the first fire of a new schedule and for `list()`. @default the system clock
   */
  clock?: Clock;
  /** Randomness in [0, 1) for the first tick's jitter. @default Math.random */
  random?: () => number;
}

/** {@link JobSchedulerOptions} with defaults filled in, frozen. */
export interface ResolvedSchedulerOptions {
  readonly jobStore: JobStore;
  readonly scheduleStore: ScheduleStore;
  readonly schedulerId: string;
  readonly tickIntervalMs: number;
  readonly leaseMs: number;
  readonly catchUpWindowMs: number;
  readonly maxCatchUpFires: number;
  readonly batchSize: number;
  readonly listFireTimes: number;
  readonly logger: Logger;
  /** The injected clock, or `undefined` (then the store's time is used for due checks). */
  readonly clock: Clock | undefined;
  readonly random: () => number;
}

/** Longest delay `setTimeout` honours, in ms (2^31 - 1). */
const MAX_TIMER_MS = 2_147_483_647;

const KNOWN = [
  'jobStore',
  'scheduleStore',
  'schedulerId',
  'tickIntervalMs',
  'leaseMs',
  'catchUpWindowMs',
  'maxCatchUpFires',
  'batchSize',
  'listFireTimes',
  'logger',
  'clock',
  'random',
];

const RENAMED = {
  tickInterval: 'tickIntervalMs',
  pollIntervalMs: 'tickIntervalMs',
  leaseDuration: 'leaseMs',
  ttlMs: 'leaseMs',
  catchUpWindow: 'catchUpWindowMs',
};

/**
 * Validates scheduler options and fills defaults. Pure: returns a frozen object, or
 * throws `ConfigError` naming the field.
 */
export function resolveSchedulerOptions(options: JobSchedulerOptions): ResolvedSchedulerOptions {
  checkKnownKeys(options, KNOWN, RENAMED);
  for (const field of ['jobStore', 'scheduleStore'] as const) {
    if (options[field] === undefined || options[field] === null) {
      throw new ConfigError(field, 'is required');
    }
  }
  const schedulerId = options.schedulerId ?? defaultSchedulerId();
  if (typeof schedulerId !== 'string' || schedulerId.trim() === '' || schedulerId.length > 255) {
    throw new ConfigError('schedulerId', 'must be a non-empty string of at most 255 characters');
  }
  const { tickIntervalMs, leaseMs, catchUpWindowMs } = resolveTiming(options);
  if (options.random !== undefined && typeof options.random !== 'function') {
    throw new ConfigError('random', 'must be a function returning a number in [0, 1)');
  }
  return Object.freeze({
    jobStore: options.jobStore,
    scheduleStore: options.scheduleStore,
    schedulerId,
    tickIntervalMs,
    leaseMs,
    catchUpWindowMs,
    maxCatchUpFires: checkNumber('maxCatchUpFires', options.maxCatchUpFires, {
      fallback: 60,
      min: 1,
      int: true,
    }),
    batchSize: checkNumber('batchSize', options.batchSize, { fallback: 100, min: 1, int: true }),
    listFireTimes: checkNumber('listFireTimes', options.listFireTimes, {
      fallback: 5,
      min: 0,
      int: true,
    }),
    logger: options.logger ?? defaultLogger(),
    clock: options.clock,
    random: options.random ?? Math.random,
  });
}

/**
 * How often a scheduler ticks, how long its leadership lease lasts (at least two ticks) and
 * how far back it catches up on missed fires (at least a lease and a tick, so that a
 * failover loses no tick).
 */
function resolveTiming(
  options: JobSchedulerOptions,
): Pick<ResolvedSchedulerOptions, 'tickIntervalMs' | 'leaseMs' | 'catchUpWindowMs'> {
  const tickIntervalMs = checkNumber('tickIntervalMs', options.tickIntervalMs, {
    fallback: 1000,
    min: 1,
  });
  const leaseMs = checkNumber('leaseMs', options.leaseMs, { fallback: 15_000, min: 1, int: true });
  for (const [field, value] of [
    ['tickIntervalMs', tickIntervalMs],
    ['leaseMs', leaseMs],
  ] as const) {
    // Node fires a longer setTimeout after 1 ms, and the store caps a lease at this too.
    if (value > MAX_TIMER_MS) {
      throw new ConfigError(field, `must be at most ${MAX_TIMER_MS} ms, got ${value}`);
    }
  }
  if (leaseMs < 2 * tickIntervalMs) {
    throw new ConfigError(
      'leaseMs',
      `must be at least twice tickIntervalMs (${tickIntervalMs}), got ${leaseMs}`,
    );
  }
  const catchUpWindowMs = checkNumber('catchUpWindowMs', options.catchUpWindowMs, {
    fallback: 3_600_000,
    min: 0,
  });
  if (catchUpWindowMs < leaseMs + tickIntervalMs) {
    throw new ConfigError(
      'catchUpWindowMs',
      `must be at least leaseMs + tickIntervalMs (${leaseMs + tickIntervalMs}) so a failover loses no tick, got ${catchUpWindowMs}`,
    );
  }
  return { tickIntervalMs, leaseMs, catchUpWindowMs };
}

function defaultSchedulerId(): string {
  return `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
