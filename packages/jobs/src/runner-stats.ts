import type { AttemptEnd } from './job-execution.js';

/** What `BasicJobRunner.stats()` reports. Counters are totals since the runner was created. */
export interface RunnerStats {
  runnerId: string;
  /** True between `start()` and the end of `stop()`. */
  running: boolean;
  /** Handlers running now, overdue ones included. */
  active: number;
  /**
   * Attempts whose handler has settled and whose outcome is being stored (for a step job,
   * also the inline steps that follow it), or whose hooks run after it: they hold no slot;
   * each is heartbeated until its write commits. With 1,000 of them waiting for the write,
   * the runner starts no more handlers until it catches up.
   */
  storing: number;
  /**
   * Handlers that ignored their abort (timeout, cancel, shutdown) for longer than
   * `cancelGraceMs`: their outcome is stored, but they still take a slot until they settle.
   */
  overdueCount: number;
  maxConcurrent: number;
  /** Jobs completed. */
  completed: number;
  /** Jobs failed for good. */
  failed: number;
  /** Failed attempts with another attempt scheduled. */
  retried: number;
  /** Jobs cancelled while running here. */
  cancelled: number;
  /** Jobs snoozed by a handler's `Result.wait` (no attempt spent). */
  snoozed: number;
  /** Jobs given back on shutdown (attempt refunded). */
  released: number;
  /**
   * Attempts whose lease was lost (result dropped), jobs whose lease was lost while they
   * waited in the prefetch buffer (never started) included: one per `job:lease-lost` event.
   */
  leaseLost: number;
  /** Attempts whose outcome could not be stored (the reaper resets them later). */
  storeErrors: number;
}

type Counters = Omit<
  RunnerStats,
  'runnerId' | 'running' | 'active' | 'storing' | 'overdueCount' | 'maxConcurrent'
>;

/** Tallies attempt ends for {@link RunnerStats}. */
export class RunnerStatsCounter {
  readonly #c: Counters = {
    completed: 0,
    failed: 0,
    retried: 0,
    cancelled: 0,
    snoozed: 0,
    released: 0,
    leaseLost: 0,
    storeErrors: 0,
  };

  /** Counts one attempt end. */
  count(end: AttemptEnd): void {
    const key: Record<AttemptEnd, keyof Counters> = {
      completed: 'completed',
      failed: 'failed',
      retrying: 'retried',
      cancelled: 'cancelled',
      snoozed: 'snoozed',
      released: 'released',
      'lease-lost': 'leaseLost',
      'store-error': 'storeErrors',
    };
    this.#c[key[end]]++;
  }

  /** A copy of the counters. */
  snapshot(): Counters {
    return { ...this.#c };
  }
}
