import { CancelledError, ValidationError } from '@flowmonkey/core';

/**
 * The outcome of one item of `Job.batch()`, at the item's input index: `{ ok: true, value }`
 * with the typed result, or `{ ok: false, error }` with what it threw. With `stopOnError`,
 * items never started after a failure are `{ ok: false, error: CancelledError, skipped: true }`.
 */
export type BatchItemResult<T> =
  | { ok: true; value: T }
  | { ok: false; error: unknown; skipped?: boolean };

/** Options of {@link runBatch}. */
export interface RunBatchOptions {
  /** Most items running at once (integer >= 1). @default 3 */
  concurrency?: number;
  /** After the first failure start no more items and abort those in flight. @default false */
  stopOnError?: boolean;
  /** Aborts the whole batch: no more items start, running ones get an aborted signal. */
  signal?: AbortSignal;
}

/**
 * Runs `fn` over `items` with at most `concurrency` at once and returns one
 * {@link BatchItemResult} per item, in input order, whatever order they finish in. Throws
 * `ValidationError` naming `concurrency` for a bad value.
 */
export async function runBatch<I, T>(
  items: readonly I[],
  fn: (item: I, signal: AbortSignal) => Promise<T>,
  options: RunBatchOptions = {},
): Promise<BatchItemResult<T>[]> {
  const concurrency = options.concurrency ?? 3;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ValidationError('concurrency', 'must be an integer >= 1');
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const results: BatchItemResult<T>[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      if (controller.signal.aborted) {
        results[index] = { ok: false, error: skipped(controller.signal), skipped: true };
        continue;
      }
      try {
        results[index] = { ok: true, value: await fn(items[index] as I, controller.signal) };
      } catch (error) {
        results[index] = { ok: false, error };
        if (options.stopOnError === true) {
          controller.abort(new CancelledError('batch stopped: an earlier item failed'));
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  return results;
}

function skipped(signal: AbortSignal): unknown {
  return signal.reason ?? new CancelledError('batch aborted');
}
