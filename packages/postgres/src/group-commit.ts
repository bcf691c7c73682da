import { GroupQueue } from '@flowmonkey/core';

interface Pending<I, O> {
  item: I;
  resolve: (value: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: items added while a write is in flight are written together by the next
 * `writeMany` call (one round trip, one commit), and the first item after an idle spell is
 * written at once. No timer is involved: batches form only from writes in flight, so a lone
 * caller pays no added latency. When a batch fails as a whole its items are retried one by
 * one with `writeOne`, so each caller gets its own outcome (one bad item never fails the
 * others). `writeMany` must return one result per item, in order.
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
    } catch {
      await Promise.all(batch.map((p) => this.#writeOne(p.item).then(p.resolve, p.reject)));
    }
  }
}
