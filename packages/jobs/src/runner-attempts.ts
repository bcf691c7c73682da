import type { JobExecution } from './job-execution.js';

/**
 * Most attempts a runner lets wait for the write of their outcome before it starts another
 * handler. Enough to fill the writer's batches (at most 500 writes each) several times
 * over; few enough that the waiting attempts, each keeping its whole state alive (about
 * 5 KB, against about 650 bytes for a buffered job), hold a few MB at most, and that a
 * crash loses few computed outcomes. Claimed jobs wait in the buffer instead.
 */
export const MAX_OUTCOMES_WAITING = 1000;

/**
 * A runner's attempts in flight, and the `maxConcurrent` slots their handlers hold. An
 * attempt is in flight from launch until its outcome is stored and its handler has
 * settled; heartbeats, cancellations and self-fencing go through it. Attempts, not job
 * ids: a job retried at once can be claimed again while its previous attempt finishes its
 * hooks. An attempt holds its slot from launch until its handler really settles (an
 * overdue one included), not until its outcome is stored, so the next handler runs while
 * the outcome is written with others in a batch. Iterates the attempts in flight.
 */
export class RunnerAttempts implements Iterable<JobExecution> {
  readonly #active = new Set<JobExecution>();
  readonly #slots = new Set<JobExecution>();
  /** Attempts whose handler has settled and whose outcome's write has not. */
  readonly #unwritten = new Set<JobExecution>();
  /** Waiting for the last attempt in flight to end ({@link whenNone}). */
  #idle: (() => void)[] = [];

  /** Attempts in flight. */
  get size(): number {
    return this.#active.size;
  }

  /** Attempts whose handler holds a slot: handlers running now, overdue ones included. */
  get running(): number {
    return this.#slots.size;
  }

  /** Attempts whose handler has settled and whose outcome is being stored (no slot held). */
  get storing(): number {
    return this.#active.size - this.#slots.size;
  }

  /**
   * True when another handler may start: a slot is free and fewer than
   * {@link MAX_OUTCOMES_WAITING} attempts wait for the write of their outcome (attempts
   * running their hooks, whose outcome is stored, do not count).
   */
  mayStart(maxConcurrent: number): boolean {
    return this.#slots.size < maxConcurrent && this.#unwritten.size < MAX_OUTCOMES_WAITING;
  }

  /** Attempts whose handler outlived its abort by more than `cancelGraceMs` and still runs. */
  overdueCount(): number {
    let overdue = 0;
    for (const e of this.#active) if (e.overdue) overdue++;
    return overdue;
  }

  [Symbol.iterator](): Iterator<JobExecution> {
    return this.#active.values();
  }

  /** Adds a launched attempt: in flight, its handler holding a slot. */
  add(execution: JobExecution): void {
    this.#active.add(execution);
    this.#slots.add(execution);
  }

  /** Frees the slot of `execution`'s handler; false when it held none (freed already). */
  freeSlot(execution: JobExecution): boolean {
    if (!this.#slots.delete(execution)) return false;
    if (!execution.written) this.#unwritten.add(execution);
    return true;
  }

  /**
   * Records that the write of `execution`'s outcome has settled; true when that took the
   * attempts waiting below {@link MAX_OUTCOMES_WAITING}, so a handler held back may start.
   */
  written(execution: JobExecution): boolean {
    const atCap = this.#unwritten.size >= MAX_OUTCOMES_WAITING;
    return (
      this.#unwritten.delete(execution) && atCap && this.#unwritten.size < MAX_OUTCOMES_WAITING
    );
  }

  /** Removes an attempt that has ended; the last one to end resolves {@link whenNone}. */
  finish(execution: JobExecution): void {
    this.#active.delete(execution);
    this.#unwritten.delete(execution);
    if (this.#active.size === 0) {
      const waiters = this.#idle;
      this.#idle = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** The attempt of `jobId` that holds its lease, if one is in flight. */
  holding(jobId: string): JobExecution | undefined {
    for (const e of this.#active) if (e.job.id === jobId && e.holdsLease) return e;
    return undefined;
  }

  /** Resolves when no attempt is in flight; at once if none is. */
  whenNone(): Promise<void> {
    if (this.#active.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.#idle.push(resolve));
  }
}
