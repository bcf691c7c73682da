import type { EventBus, JobStore, Logger } from '@flowmonkey/core';
import { ConfigError, MAX_TIMEOUT_MS } from '@flowmonkey/core';
import { defaultLogger } from './default-logger.js';
import type { JobEngine } from './job-engine.js';
import {
  checkKnownKeys,
  checkMethods,
  checkNumber,
  checkOptionsObject,
  LOGGER_METHODS,
} from './option-checks.js';

/** Options of `JobReaper`. Only `jobStore` is required. */
export interface JobReaperOptions {
  /** Where jobs live. */
  jobStore: JobStore;
  /**
   * The engine: a reaped job of an execution that fails for good resumes it with the
   * failure. Without it, such a job is reset while attempts remain, but a job that would
   * end for good (no attempt left, or cancellation requested) is left stalled, logged as
   * an error and counted as `skipped`, for a reaper with an engine.
   */
  engine?: JobEngine;
  /**
   * A running job whose last heartbeat is older than this, in ms, is stalled. Match the
   * runners' `leaseMs`. @default 60_000
   */
  stalledThresholdMs?: number;
  /** Pause between two sweeps, in ms. @default 30_000 */
  checkIntervalMs?: number;
  /** Jobs read per page; a sweep pages on until a short page. @default 100 */
  batchSize?: number;
  /** A pino (or compatible) logger. @default pino at `info`, silent under a test runner */
  logger?: Logger;
  /** Unused by the reaper itself; accepted so runner and reaper can share an options bag. */
  events?: EventBus;
}

/** {@link JobReaperOptions} with defaults filled in, frozen. */
export interface ResolvedReaperOptions {
  readonly jobStore: JobStore;
  readonly engine: JobEngine | undefined;
  readonly stalledThresholdMs: number;
  readonly checkIntervalMs: number;
  readonly batchSize: number;
  readonly logger: Logger;
}

const KNOWN = [
  'jobStore',
  'engine',
  'stalledThresholdMs',
  'checkIntervalMs',
  'batchSize',
  'logger',
  'events',
];

const RENAMED = {
  stalledThreshold: 'stalledThresholdMs',
  checkInterval: 'checkIntervalMs',
  maxRetries: 'the job’s maxAttempts (set when the job is created)',
  clock: 'createMemoryStores({ clock }) in tests (the reaper judges stalls in the store’s time)',
};

/**
 * Validates reaper options and fills defaults. Pure: returns a frozen object, or throws
 * `ConfigError` naming the field.
 */
export function resolveReaperOptions(options: JobReaperOptions): ResolvedReaperOptions {
  checkOptionsObject(options);
  checkKnownKeys(options, KNOWN, RENAMED);
  if (options.jobStore === undefined || options.jobStore === null) {
    throw new ConfigError('jobStore', 'is required');
  }
  checkMethods('jobStore', options.jobStore, ['findStalled', 'resetStalled']);
  if (options.engine !== undefined) checkMethods('engine', options.engine, ['resetStalledJob']);
  if (options.logger !== undefined) checkMethods('logger', options.logger, LOGGER_METHODS);
  if (options.events !== undefined) checkMethods('events', options.events, ['emit', 'on']);
  return Object.freeze({
    jobStore: options.jobStore,
    engine: options.engine,
    stalledThresholdMs: checkNumber('stalledThresholdMs', options.stalledThresholdMs, {
      fallback: 60_000,
      min: 1,
      max: MAX_TIMEOUT_MS,
    }),
    checkIntervalMs: checkNumber('checkIntervalMs', options.checkIntervalMs, {
      fallback: 30_000,
      min: 1,
      max: MAX_TIMEOUT_MS,
    }),
    batchSize: checkNumber('batchSize', options.batchSize, { fallback: 100, min: 1, int: true }),
    logger: options.logger ?? defaultLogger(),
  });
}
