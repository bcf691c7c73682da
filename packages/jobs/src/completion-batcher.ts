import type { CompleteManyResult, JobStore, LeaseRef } from '@flowmonkey/core';
import { LeaseLostError } from '@flowmonkey/core';
import { GroupQueue } from './group-queue.js';

/** Most completions written by one `completeMany` call. */
const MAX_BATCH = 500;

interface Pending {
  item: LeaseRef & { result: unknown };
  resolve: (finishedAt: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit for job completions (a {@link GroupQueue}): completions requested while a
 * write is in flight are written together by one `completeMany` call, so N handlers
 * finishing together cost one round trip and one commit instead of N. Each caller still
 * gets its own outcome: `LeaseLostError` for a fenced-out lease, and if a batch fails as a
 * whole (say one result is not JSON) its items are retried one by one with `complete`, so
 * one bad item never fails the others.
 */
export class CompletionBatcher {
  readonly #store: JobStore;
  readonly #queue = new GroupQueue<Pending>((batch) => this.#write(batch), MAX_BATCH);

  /** Batches over `store.completeMany`; a store without it gets one `complete` per job. */
  constructor(store: JobStore) {
    this.#store = store;
  }

  /** Completes the job under its lease; resolves with the stored `finishedAt` (epoch ms). */
  complete(item: LeaseRef & { result: unknown }): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
    });
  }

  async #write(batch: Pending[]): Promise<void> {
    const many = this.#store.completeMany;
    if (many === undefined) {
      await Promise.all(batch.map((p) => this.#writeOne(p)));
      return;
    }
    let result: CompleteManyResult;
    try {
      result = await many.call(this.#store, { items: batch.map((p) => p.item) });
    } catch (error) {
      if (batch.length === 1) {
        batch[0]?.reject(error);
        return;
      }
      await Promise.all(batch.map((p) => this.#writeOne(p)));
      return;
    }
    const lost = new Set(result.lost);
    for (const p of batch) {
      if (lost.has(p.item.jobId)) p.reject(new LeaseLostError(p.item.jobId, p.item.leaseId));
      else p.resolve(result.finishedAt);
    }
  }

  async #writeOne(p: Pending): Promise<void> {
    try {
      const job = await this.#store.complete(p.item);
      p.resolve(job.finishedAt ?? job.updatedAt);
    } catch (error) {
      p.reject(error);
    }
  }
}
