/**
 * A source of the current time in epoch milliseconds. Core reads time only through a
 * `Clock`, so tests drive time by hand instead of sleeping. (Stores backed by a
 * database use the database's clock for leases and schedules, not this one.)
 */
export interface Clock {
  /** Current time, in milliseconds since the Unix epoch. */
  now(): number;
}

/** The process clock (`Date.now()`). */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that moves only when told to. For tests. */
export class ManualClock implements Clock {
  #now: number;

  /** @param startMs initial time in epoch ms; defaults to 2026-01-01T00:00:00Z. */
  constructor(startMs: number = Date.UTC(2026, 0, 1)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.#now += ms;
  }

  /** Sets the clock to `ms` epoch milliseconds. */
  set(ms: number): void {
    this.#now = ms;
  }
}
