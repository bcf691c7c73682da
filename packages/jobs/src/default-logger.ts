import type { Logger } from '@flowmonkey/core';
import { pino } from 'pino';

let shared: Logger | undefined;

/**
 * The logger runners and reapers use when none is given: one shared pino logger named
 * `flowmonkey-jobs` at level `info`, or `silent` under a test runner (`NODE_ENV=test` or
 * `VITEST` set), writing JSON lines to stdout.
 */
export function defaultLogger(): Logger {
  if (shared === undefined) {
    const quiet = process.env.NODE_ENV === 'test' || process.env.VITEST !== undefined;
    shared = pino({ name: 'flowmonkey-jobs', level: quiet ? 'silent' : 'info' });
  }
  return shared;
}
