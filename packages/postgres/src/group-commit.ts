import { FlowMonkeyError, GroupQueue } from '@flowmonkey/core';
import { isPgError } from './map-pg-error.js';

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items added while a write is in flight are written together by the next
 * `writeMany` call (one round trip, one commit), and the first item after an idle spell is
 * written at once. No timer is involved: batches form only from writes in flight, so a lone
 * caller pays no added latency. When a batch fails in a way that proves nothing of it was
 * written (see `wroteNothing`) its items are retried one by one with `writeOne`, so each
 * caller gets its own outcome (one bad item never fails the others); any other failure (a
 * connection lost with the statement in flight, which may have committed) is every
 * item's, as it would be for a single write. `writeMany` must return one result per item,
 * in order, and do nothing after its statement that can fail: a read it needs afterwards
 * belongs to the caller, after `add` resolves.
 */
export class GroupCommit<I, O> {
  readonly #writeMany: (items: I[]) => Promise<O[]>;
  readonly #writeOne: (item: I) => Promise<O>;
  readonly #queue: GroupQueue<Pending<I, O>>;

  constructor(options: {
    writeMany: (items: I[]) => Promise<O[]>;
    writeOne: (item: I) => Promise<O>;
    /** Most items per `writeMany` call. @default 1000 */
    maxBatch?: number;
  }) {
    this.#writeMany = options.writeMany;
    this.#writeOne = options.writeOne;
    this.#queue = new GroupQueue((batch) => this.#write(batch), options.maxBatch ?? 1000);
  }

  /** Writes `item` with whatever else is waiting; resolves with its own result. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
    });
  }

  async #write(batch: Pending<I, O>[]): Promise<void> {
    const [only] = batch;
    if (batch.length === 1 && only !== undefined) {
      await this.#writeOne(only.item).then(only.resolve, only.reject);
      return;
    }
    try {
      const results = await this.#writeMany(batch.map((p) => p.item));
      batch.forEach((p, i) => {
        p.resolve(results[i] as O);
      });
    } catch (error) {
      if (!wroteNothing(error)) {
        for (const p of batch) p.reject(error);
        return;
      }
      await Promise.all(batch.map((p) => this.#writeOne(p.item).then(p.resolve, p.reject)));
    }
  }
}

/**
 * True when a failed `writeMany` wrote nothing: it refused the batch before sending it
 * (a typed error), or the server answered its statement with an error (a failed
 * statement commits nothing). Not for an error without an answer (a lost connection).
 */
function wroteNothing(error: unknown): boolean {
  return error instanceof FlowMonkeyError || isPgError(error);
}
