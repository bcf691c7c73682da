import { assertInteger, assertTimestamp } from '@flowmonkey/core';
import pg from 'pg';

/** An injected `now` as a query parameter; `undefined` means database time. */
export function nowValue(now: number | undefined): Date | null {
  return now === undefined || now === null ? null : new Date(assertTimestamp(now, 'now'));
}

/** A `LIMIT` or `OFFSET` parameter: an integer from 0 to 100,000, else a `ValidationError`. */
export function limitValue(value: unknown, field = 'limit'): number {
  return assertInteger(value, field, { min: 0, max: 100_000 });
}

/**
 * True when a statement on `db` runs in a transaction of its own (on a pool), so that it may
 * commit lazily; false inside a caller's transaction, whose commit is the caller's to make.
 */
export function ownTransaction(db: unknown): boolean {
  return db instanceof pg.Pool;
}
