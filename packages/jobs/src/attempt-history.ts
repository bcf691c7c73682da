import type { Job, LeaseRef, RunnerJobEvent, RunnerJobEventKind } from '@flowmonkey/core';
import type { DeferredEvent, JobWriteBatcher } from './job-write-batcher.js';

/**
 * One attempt's rows in its job's history (`started`, `timeout`), queued on the runner's
 * {@link JobWriteBatcher}: best effort, and each written before the attempt's outcome. The
 * `started` row is held back by the batcher until the end of the event loop's turn, so a
 * completion within that turn carries it (see {@link takeStarted}); anything else of the
 * attempt queues it first.
 */
export class AttemptHistory {
  readonly #batcher: JobWriteBatcher;
  readonly #job: Job;
  readonly #lease: LeaseRef;
  /**
   * The batcher's number of this attempt's last history row (`started`, `timeout`), 0 for
   * none: its outcome is written after it.
   */
  #lastEventSeq = 0;
  /** The `started` row while the batcher holds it back (see {@link takeStarted}). */
  #started: DeferredEvent | undefined;

  constructor(batcher: JobWriteBatcher, job: Job, lease: LeaseRef) {
    this.#batcher = batcher;
    this.#job = job;
    this.#lease = lease;
  }

  /** Has the batcher hold back the attempt's `started` row (data `{ runnerId }`). */
  start(): void {
    this.#started = this.#batcher.defer(this.#event('started', { runnerId: this.#job.runnerId }));
  }

  /**
   * Records `started` or `timeout` of this attempt in the job's history (best effort); its
   * outcome is written after it.
   */
  note(kind: Exclude<RunnerJobEventKind, 'lease-lost'>, data: Record<string, unknown>): void {
    this.queueStarted();
    const seq = this.#batcher.record(this.#event(kind, data));
    this.#lastEventSeq = Math.max(this.#lastEventSeq, seq);
  }

  /**
   * Resolves once every row of this attempt queued so far (and everything queued before
   * them) has been written or given up on; a row still held is not waited for.
   */
  written(): Promise<void> {
    return this.#batcher.writtenThrough(this.#lastEventSeq);
  }

  /**
   * The `started` row for the completion to carry, if the batcher still holds it (the
   * handler settled within the turn it started in): then it is written in the completion's
   * statement, not in one of its own. Else it is queued already, and the outcome waits.
   */
  takeStarted(): RunnerJobEvent[] {
    const event = this.#started && this.#batcher.take(this.#started);
    if (event === undefined) {
      this.queueStarted();
      return [];
    }
    this.#started = undefined;
    return [event];
  }

  /** Queues the `started` row now if it is held: anything else of the attempt follows it. */
  queueStarted(): void {
    const held = this.#started;
    if (held === undefined) return;
    this.#started = undefined;
    this.#lastEventSeq = Math.max(this.#lastEventSeq, this.#batcher.release(held));
  }

  #event(kind: RunnerJobEventKind, data: Record<string, unknown>): RunnerJobEvent {
    const { jobId, leaseId } = this.#lease;
    return { jobId, leaseId, kind, attempt: this.#job.attempts, data };
  }
}
