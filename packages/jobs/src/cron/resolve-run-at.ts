import { ValidationError } from '@flowmonkey/core';

/** First instant that is no longer valid: the year 10000. */
const MAX_RUN_AT_MS = Date.UTC(10000, 0, 1);

/** A point in time: a `Date`, epoch milliseconds, or an ISO 8601 string with an offset. */
export type TimeInput = Date | number | string;

/**
 * `YYYY-MM-DD`, optionally followed by `THH:MM[:SS[.fff]]` and then a required offset
 * (`Z` or `±HH:MM`); groups: year, month, day, hour, minute, second, fraction, offset.
 */
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Resolves when a one-off job runs, in epoch ms: `runAt` (a `Date`, epoch ms, or an ISO
 * 8601 string), or `now + delayMs`, or `now` when neither is given. A time in the past
 * runs at once. Throws `ValidationError` naming `runAt` or `delayMs` for: both given, a
 * negative / NaN / infinite number, a date before 1970 or from the year 10000 on, an
 * invalid `Date`, or a string that is not a real ISO 8601 date (`2026-02-30`), or is a
 * date-time without an offset (which would depend on the server's time zone).
 */
export function resolveRunAt(params: { runAt?: unknown; delayMs?: unknown }, now: number): number {
  const { runAt, delayMs } = params;
  if (runAt !== undefined && delayMs !== undefined) {
    throw new ValidationError('runAt', 'give either runAt or delayMs, not both');
  }
  if (delayMs !== undefined) {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new ValidationError('delayMs', `must be a finite number >= 0, got ${String(delayMs)}`);
    }
    return inRange(now + delayMs, 'delayMs');
  }
  if (runAt === undefined) return now;
  return inRange(toEpochMs(runAt), 'runAt');
}

function toEpochMs(value: unknown): number {
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return parseIsoInstant(value);
  throw new ValidationError('runAt', 'must be a Date, epoch milliseconds or an ISO 8601 string');
}

function inRange(ms: number, field: string): number {
  if (!Number.isFinite(ms)) {
    throw new ValidationError(field, `must be a valid point in time, got ${String(ms)}`);
  }
  if (ms < 0 || ms >= MAX_RUN_AT_MS) {
    throw new ValidationError(
      field,
      `must fall between 1970-01-01 and the end of the year 9999, got ${ms} ms`,
    );
  }
  return Math.floor(ms);
}

/** Parses a strict ISO 8601 instant; see {@link ISO_INSTANT}. */
function parseIsoInstant(text: string): number {
  const m = ISO_INSTANT.exec(text.trim());
  const fail = (why: string): never => {
    throw new ValidationError('runAt', `"${text}" is not a usable ISO 8601 time: ${why}`);
  };
  if (m === null) return fail('expected e.g. 2026-03-08T09:30:00Z');
  const [year, month, day, hour = 0, minute = 0, second = 0] = [1, 2, 3, 4, 5, 6].map((i) =>
    m[i] === undefined ? undefined : Number(m[i]),
  ) as [number, number, number, number?, number?, number?];
  const fraction = Number(`0.${m[7] ?? '0'}`);
  const offset = m[8];
  if (m[4] !== undefined && offset === undefined) {
    return fail('a date-time needs an offset (Z or ±HH:MM)');
  }
  if (year < 1970) return fail('before 1970');
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    return fail('no such date');
  }
  if (hour > 23 || minute > 59 || second > 59) return fail('no such time of day');
  const local = Date.UTC(year, month - 1, day, hour, minute, second) + fraction * 1000;
  return local - offsetMs(offset, fail);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function offsetMs(offset: string | undefined, fail: (why: string) => never): number {
  if (offset === undefined || offset.toUpperCase() === 'Z') return 0;
  const sign = offset.startsWith('-') ? -1 : 1;
  const digits = offset.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 23 || minutes > 59) return fail('no such offset');
  return sign * (hours * 60 + minutes) * 60_000;
}
