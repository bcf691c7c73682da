import type { JobStore, Logger } from '@flowmonkey/core';
import { ConfigError } from '@flowmonkey/core';
import { defaultLogger } from './default-logger.js';
import { checkKnownKeys, checkNumber } from './option-checks.js';

/** One day in ms. */
const DAY_MS = 86_400_000;

/**
 * Options of `JobPruner`. Only `jobStore` is required. An age of `null` keeps jobs of that
 * status forever.
 */
export interface JobPrunerOptions {
  /** Where jobs live. */
  jobStore: JobStore;
  /** Completed jobs older than this (since they finished), in ms, are deleted. @default 86_400_000 (1 day) */
  completedMaxAgeMs?: number | null;
  /** Failed jobs (dead letters) older than this, in ms, are deleted. @default 604_800_000 (7 days) */
  failedMaxAgeMs?: number | null;
  /** Cancelled jobs older than this, in ms, are deleted. @default 86_400_000 (1 day) */
  cancelledMaxAgeMs?: number | null;
  /** Most jobs deleted per statement; a run pages on until a short page. @default 1000 */
  batchSize?: number;
  /** Pause between two runs, in ms. @default 300_000 (5 minutes) */
  intervalMs?: number;
  /** A pino (or compatible) logger. @default pino at `info`, silent under a test runner */
  logger?: Logger;
}

/** {@link JobPrunerOptions} with defaults filled in, frozen. */
export interface ResolvedPrunerOptions {
  readonly jobStore: JobStore;
  readonly completedMaxAgeMs: number | null;
  readonly failedMaxAgeMs: number | null;
  readonly cancelledMaxAgeMs: number | null;
  readonly batchSize: number;
  readonly intervalMs: number;
  readonly logger: Logger;
}

const KNOWN = [
  'jobStore',
  'completedMaxAgeMs',
  'failedMaxAgeMs',
  'cancelledMaxAgeMs',
  'batchSize',
  'intervalMs',
  'logger',
];

const RENAMED = {
  completedMaxAge: 'completedMaxAgeMs',
  failedMaxAge: 'failedMaxAgeMs',
  cancelledMaxAge: 'cancelledMaxAgeMs',
  interval: 'intervalMs',
  clock: 'the store’s clock (ages are judged in the store’s time: createMemoryStores({ clock }))',
};

/**
 * Validates pruner options and fills defaults. Pure: returns a frozen object, or throws
 * `ConfigError` naming the field.
 */
export function resolvePrunerOptions(options: JobPrunerOptions): ResolvedPrunerOptions {
  checkKnownKeys(options, KNOWN, RENAMED);
  if (options.jobStore === undefined || options.jobStore === null) {
    throw new ConfigError('jobStore', 'is required');
  }
  const age = (field: string, value: number | null | undefined, fallback: number) =>
    value === null ? null : checkNumber(field, value, { fallback, min: 0, int: true });
  return Object.freeze({
    jobStore: options.jobStore,
    completedMaxAgeMs: age('completedMaxAgeMs', options.completedMaxAgeMs, DAY_MS),
    failedMaxAgeMs: age('failedMaxAgeMs', options.failedMaxAgeMs, 7 * DAY_MS),
    cancelledMaxAgeMs: age('cancelledMaxAgeMs', options.cancelledMaxAgeMs, DAY_MS),
    batchSize: checkNumber('batchSize', options.batchSize, { fallback: 1000, min: 1, int: true }),
    intervalMs: checkNumber('intervalMs', options.intervalMs, { fallback: 300_000, min: 1 }),
    logger: options.logger ?? defaultLogger(),
  });
}
