/**
 * Group commit: items pushed while a write is in flight (or in the same microtask turn) are
 * handed together to the next `writeBatch` call, at most `maxBatch` at a time, so N items
 * arriving together cost one round trip instead of N. Nothing waits on a timer: with no
 * write in flight the next item is written at once (and fake timers in tests never stall
 * it). `writeBatch` settles each item itself (its promise, its log line) and must not
 * reject.
 */
export class GroupQueue<T> {
  readonly #writeBatch: (batch: T[]) => Promise<void>;
  readonly #maxBatch: number;
  #queue: T[] = [];
  #flushing: Promise<void> | undefined;

  constructor(writeBatch: (batch: T[]) => Promise<void>, maxBatch: number) {
    this.#writeBatch = writeBatch;
    this.#maxBatch = maxBatch;
  }

  /** Queues `item` for the next write. */
  push(item: T): void {
    this.#queue.push(item);
    this.#flushing ??= this.#flush();
  }

  /** Resolves once every item pushed so far has been handed to a write that settled. */
  async idle(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
  }

  async #flush(): Promise<void> {
    try {
      // Items already queued as microtasks join the first write.
      await Promise.resolve();
      while (this.#queue.length > 0) {
        await this.#writeBatch(this.#queue.splice(0, this.#maxBatch));
      }
    } finally {
      this.#flushing = undefined;
    }
  }
}
