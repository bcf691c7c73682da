import { ValidationError } from '@flowmonkey/core';
import { CronExpressionParser } from 'cron-parser';

/**
 * How far ahead a cron expression must have a fire time to be accepted, in ms (30 years:
 * longer than the 28-year cycle of weekdays over dates, so rare but real dates such as the
 * fifth Monday of February, next in 2044, still pass).
 */
export const CRON_HORIZON_MS = 30 * 365.25 * 24 * 3_600_000;

/** Fire times at or past this (the year 10000) are treated as "no next fire". */
const MAX_FIRE_MS = Date.UTC(10000, 0, 1);

/** What {@link CronSchedule.parse} takes. */
export interface CronSpec {
  /** Five fields (minute first), six with seconds first, or an alias such as `@daily`. */
  cron: string;
  /** IANA time zone the fields are read in. @default 'UTC' */
  timezone?: string;
  /**
   * Seed for the `H` (hash) character, so every scheduler derives the same ticks for one
   * schedule; pass the schedule's name. @default the expression itself
   */
  seed?: string;
  /**
   * Epoch ms from which a fire time must exist within {@link CRON_HORIZON_MS}; an
   * expression with none (`0 0 30 2 *`) is refused. @default Date.now()
   */
  now?: number;
}

/**
 * A validated cron expression in a time zone, built on cron-parser 5. Fire times come
 * from cron-parser unchanged, including its daylight-saving behaviour (see
 * docs/scheduling.md): a wall-clock time inside a skipped hour fires an hour later, and a
 * daily time inside a repeated hour fires once, at its first occurrence.
 */
export class CronSchedule {
  /** The expression as given (trimmed). */
  readonly cron: string;
  /** The time zone as given. */
  readonly timezone: string;
  readonly #seed: string;

  private constructor(cron: string, timezone: string, seed: string) {
    this.cron = cron;
    this.timezone = timezone;
    this.#seed = seed;
  }

  /**
   * Parses and checks `spec`. Throws `ValidationError` naming `cron` (malformed, not five
   * or six fields, or no fire time within {@link CRON_HORIZON_MS}) or `timezone` (not a
   * time zone `Intl` knows).
   */
  static parse(spec: CronSpec): CronSchedule {
    const timezone = checkTimezone(spec.timezone ?? 'UTC');
    const cron = checkShape(spec.cron);
    const seed = spec.seed ?? cron;
    const now = spec.now ?? Date.now();
    try {
      CronExpressionParser.parse(cron, {
        tz: timezone,
        hashSeed: seed,
        currentDate: new Date(now),
      });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new ValidationError('cron', `"${cron}" is not a valid cron expression: ${reason}`, {
        cause: error,
      });
    }
    const schedule = new CronSchedule(cron, timezone, seed);
    if (schedule.nextAfter(now, now + CRON_HORIZON_MS) === null) {
      throw new ValidationError(
        'cron',
        `"${cron}" never fires: no fire time in the next 30 years (an impossible date?)`,
      );
    }
    return schedule;
  }

  /**
   * The first fire time strictly after `afterMs` (epoch ms), or `null` when there is none
   * before `untilMs` (default: {@link CRON_HORIZON_MS} after `afterMs`) or before the year
   * 10000.
   */
  nextAfter(afterMs: number, untilMs: number = afterMs + CRON_HORIZON_MS): number | null {
    for (const tick of this.ticks(afterMs, untilMs)) return tick;
    return null;
  }

  /**
   * The fire times strictly after `afterMs`, ascending, each computed from the one before
   * (so the daylight-saving behaviour is the sequence's, not a fresh start's), while before
   * `untilMs` (default: {@link CRON_HORIZON_MS} after `afterMs`) and the year 10000.
   */
  *ticks(afterMs: number, untilMs: number = afterMs + CRON_HORIZON_MS): Generator<number> {
    const end = Math.min(untilMs, MAX_FIRE_MS);
    if (!(afterMs < end)) return;
    const expression = CronExpressionParser.parse(this.cron, {
      tz: this.timezone,
      hashSeed: this.#seed,
      currentDate: new Date(afterMs),
      endDate: new Date(end),
    });
    for (;;) {
      let next: number;
      try {
        next = expression.next().getTime();
      } catch {
        // cron-parser throws "Out of the time span range" once no date is left before endDate.
        return;
      }
      if (next >= end) return;
      yield next;
    }
  }

  /** Up to `count` fire times strictly after `afterMs`, ascending. */
  fireTimes(afterMs: number, count: number): number[] {
    const out: number[] = [];
    if (count <= 0) return out;
    for (const tick of this.ticks(afterMs, MAX_FIRE_MS)) {
      out.push(tick);
      if (out.length >= count) break;
    }
    return out;
  }
}

/** Checks the field count: five, six (seconds first), or one `@alias`. */
function checkShape(cron: unknown): string {
  if (typeof cron !== 'string' || cron.trim() === '') {
    throw new ValidationError('cron', 'must be a non-empty cron expression string');
  }
  const trimmed = cron.trim();
  const fields = trimmed.split(/\s+/);
  if (fields.length === 1 && trimmed.startsWith('@')) return trimmed;
  if (fields.length !== 5 && fields.length !== 6) {
    throw new ValidationError(
      'cron',
      `"${trimmed}" has ${fields.length} fields; expected 5 (minute hour day month weekday) or 6 (seconds first)`,
    );
  }
  return fields.join(' ');
}

/** Checks that `Intl` (and so cron-parser, through Luxon) knows the IANA time zone. */
function checkTimezone(timezone: unknown): string {
  if (typeof timezone !== 'string' || timezone.trim() === '' || timezone.length > 64) {
    throw new ValidationError('timezone', 'must be an IANA time zone name such as Europe/London');
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch (error) {
    throw new ValidationError(
      'timezone',
      `unknown IANA time zone "${timezone}" (e.g. America/New_York, Europe/London, UTC)`,
      { cause: error },
    );
  }
  return timezone;
}
