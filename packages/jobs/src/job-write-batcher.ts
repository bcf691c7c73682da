import type { JobStore, LeaseRef, Logger, RunnerJobEvent } from '@flowmonkey/core';
import { LeaseLostError } from '@flowmonkey/core';
import { GroupQueue } from './group-queue.js';

/** Most writes (completions plus events) handed to one store call. */
const MAX_BATCH = 500;

type Completion = LeaseRef & { result: unknown };

type Pending =
  | {
      kind: 'complete';
      item: Completion;
      resolve: (finishedAt: number) => void;
      reject: (error: unknown) => void;
    }
  | { kind: 'event'; event: RunnerJobEvent; done: () => void };

/**
 * Group commit (a {@link GroupQueue}) for the runner's frequent writes: plain-job
 * completions and the events only a runner sees (`started`, `timeout`, `lease-lost`).
 * Whatever was requested while a write was in flight goes in the next one, in order: one
 * `completeMany` carrying the queued events first, or one `recordEvents` when only events
 * wait. So N handlers finishing together cost one round trip and one commit, and an
 * attempt's `started` row, queued before its completion, is written before (or with) it.
 *
 * Each completion still gets its own outcome: `LeaseLostError` for a fenced-out lease; if a
 * batch fails as a whole (say one result is not JSON), its events are written on their own
 * and its completions one by one with `complete`, so one bad item never fails the others.
 * Events are best effort: one whose write fails is logged and lost, never failing a job. A
 * store that keeps no history (no `recordEvents`) gets no events.
 */
export class JobWriteBatcher {
  readonly #store: JobStore;
  readonly #logger: Logger;
  readonly #queue = new GroupQueue<Pending>((batch) => this.#write(batch), MAX_BATCH);

  constructor(store: JobStore, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /** Completes the job under its lease; resolves with the stored `finishedAt` (epoch ms). */
  complete(item: Completion): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ kind: 'complete', item, resolve, reject });
    });
  }

  /** Queues a runner event; resolves once its write settled (never rejects). */
  record(event: RunnerJobEvent): Promise<void> {
    if (this.#store.recordEvents === undefined) return Promise.resolve();
    return new Promise<void>((done) => this.#queue.push({ kind: 'event', event, done }));
  }

  /** Resolves once everything queued so far was written (or given up on). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  async #write(batch: Pending[]): Promise<void> {
    const events: RunnerJobEvent[] = [];
    const completions: Extract<Pending, { kind: 'complete' }>[] = [];
    const eventsDone: (() => void)[] = [];
    for (const p of batch) {
      if (p.kind === 'event') {
        events.push(p.event);
        eventsDone.push(p.done);
      } else {
        completions.push(p);
      }
    }
    const many = this.#store.completeMany;
    if (completions.length === 0 || many === undefined) {
      await this.#writeEvents(events, eventsDone);
      await Promise.all(completions.map((p) => this.#completeOne(p)));
      return;
    }
    let lost: Set<string>;
    let finishedAt: number;
    try {
      const items = completions.map((p) => p.item);
      const result = await many.call(
        this.#store,
        events.length > 0 ? { items, events } : { items },
      );
      for (const done of eventsDone) done();
      lost = new Set(result.lost);
      finishedAt = result.finishedAt;
    } catch (error) {
      await this.#writeEvents(events, eventsDone);
      const [only] = completions;
      if (completions.length === 1 && only !== undefined) only.reject(error);
      else await Promise.all(completions.map((p) => this.#completeOne(p)));
      return;
    }
    for (const p of completions) {
      if (lost.has(p.item.jobId)) p.reject(new LeaseLostError(p.item.jobId, p.item.leaseId));
      else p.resolve(finishedAt);
    }
  }

  async #writeEvents(events: RunnerJobEvent[], done: (() => void)[]): Promise<void> {
    if (events.length === 0) return;
    try {
      await this.#store.recordEvents?.({ events });
    } catch (error) {
      this.#logger.warn(
        { err: error, events: events.length },
        'could not record runner job events; they are missing from the job history',
      );
    } finally {
      for (const d of done) d();
    }
  }

  async #completeOne(p: Extract<Pending, { kind: 'complete' }>): Promise<void> {
    try {
      const job = await this.#store.complete(p.item);
      p.resolve(job.finishedAt ?? job.updatedAt);
    } catch (error) {
      p.reject(error);
    }
  }
}
