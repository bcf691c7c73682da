import type { JobStore, Logger, RunnerJobEvent } from '@flowmonkey/core';
import { GroupQueue } from './group-queue.js';

/** Most events written by one `recordEvents` call. */
const MAX_BATCH = 1000;

interface Pending {
  event: RunnerJobEvent;
  done: () => void;
}

/**
 * Writes the events only a runner can see (`started`, `timeout`, `lease-lost`) to the job
 * history through `JobStore.recordEvents`, group-committed (a {@link GroupQueue}): events
 * recorded while a write is in flight share the next one. Best effort: an event whose
 * write fails is logged and lost, and never fails the job (the job's own writes are fenced
 * and carry on). With a store that keeps no history (no `recordEvents`) nothing is written.
 */
export class JobEventRecorder {
  readonly #store: JobStore;
  readonly #logger: Logger;
  readonly #queue = new GroupQueue<Pending>((batch) => this.#write(batch), MAX_BATCH);

  constructor(store: JobStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /** Queues `event`; resolves once its write settled (never rejects). */
  record(event: RunnerJobEvent): Promise<void> {
    if (this.#store.recordEvents === undefined) return Promise.resolve();
    return new Promise<void>((done) => this.#queue.push({ event, done }));
  }

  /** Resolves once every event recorded so far was written (or given up on). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #write(batch: Pending[]): Promise<void> {
    try {
      await this.#store.recordEvents?.({ events: batch.map((p) => p.event) });
    } catch (error) {
      this.#logger.warn(
        { err: error, events: batch.length },
        'could not record runner job events; they are missing from the job history',
      );
    } finally {
      for (const p of batch) p.done();
    }
  }
}
